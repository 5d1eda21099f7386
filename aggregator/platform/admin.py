"""The audit chain and the integrity checks' verdicts in the admin: readable, never editable."""

from django.contrib import admin

from aggregator.platform.admin_readonly import ReadOnlyAdmin
from aggregator.platform.models import AuditEvent, IntegrityCheckResult


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = [
        "seq",
        "created_at",
        "code",
        "actor_label",
        "organisation",
        "object_type",
        "object_id",
    ]
    list_filter = ["code"]
    search_fields = ["code", "object_id", "actor_label"]


@admin.register(IntegrityCheckResult)
class IntegrityCheckResultAdmin(ReadOnlyAdmin):
    """The last verdict of each check, with what a failed one found (docs/operations.md)."""

    list_display = ["name", "ok", "checked_at", "detail"]
