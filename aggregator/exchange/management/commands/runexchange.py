"""Serve the exchange and tick the interval cycle in-process (the embedded default's beat)."""

from __future__ import annotations

import logging
import threading
import time

from celery import current_app
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

logger = logging.getLogger("wattbit.beat")


def _tick_forever(stop: threading.Event) -> None:
    """Run CELERY_BEAT_SCHEDULE in this process: what beat + a worker do in production."""
    # A worker imports every app's tasks module at start; do the same here.
    current_app.loader.import_default_modules()
    schedule = dict(settings.CELERY_BEAT_SCHEDULE)
    last_run: dict[str, float] = {}
    while not stop.wait(1.0):
        now = time.monotonic()
        for name, entry in schedule.items():
            period = float(entry["schedule"])
            if now - last_run.get(name, 0.0) < period:
                continue
            last_run[name] = now
            try:
                result = current_app.tasks[entry["task"]].apply().get()
                if result:
                    logger.info("beat %s: %s", name, result)
            except Exception:  # a failed tick must not stop the clock; runs record errors
                logger.exception("in-process beat: %s failed", name)
            finally:
                close_old_connections()


class Command(BaseCommand):
    help = "Run the web server with the Celery beat schedule ticking in-process (no Redis)."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args, addrport: str, **options):
        if not settings.CELERY_TASK_ALWAYS_EAGER:
            raise CommandError(
                "REDIS_URL is set: run celery worker and celery beat instead (see deploy/)."
            )
        stop = threading.Event()
        thread = threading.Thread(target=_tick_forever, args=(stop,), daemon=True)
        thread.start()
        names = ", ".join(settings.CELERY_BEAT_SCHEDULE)
        self.stdout.write(f"in-process beat: {names}")
        try:
            call_command("runserver", addrport, use_reloader=False)
        finally:
            stop.set()
