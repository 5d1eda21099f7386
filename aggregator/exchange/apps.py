"""The exchange's Django app: its management commands, templates and pages. No models."""

from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "aggregator.exchange"
    label = "exchange"
    verbose_name = "Exchange"
