"""Tests of the sectoral platform (DHIS2 Web API subset)."""
