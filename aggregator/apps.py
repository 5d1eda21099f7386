"""The aggregator app: the audit chain and (later) the clearing cycle."""

from django.apps import AppConfig


class AggregatorConfig(AppConfig):
    name = "aggregator"
    verbose_name = "Aggregator"
