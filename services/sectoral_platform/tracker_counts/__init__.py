"""Tracker events rolled up into aggregate data values for national analytics."""
