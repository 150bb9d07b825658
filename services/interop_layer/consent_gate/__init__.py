"""Subject token exchange and consent decisions, asked before forwarding."""
