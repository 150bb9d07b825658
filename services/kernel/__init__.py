"""Shared kernel: settings, database, errors, tracing, logs and HTTP clients."""
