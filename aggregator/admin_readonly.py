"""The admin base for records the exchange only appends to (audit chain, ledger, cleared
bids, meter readings): the market operator reads them there and changes nothing."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
