"""DHIS2 Route API (`/api/routes`): calls to external services with server-held credentials."""
