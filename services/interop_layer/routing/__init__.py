"""The r1 routing hot path: authenticate, authorise, forward, answer with X-Road headers."""
