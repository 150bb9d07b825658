"""Events out (an outbox drained to the mediator) and civil registration events in."""
