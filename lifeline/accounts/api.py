"""API routes of the Sign-in and security app (the shared router is in lifeline/api_urls.py)."""

from rest_framework.routers import SimpleRouter

router = SimpleRouter()
