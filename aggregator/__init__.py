"""The wattbit Django project package: settings, URLs, the Celery app and the clearing cycle."""
