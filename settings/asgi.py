"""ASGI entry point (kept for completeness; WSGI measured faster for this workload)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.dev")

application = get_asgi_application()
