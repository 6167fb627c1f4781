"""`stagehunt ui`: the search page (docs/ui.md)."""
