"""spl package."""
