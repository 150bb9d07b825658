"""Members and subsystems: who may call the mediator, and with which credential."""
