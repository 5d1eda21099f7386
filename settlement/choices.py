"""Enumerations of the settlement app, in one place."""

from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReadingKind(models.TextChoices):
    COMPUTE = "compute", _("CU delivered to a workload at a site (provider)")
    SITE_ENERGY = "site_energy", _("kWh consumed by a site (provider)")
    SUPPLY = "supply", _("kWh delivered from an energy offer (supplier)")


class AccountKind(models.TextChoices):
    # Per organisation: what it owes the exchange, and what the exchange owes it.
    RECEIVABLE = "receivable", _("Receivable (the organisation owes)")
    PAYABLE = "payable", _("Payable (owed to the organisation)")
    # Market accounts of the exchange itself.
    CLEARING = "clearing", _("Market clearing")
    FEE_REVENUE = "fee_revenue", _("Market fee revenue")
    CONGESTION_RENT = "congestion_rent", _("Congestion rent")
    UPLIFT = "uplift", _("Uplift")
    DEVIATION = "deviation", _("Deviation charges")
    ROUNDING = "rounding", _("Rounding")


ORGANISATION_ACCOUNT_KINDS = (AccountKind.RECEIVABLE, AccountKind.PAYABLE)


class Stage(models.TextChoices):
    PROVISIONAL = "provisional", _("Provisional (on ordered amounts)")
    FINAL = "final", _("Final (on meter data)")


class EntryKind(models.TextChoices):
    SETTLEMENT = "settlement", _("Settlement")
    REVERSAL = "reversal", _("Reversal")


class Component(models.TextChoices):
    """What a posting is for; statement and invoice lines group by it."""

    COMPUTE_ENERGY = "compute_energy", _("Compute and energy (all-in price)")
    MARKET_FEE = "market_fee", _("Market fee")
    COMPUTE = "compute", _("Compute (hosting)")
    GRID_PASS_THROUGH = "grid_pass_through", _("Grid energy pass-through")
    ENERGY_SUPPLY = "energy_supply", _("Energy supplied")
    CONGESTION_RENT = "congestion_rent", _("Congestion rent")
    DEVIATION = "deviation", _("Deviation charge")
    UPLIFT = "uplift", _("Uplift payment")
    ROUNDING = "rounding", _("Rounding residue")


class SettlementAudit(StrEnum):
    """Audit event codes of settlement (stored and hashed: values never change)."""

    METER_REPORTED = "settlement.meter.reported"
    INTERVAL_SETTLED = "settlement.interval.settled"
    INTERVAL_CORRECTED = "settlement.interval.corrected"
    PARAMETERS_CHANGED = "settlement.parameters.changed"
    REPORT_READ = "settlement.report.read"
    LEDGER_REKEYED = "settlement.ledger.rekeyed"
