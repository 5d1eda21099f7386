"""The audit chain in the admin: readable, never editable."""

from django.contrib import admin

from aggregator.platform.admin_readonly import ReadOnlyAdmin
from aggregator.platform.models import AuditEvent


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
