"""Portal forms: they parse types; services decide what is allowed."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from aggregator.platform.access import Scope
from operators.choices import Accelerator, ResidencyTag, prefecture_choices
from operators.models import DemandZone, GridArea


class LocalisedChoiceField(forms.ModelChoiceField):
    """Areas and zones by their Japanese or English name, as the page's language is."""

    def label_from_instance(self, obj) -> str:
        from django.utils.translation import get_language

        ja = (get_language() or "ja").startswith("ja")
        return obj.name_ja if ja else obj.name_en


class SiteForm(forms.Form):
    code = forms.SlugField(
        label=_("Site code"), max_length=40, help_text=_("Stable public id, e.g. hkd-ishikari-1")
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    area = LocalisedChoiceField(
        label=_("Grid area"), queryset=GridArea.objects.all(), to_field_name="code"
    )
    # A callable: evaluated per form, so the names follow the request's language.
    prefecture = forms.ChoiceField(label=_("Prefecture"), choices=prefecture_choices)
    accelerator = forms.ChoiceField(label=_("Accelerator class"), choices=Accelerator.choices)
    capacity_cu = forms.IntegerField(label=_("Capacity (CU)"))
    cu_description = forms.CharField(label=_("What one CU is"), max_length=200, required=False)
    kw_per_cu = forms.DecimalField(
        label=_("kW per CU at full load"), max_digits=8, decimal_places=4
    )
    pue = forms.DecimalField(label=_("PUE"), max_digits=4, decimal_places=2)
    residency_tags = forms.MultipleChoiceField(
        label=_("Residency tags"),
        choices=ResidencyTag.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    grid_connection_cap_kw = forms.DecimalField(
        label=_("Grid-connection cap (kW)"), max_digits=12, decimal_places=1, required=False
    )

    def __init__(self, *args, editing: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.zones = list(DemandZone.objects.all())
        for zone in self.zones:
            self.fields[f"latency_{zone.code}"] = forms.IntegerField(
                label=_("Latency to %(zone)s (ms)")
                % {"zone": zone.name_ja if self._ja() else zone.name_en},
                required=False,
                min_value=0,
                max_value=1000,
            )
        if editing:
            self.fields["code"].disabled = True

    @staticmethod
    def _ja() -> bool:
        from django.utils.translation import get_language

        return (get_language() or "ja").startswith("ja")

    def latency_fields(self):
        return [self[f"latency_{zone.code}"] for zone in self.zones]

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        latency = {}
        for zone in self.zones:
            value = data.pop(f"latency_{zone.code}", None)
            if value is not None:
                latency[zone.code] = value
        data["latency_ms"] = latency
        data["area"] = data["area"].code
        return data

    @classmethod
    def initial_for(cls, site) -> dict:
        initial = {
            "code": site.code,
            "name": site.name,
            "area": site.area_id,
            "prefecture": site.prefecture,
            "accelerator": site.accelerator,
            "capacity_cu": site.capacity_cu,
            "cu_description": site.cu_description,
            "kw_per_cu": site.kw_per_cu,
            "pue": site.pue,
            "residency_tags": site.residency_tags,
            "grid_connection_cap_kw": site.grid_connection_cap_kw,
        }
        for zone, ms in site.latency_ms.items():
            initial[f"latency_{zone}"] = ms
        return initial


class ApiKeyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[Scope.READ],
    )


class WebhookEndpointForm(forms.Form):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
