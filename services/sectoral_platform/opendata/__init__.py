"""opendata: aggregate publications with small-cell suppression, readable without credentials."""
