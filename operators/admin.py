"""Django admin for the market operator: participants and reference data, read-only.

Every change to these rows goes through a service that validates it and records it on the
audit chain (operators.services, the portal's pages); an admin form would save the row
directly and skip both (e.g. a webhook URL pointing at 169.254.169.254). Onboarding is the
portal's *Participants* page; organisations, members, sites, keys and webhooks are changed
by their owners in the portal or the API.
"""

from django.contrib import admin
from django.contrib.auth.models import User

from aggregator.platform.admin_readonly import ReadOnlyAdmin
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
class GridAreaAdmin(ReadOnlyAdmin):
    list_display = ["code", "name_en", "name_ja", "jepx_order"]


@admin.register(DemandZone)
class DemandZoneAdmin(ReadOnlyAdmin):
    list_display = ["code", "name_en", "name_ja", "area"]


@admin.register(Organisation)
class OrganisationAdmin(ReadOnlyAdmin):
    list_display = ["slug", "legal_name_en", "legal_name_ja", "roles", "is_active"]
    search_fields = ["slug", "legal_name_en", "legal_name_ja"]


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ["user", "organisation", "role"]
    list_filter = ["role", "organisation"]


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
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


@admin.register(Site)
class SiteAdmin(ReadOnlyAdmin):
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
class WebhookEndpointAdmin(ReadOnlyAdmin):
    list_display = ["url", "organisation", "is_active", "created_at"]
    exclude = ["secret_encrypted", "previous_secret_encrypted"]


# Users are members' logins: who may log in, with which password and staff rights. Changing
# them in the admin would skip the member services and the audit chain like the rows above.
# (Passwords are reset through Django's own reset flow; members are managed in the portal.)
admin.site.unregister(User)


@admin.register(User)
class ReadOnlyUserAdmin(ReadOnlyAdmin):
    list_display = ["username", "email", "is_active", "is_staff", "last_login"]
    search_fields = ["username", "email"]
    exclude = ["password"]
