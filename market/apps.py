"""The market app."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketConfig(AppConfig):
    name = "market"
    verbose_name = _("Market")

    def ready(self) -> None:
        # Registers the market's rule on site capacity with operators (live offers fit).
        from market.services import capacity  # noqa: F401
