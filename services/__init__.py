"""The sandbox's services: one package per DPI component, plus the shared kernel."""
