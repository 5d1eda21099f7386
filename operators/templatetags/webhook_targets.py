"""Whether webhook pushes may reach private targets (the demo's setting), for templates."""

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def webhook_private_targets_allowed() -> bool:
    return bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE_TARGETS", False))
