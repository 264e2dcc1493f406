"""Gatehouse configuration package: settings per environment, URLs, WSGI/ASGI and Celery."""

from settings.celery import app as celery_app

__all__ = ["celery_app"]
