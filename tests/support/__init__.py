"""Test support shared by the services' tests."""
