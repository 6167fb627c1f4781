"""stagehunt: hunt data staging (ATT&CK T1074) and run Splunk SPL on DuckDB."""

__version__ = "0.1.0"
