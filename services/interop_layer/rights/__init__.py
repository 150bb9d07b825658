"""Access rights: deny by default, grants per client subsystem and service."""
