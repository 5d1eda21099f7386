"""Read-only admin of the VTN's rows; the toolkit's own admin pages are taken down, so that
OAuth2 clients are created only by `manage.py openadr_client` (audited, secret shown once)."""

from django.contrib import admin

from aggregator.openadr.models import (
    Notification,
    Report,
    Subscription,
    Ven,
    VenClient,
    VenResource,
)
from aggregator.platform.admin_readonly import ReadOnlyAdmin

# oauth2_provider comes before this app in INSTALLED_APPS, so its admin is registered.
for model in [m for m in admin.site._registry if m._meta.app_label == "oauth2_provider"]:
    admin.site.unregister(model)

for model in (VenClient, Ven, VenResource, Subscription, Notification, Report):
    admin.site.register(model, ReadOnlyAdmin)
