"""Models of the Usage analytics app."""
