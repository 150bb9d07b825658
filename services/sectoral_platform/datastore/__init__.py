"""DHIS2 dataStore and userDataStore: JSON values by namespace and key, for apps."""
