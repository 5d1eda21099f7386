"""The wattbit Django project package: settings, URLs, the Celery app and the clearing cycle."""

from aggregator.celery import app as celery_app

__all__ = ["celery_app"]
