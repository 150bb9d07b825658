"""Tamper-evident message log: one hash-chained, signed record per exchange."""
