"""Interoperability layer."""
