"""API routes of the Usage analytics app (the shared router in lifeline/api_urls.py)."""

from rest_framework.routers import SimpleRouter

router = SimpleRouter()
