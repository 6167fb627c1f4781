"""Reference (oracle) implementations used by the property tests."""
