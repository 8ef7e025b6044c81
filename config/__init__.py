"""The Django project: settings, root URLs, the Celery app, WSGI/ASGI and the beat schedules.

It stands above every app (docs/architecture.md): it may import any of them, none imports it.
"""

from .celery import app as celery_app

__all__ = ("celery_app",)
