"""Service catalogue: what each provider subsystem offers, and the X-Road metaservices."""
