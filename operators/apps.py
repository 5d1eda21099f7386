"""The operators app."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OperatorsConfig(AppConfig):
    name = "operators"
    verbose_name = _("Participants")

    def ready(self) -> None:
        from operators import login_audit  # noqa: F401 — audits django-axes lockouts
