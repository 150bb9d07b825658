"""vids."""
