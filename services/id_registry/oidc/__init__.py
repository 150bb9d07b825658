"""OpenID Connect provider in MOSIP eSignet's shape, on top of the IDA checks."""
