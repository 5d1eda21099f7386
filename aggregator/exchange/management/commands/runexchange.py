"""Serve the exchange and tick the interval cycle in-process (the embedded default's beat)."""

from __future__ import annotations

import logging
import threading

from celery import current_app
from celery.schedules import maybe_schedule
from celery.schedules import schedule as every
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

logger = logging.getLogger("wattbit.beat")


def _tick_forever(stop: threading.Event) -> None:
    """Run CELERY_BEAT_SCHEDULE in this process: what beat + a worker do in production."""
    # A worker imports every app's tasks module at start; do the same here.
    current_app.loader.import_default_modules()
    entries = dict(settings.CELERY_BEAT_SCHEDULE)
    schedules = {
        name: maybe_schedule(e["schedule"], app=current_app) for name, e in entries.items()
    }
    started = current_app.now()
    # Every-N-seconds entries tick at once; calendar entries (crontab) wait for their time.
    last_run = {
        name: None if type(sched) is every else started for name, sched in schedules.items()
    }
    while not stop.wait(1.0):
        for name, entry in entries.items():
            if last_run[name] is not None and not schedules[name].is_due(last_run[name])[0]:
                continue
            last_run[name] = current_app.now()
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
