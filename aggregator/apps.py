"""The aggregator app: the audit chain and (later) the clearing cycle."""

from django.apps import AppConfig


class AggregatorConfig(AppConfig):
    name = "aggregator"
    verbose_name = "Aggregator"

    def ready(self) -> None:
        from aggregator import checks  # noqa: F401 (registers the system checks)
