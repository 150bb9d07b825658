"""identities."""
