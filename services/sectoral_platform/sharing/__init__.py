"""Provider services other sectors reach through the mediator."""
