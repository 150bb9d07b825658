"""Shared registries."""
