"""The audit chain in the admin: readable, never editable."""

from django.contrib import admin

from aggregator.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
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

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
