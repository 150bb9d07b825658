"""DHIS2 tracker: tracked entities, enrollments and events."""
