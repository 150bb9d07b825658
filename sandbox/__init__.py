"""Tooling around the services: the `dpi` CLI, the embedded launcher and generators."""
