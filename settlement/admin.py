"""Django admin for settlement, read-only.

Ledger rows and meter readings are append-only; settlement parameters change on the
portal's *Settlement parameters* page (validated and audited). The admin changes nothing.
"""

from django.contrib import admin

from aggregator.platform.admin_readonly import ReadOnlyAdmin
from settlement.models import MeterReading, SettlementParameters
from settlement.models.ledger import Account, IntervalSettlement, JournalEntry, Posting


@admin.register(SettlementParameters)
class SettlementParametersAdmin(ReadOnlyAdmin):
    list_display = [
        "market_fee_jpy_per_cu_h", "deviation_multiplier", "metering_deadline_hours",
        "metering_tolerance_pct", "consumption_tax_rate", "updated_at",
    ]  # fmt: skip


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["code", "kind", "organisation"]
    list_filter = ["kind"]


class PostingInline(admin.TabularInline):
    model = Posting
    extra = 0
    can_delete = False
    fields = ["account", "component", "amount_jpy", "quantity", "unit", "unit_price", "memo"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ["id", "interval_start", "kind", "stage", "order", "reason", "created_at"]
    list_filter = ["kind", "stage"]
    inlines = [PostingInline]


@admin.register(IntervalSettlement)
class IntervalSettlementAdmin(ReadOnlyAdmin):
    list_display = ["interval_start", "state", "items", "provisional_items", "settled_at"]
    list_filter = ["state"]


@admin.register(MeterReading)
class MeterReadingAdmin(ReadOnlyAdmin):
    list_display = ["interval_start", "subject", "revision", "cu", "kwh", "late", "organisation"]
    list_filter = ["kind", "late"]
