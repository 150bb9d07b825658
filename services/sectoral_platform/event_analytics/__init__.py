"""Event and enrollment analytics, and program indicators."""
