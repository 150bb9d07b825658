"""Cross-cutting DHIS2 conventions: WebMessage errors, path forms, query parameters."""
