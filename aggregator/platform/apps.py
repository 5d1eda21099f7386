"""The platform's Django app. Its label stays `aggregator`: the audit tables, their
migrations and every stored reference (`aggregator_auditevent`, migration `aggregator 0003`)
keep the names they had before the platform moved into aggregator/platform/."""

from django.apps import AppConfig


class PlatformConfig(AppConfig):
    name = "aggregator.platform"
    label = "aggregator"
    verbose_name = "Aggregator"

    def ready(self) -> None:
        from aggregator.platform import (
            checks,  # noqa: F401 (registers the system checks)
            request_id,  # noqa: F401 (connects the task signals)
        )
