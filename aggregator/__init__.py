"""The wattbit Django project package, in layers (docs/architecture.md):

- the project itself: settings, URLs (the one place that composes every layer), the Celery
  app, WSGI/ASGI;
- `aggregator.platform`: what every app may import — errors, the audit chain, the API base,
  the portal shell, canonical JSON, public ids; it imports no app;
- `aggregator.engine`: the clearing engine, pure Python + numpy + solvers, no Django;
- `aggregator.exchange`: the roof — the interval cycle, its tasks, replay, the dashboard, the
  demo and the commands that run the market; no app imports it.
"""

from aggregator.celery import app as celery_app

__all__ = ["celery_app"]
