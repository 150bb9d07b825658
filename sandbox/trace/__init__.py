"""Traces of scenario runs: the mediator's message log joined on the run's trace ids."""
