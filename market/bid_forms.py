"""Portal bid forms: typed fields and spreadsheet-friendly profiles → the API's bid payload.

The forms only parse; what is allowed is decided by the same validation the API uses.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from market import calendar
from market.choices import BidType, WorkloadKind
from operators.choices import Accelerator, ResidencyTag
from operators.forms import LocalisedChoiceField
from operators.models import DemandZone, GridArea, Site

_SEPARATORS = re.compile(r"[\s,;]+")


def parse_profile(text: str) -> list[str]:
    """Values pasted from a spreadsheet column or row: tabs, newlines, commas or spaces."""
    return [v for v in _SEPARATORS.split(text.strip()) if v]


class ProfileField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 2, "class": "profile"})

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "help_text",
            _("One value per interval, or one value for all; paste a spreadsheet column."),
        )
        super().__init__(**kwargs)


class BidFormBase(forms.Form):
    start = forms.DateTimeField(
        label=_("First interval (JST)"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": 1800}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    intervals = forms.IntegerField(label=_("Number of 30-minute intervals"), min_value=1)

    bid_type: str = ""
    profile_fields: tuple[str, ...] = ()

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor

    def payload(self) -> dict[str, Any]:
        """The same dict the REST API takes; profiles expanded to one value per interval."""
        data = dict(self.cleaned_data)
        start: datetime = data.pop("start")
        data["start"] = calendar.iso_z(start.replace(tzinfo=calendar.JST))
        n = data["intervals"]
        for name in self.profile_fields:
            values = parse_profile(data.get(name) or "")
            if not values:
                data.pop(name, None)
                continue
            data[name] = values * n if len(values) == 1 else values
        return {k: v for k, v in data.items() if v not in (None, "", [])}

    def fieldsets(self) -> list[dict[str, Any]]:
        """The form's fields in groups; a group of another kind than the chosen one is
        hidden and disabled, so its inputs are neither seen nor sent."""
        return [{"legend": _("Bid"), "kind": "", "fields": list(self), "hidden": False}]

    def preview(self) -> list[dict[str, Any]]:
        """Rows of the parsed profiles per interval, to show what will be submitted."""
        if not self.is_bound or not self.is_valid():
            return []
        payload = self.payload()
        start = calendar.parse_iso(payload["start"])
        rows = []
        for i in range(min(payload["intervals"], 96)):
            row = {"at": start + i * calendar.INTERVAL, "values": []}
            for name in self.profile_fields:
                values = payload.get(name) or []
                row["values"].append(values[i] if i < len(values) else "—")
            rows.append(row)
        return rows


class CapacityBidForm(BidFormBase):
    bid_type = BidType.CAPACITY
    profile_fields = ("cu", "price")
    site = forms.ChoiceField(label=_("Site"))
    cu = ProfileField(label=_("CU offered per interval"))
    price = ProfileField(label=_("Price (JPY/CU-h) per interval"))

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, actor=actor, **kwargs)
        sites = actor.organisation.sites.filter(is_active=True) if actor else []
        self.fields["site"].choices = [(s.code, f"{s.code} — {s.name}") for s in sites]


class EnergyBidForm(BidFormBase):
    bid_type = BidType.ENERGY
    profile_fields = ("kwh", "price")
    area = LocalisedChoiceField(
        label=_("Grid area"), queryset=GridArea.objects.all(), to_field_name="code"
    )
    kwh = ProfileField(label=_("kWh per interval"))
    price = ProfileField(
        label=_("Price (JPY/kWh) per interval; 0 or negative for curtailment relief")
    )
    carbon_g_per_kwh = forms.DecimalField(label=_("Carbon intensity (gCO2/kWh)"), min_value=0)
    curtailment_relief = forms.BooleanField(label=_("Curtailment relief"), required=False)

    def payload(self) -> dict[str, Any]:
        data = super().payload()
        data["area"] = self.cleaned_data["area"].code
        data["carbon_g_per_kwh"] = str(self.cleaned_data["carbon_g_per_kwh"])
        data["curtailment_relief"] = bool(self.cleaned_data.get("curtailment_relief"))
        return data


class WorkloadBidForm(BidFormBase):
    bid_type = BidType.WORKLOAD
    profile_fields = ("demand",)
    kind = forms.ChoiceField(label=_("Kind"), choices=WorkloadKind.choices)
    accelerator = forms.ChoiceField(label=_("Accelerator class"), choices=Accelerator.choices)
    limit_price = forms.DecimalField(label=_("Limit price, all-in (JPY/CU-h)"), min_value=0)
    residency_tags = forms.MultipleChoiceField(
        label=_("Residency tags"), choices=ResidencyTag.choices, required=False,
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    zone = LocalisedChoiceField(
        label=_("Demand zone"), queryset=DemandZone.objects.all(), to_field_name="code",
        required=False,
    )  # fmt: skip
    max_latency_ms = forms.IntegerField(label=_("Max latency (ms)"), required=False, min_value=0)
    demand = ProfileField(label=_("Inference: CU demand per interval"), required=False)
    remaining_cu_intervals = forms.DecimalField(
        label=_("Batch: CU-intervals of work"), required=False, min_value=0
    )
    max_cu = forms.DecimalField(label=_("Max CU per interval"), required=False, min_value=0)
    gang = forms.IntegerField(label=_("Gang size (whole multiples)"), required=False, min_value=1)
    migration_cost = forms.DecimalField(
        label=_("Migration cost (JPY per CU moved)"), required=False, min_value=0
    )
    no_migration = forms.BooleanField(
        label=_("No migration: once started, stay at the first site"), required=False
    )
    home_site = forms.ChoiceField(
        label=_("Home site (where the work runs without the exchange)"), required=False
    )
    allowed_areas = forms.MultipleChoiceField(
        label=_("Allowed areas (batch)"), required=False, widget=forms.CheckboxSelectMultiple
    )

    KIND_FIELDS = {
        WorkloadKind.INFERENCE: ("demand",),
        WorkloadKind.BATCH: (
            "remaining_cu_intervals", "max_cu", "gang", "migration_cost", "no_migration",
            "home_site", "allowed_areas",
        ),
    }  # fmt: skip

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, actor=actor, **kwargs)
        ja = (get_language() or "ja").startswith("ja")
        self.fields["allowed_areas"].choices = [
            (a.code, a.name_ja if ja else a.name_en) for a in GridArea.objects.all()
        ]
        # Any active site may be a home, not only one's own: an owner's own racks elsewhere
        # are often a provider's site on the exchange.
        sites = Site.objects.filter(is_active=True).order_by("code")
        self.fields["home_site"].choices = [("", "—")] + [
            (s.code, f"{s.code} — {s.name} ({s.area_id})") for s in sites
        ]

    def fieldsets(self) -> list[dict[str, Any]]:
        chosen = self["kind"].value()
        by_kind = {name for names in self.KIND_FIELDS.values() for name in names}
        groups = [
            {"legend": _("Bid"), "kind": "", "hidden": False,
             "fields": [f for f in self if f.name not in by_kind]},
        ]  # fmt: skip
        for kind, legend in (
            (WorkloadKind.INFERENCE, _("Inference only")),
            (WorkloadKind.BATCH, _("Batch only")),
        ):
            groups.append(
                {
                    "legend": legend,
                    "kind": kind,
                    "fields": [self[name] for name in self.KIND_FIELDS[kind]],
                    # Unknown kind (a fresh form without script): show both.
                    "hidden": chosen in WorkloadKind.values and chosen != kind,
                }
            )
        return groups

    def payload(self) -> dict[str, Any]:
        data = super().payload()
        if self.cleaned_data.get("zone"):
            data["zone"] = self.cleaned_data["zone"].code
        for name in ("limit_price", "remaining_cu_intervals", "max_cu", "migration_cost"):
            if data.get(name) is not None:
                data[name] = str(data[name])
        return data


def initial_from_bid(data: dict[str, Any], form_class: type[BidFormBase]) -> dict[str, Any]:
    """A bid's current content (its API shape) as the form's initial values, for amending."""
    initial = {k: v for k, v in data.items() if v is not None}
    initial["start"] = calendar.to_jst(calendar.parse_iso(data["start"])).strftime("%Y-%m-%dT%H:%M")
    for name in form_class.profile_fields:
        if isinstance(data.get(name), list):
            initial[name] = "\n".join(str(v) for v in data[name])
    return initial


FORMS: dict[str, type[BidFormBase]] = {
    BidType.CAPACITY: CapacityBidForm,
    BidType.ENERGY: EnergyBidForm,
    BidType.WORKLOAD: WorkloadBidForm,
}
