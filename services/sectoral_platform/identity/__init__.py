"""Registration with the national ID system, keeping only the sector token (PSUT)."""
