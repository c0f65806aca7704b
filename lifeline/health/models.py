"""Models of the Access health app."""
