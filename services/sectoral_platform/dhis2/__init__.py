"""DHIS2 conventions every feature shares: UIDs, path forms, fast JSON responses, timestamps."""
