"""National digital ID."""
