"""Partner-specific user tokens (PSUTs): issuing, finding the person behind one, exchanging."""
