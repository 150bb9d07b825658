"""Sectoral platform (health)."""
