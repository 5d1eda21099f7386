"""Serve the exchange and tick the interval cycle in-process (the embedded default's beat)."""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from aggregator.tasks import clear_due_intervals, flag_unacknowledged_orders, push_due_deliveries

logger = logging.getLogger("wattbit.beat")


def _tick_forever(stop: threading.Event, every_s: float) -> None:
    """What Celery beat + a worker do in production, on a timer in this process."""
    while not stop.wait(every_s):
        try:
            due = clear_due_intervals.apply().get()
            pushed = push_due_deliveries.apply().get()
            flagged = flag_unacknowledged_orders.apply().get()
            if due or pushed.get("attempted") or flagged:
                logger.info("tick: cleared %s, pushes %s, flagged %s", due, pushed, flagged)
        except Exception:  # a failed tick must not stop the clock; the run records its error
            logger.exception("in-process beat tick failed")
        finally:
            close_old_connections()


class Command(BaseCommand):
    help = "Run the web server with the clearing cycle ticking in-process (no Redis needed)."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument("--tick", type=float, default=15.0, help="seconds between ticks")

    def handle(self, *args, addrport: str, tick: float, **options):
        if not settings.CELERY_TASK_ALWAYS_EAGER:
            raise CommandError(
                "REDIS_URL is set: run celery worker and celery beat instead (see deploy/)."
            )
        stop = threading.Event()
        thread = threading.Thread(target=_tick_forever, args=(stop, tick), daemon=True)
        thread.start()
        self.stdout.write(f"in-process beat: clearing due intervals every {tick:.0f} s")
        try:
            call_command("runserver", addrport, use_reloader=False)
        finally:
            stop.set()
