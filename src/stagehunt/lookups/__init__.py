"""CSV lookups: tables in a folder the user names, configured like ``transforms.conf``."""

from stagehunt.lookups.library import LookupError_, LookupLibrary, LookupTable

__all__ = ["LookupError_", "LookupLibrary", "LookupTable"]
