"""The admin base for records the admin must not change: rows the exchange only appends to
(audit chain, ledger, cleared bids, meter readings), and rows that change only through a
service that validates the change and audits it (participants, parameters, signals). The
market operator reads them there; changes go through the portal or the API."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
