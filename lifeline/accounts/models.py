"""Models of the Sign-in and security app."""
