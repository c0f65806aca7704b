"""Models of the Document delivery app."""
