"""API routes of the Emergency plans app, registered on the shared router in lifeline/api_urls.py."""

from rest_framework.routers import SimpleRouter

router = SimpleRouter()
