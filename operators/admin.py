"""Django admin for the market operator: onboarding and reference data, read-mostly."""

from django.contrib import admin

from operators.models import (
    ApiKey,
    DemandZone,
    GridArea,
    Membership,
    Organisation,
    Site,
    WebhookEndpoint,
)


@admin.register(GridArea)
class GridAreaAdmin(admin.ModelAdmin):
    list_display = ["code", "name_en", "name_ja", "jepx_order"]


@admin.register(DemandZone)
class DemandZoneAdmin(admin.ModelAdmin):
    list_display = ["code", "name_en", "name_ja", "area"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["slug", "legal_name_en", "legal_name_ja", "roles", "is_active"]
    search_fields = ["slug", "legal_name_en", "legal_name_ja"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organisation", "role"]
    list_filter = ["role", "organisation"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    # The hash is never shown or editable; keys are created through the service only.
    list_display = [
        "prefix",
        "name",
        "organisation",
        "scopes",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    readonly_fields = [
        "organisation",
        "name",
        "prefix",
        "scopes",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    exclude = ["secret_sha256"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "organisation",
        "area",
        "accelerator",
        "capacity_cu",
        "pue",
        "is_active",
    ]
    list_filter = ["area", "accelerator"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "organisation", "is_active", "created_at"]
    exclude = ["secret_encrypted"]
    readonly_fields = ["secret_prefix"]

    def has_add_permission(self, request) -> bool:
        return False
