"""Boundaries that hold: regression tests for each leak, tampering case and hostile input."""
