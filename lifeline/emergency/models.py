"""Models of the Emergency plans app."""
