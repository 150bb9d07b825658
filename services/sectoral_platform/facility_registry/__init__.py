"""Org units kept in sync with the shared facility registry."""
