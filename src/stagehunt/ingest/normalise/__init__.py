"""Normalisers: source-specific fields → the field names Splunk's add-ons give.

The mappings themselves are data (``ingest/mappings/*.json``); these modules only apply
them.
"""
