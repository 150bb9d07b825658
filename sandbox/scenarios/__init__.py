"""Scenarios: runnable narratives of the DPI patterns, checked against the real services."""
