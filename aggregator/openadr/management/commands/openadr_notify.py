"""`manage.py openadr_notify`: send the notifications subscriptions are owed now (what the
beat task `openadr.tasks.push_notifications` does every 10 s)."""

from django.core.management.base import BaseCommand

from aggregator.openadr.services.subscriptions import notifications_push_due


class Command(BaseCommand):
    help = "Notify OpenADR subscriptions of new dispatch-order events (once)."

    def handle(self, *args, **options):
        summary = notifications_push_due()
        self.stdout.write(f"delivered {summary['delivered']} failed {summary['failed']}")
