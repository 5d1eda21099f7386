"""Parse and validate a `wattbit.clearing/1` document into a `Snapshot`; errors name the field."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from aggregator.engine.canonical import is_finite_number, sha256_hex
from aggregator.engine.errors import SnapshotError
from aggregator.engine.snapshot import (
    SCHEMA,
    Area,
    CapacityOffer,
    EnergyOffer,
    Pin,
    Site,
    Snapshot,
    Workload,
)

_MISSING = object()


def load_document(source: str | bytes | Path | Mapping[str, Any]) -> dict:
    """Read a snapshot document from a path, JSON text/bytes, or an already-decoded mapping."""
    if isinstance(source, Mapping):
        return dict(source)
    if isinstance(source, Path):
        try:
            source = source.read_bytes()
        except OSError as exc:
            raise SnapshotError("snapshot", f"cannot read file: {exc}") from None
    try:
        document = json.loads(source)
    except (ValueError, TypeError) as exc:
        raise SnapshotError("snapshot", f"not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise SnapshotError("snapshot", "top level must be a JSON object")
    return document


class _Reader:
    """Field access with the path of the field in every error message."""

    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, Mapping):
            raise SnapshotError(path, "must be an object")
        self.data = data
        self.path = path

    def _get(self, key: str, default: Any) -> Any:
        value = self.data.get(key, _MISSING)
        if value is _MISSING or (value is None and default is not _MISSING):
            if default is _MISSING:
                raise SnapshotError(self._name(key), "required field is missing")
            return default
        return value

    def _name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def text(self, key: str, default: Any = _MISSING) -> Any:
        value = self._get(key, default)
        if value is default and default is not _MISSING:
            return value
        if not isinstance(value, str) or not value:
            raise SnapshotError(self._name(key), "must be a non-empty string")
        return value

    def number(
        self,
        key: str,
        default: Any = _MISSING,
        *,
        minimum: float | None = None,
        positive: bool = False,
    ) -> Any:
        value = self._get(key, default)
        if value is default and default is not _MISSING:
            return value
        if not is_finite_number(value):
            raise SnapshotError(self._name(key), "must be a finite number")
        if positive and value <= 0:
            raise SnapshotError(self._name(key), f"must be > 0, got {value}")
        if minimum is not None and value < minimum:
            raise SnapshotError(self._name(key), f"must be >= {minimum}, got {value}")
        return float(value)

    def integer(self, key: str, default: Any = _MISSING, *, minimum: int | None = None) -> Any:
        value = self._get(key, default)
        if value is default and default is not _MISSING:
            return value
        if not is_finite_number(value) or float(value) != int(value):
            raise SnapshotError(self._name(key), "must be an integer")
        if minimum is not None and value < minimum:
            raise SnapshotError(self._name(key), f"must be >= {minimum}, got {value}")
        return int(value)

    def series(
        self,
        key: str,
        n: int,
        default: Any = _MISSING,
        *,
        minimum: float | None = None,
        allow_null: bool = False,
    ) -> np.ndarray:
        """A per-interval array; a scalar means the same value in every interval."""
        value = self._get(key, default)
        name = self._name(key)
        items = value if isinstance(value, list) else [value] * n
        if len(items) != n:
            raise SnapshotError(name, f"must have {n} values (one per interval), got {len(items)}")
        out = np.empty(n, dtype=np.float64)
        for i, item in enumerate(items):
            if item is None and allow_null:
                out[i] = math.inf
                continue
            if not is_finite_number(item):
                raise SnapshotError(f"{name}[{i}]", "must be a finite number")
            if minimum is not None and item < minimum:
                raise SnapshotError(f"{name}[{i}]", f"must be >= {minimum}, got {item}")
            out[i] = float(item)
        return out

    def tags(self, key: str) -> tuple[str, ...] | None:
        value = self._get(key, None)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise SnapshotError(self._name(key), "must be a list of strings")
        return tuple(sorted(set(value)))

    def items(self, key: str) -> list[_Reader]:
        value = self._get(key, [])
        if not isinstance(value, list):
            raise SnapshotError(self._name(key), "must be a list")
        return [_Reader(item, f"{self._name(key)}[{i}]") for i, item in enumerate(value)]


def _sorted_unique(entities: list, kind: str) -> tuple:
    seen: set[str] = set()
    for entity in entities:
        if entity.id in seen:
            raise SnapshotError(kind, f"duplicate id {entity.id!r}")
        seen.add(entity.id)
    return tuple(sorted(entities, key=lambda e: e.id))


def _parse_workload(r: _Reader, n: int, site_ids: set[str], area_ids: set[str]) -> Workload:
    kind = r.text("kind")
    if kind not in ("inference", "batch"):
        raise SnapshotError(f"{r.path}.kind", f"must be 'inference' or 'batch', got {kind!r}")
    demand = remaining = None
    earliest, deadline = 0, n - 1
    if kind == "inference":
        demand = r.series("demand", n, minimum=0)
    else:
        remaining = r.number("remaining_cu_intervals", minimum=0)
        earliest = r.integer("earliest", 0, minimum=0)
        deadline = r.integer("deadline", max(n - 1, earliest), minimum=0)
        if deadline < earliest:
            raise SnapshotError(f"{r.path}.deadline", f"is before earliest ({earliest})")
    gang = r.integer("gang", None, minimum=1)
    home = r.text("home_site", None)
    if home is not None and home not in site_ids:
        raise SnapshotError(f"{r.path}.home_site", f"unknown site {home!r}")
    areas = r.tags("areas")
    for area in areas or ():
        if area not in area_ids:
            raise SnapshotError(f"{r.path}.areas", f"unknown area {area!r}")
    zone = r.text("zone", None)
    max_latency = r.number("max_latency_ms", None, minimum=0)
    if max_latency is not None and zone is None:
        raise SnapshotError(f"{r.path}.zone", "required when max_latency_ms is given")
    no_migration = r._get("no_migration", False)
    if not isinstance(no_migration, bool):
        raise SnapshotError(f"{r.path}.no_migration", "must be true or false")
    return Workload(
        id=r.text("id"),
        kind=kind,
        accelerator=r.text("accelerator"),
        limit_price=r.series("limit_price", n),
        demand=demand,
        remaining_cu_intervals=remaining,
        earliest=earliest,
        deadline=deadline,
        max_cu=r.number("max_cu", None, minimum=0),
        gang=gang,
        migration_cost=r.number("migration_cost", 0.0, minimum=0),
        home_site=home,
        zone=zone,
        max_latency_ms=max_latency,
        residency=r.tags("residency") or (),
        areas=areas,
        no_migration=no_migration,
    )


def parse_snapshot(source: str | bytes | Path | Mapping[str, Any]) -> Snapshot:
    """Validate a snapshot document. Unknown fields are ignored; bad ones raise SnapshotError."""
    document = load_document(source)
    top = _Reader(document, "")
    schema = top.text("schema")
    if schema != SCHEMA:
        raise SnapshotError("schema", f"must be {SCHEMA!r}, got {schema!r}")
    intervals_value = top._get("intervals", _MISSING)
    if not isinstance(intervals_value, list) or not intervals_value:
        raise SnapshotError("intervals", "must be a non-empty list of interval start times")
    if not all(isinstance(i, str) for i in intervals_value):
        raise SnapshotError("intervals", "entries must be strings (ISO 8601 start times)")
    n = len(intervals_value)
    firm = top.integer("firm_intervals", 1, minimum=0)
    if firm > n:
        raise SnapshotError("firm_intervals", f"must be <= number of intervals ({n})")

    areas = _parse_areas(top, n)
    area_ids = {a.id for a in areas}
    sites = _parse_sites(top, area_ids)
    site_ids = {s.id for s in sites}
    capacity_offers = _parse_capacity_offers(top, n, site_ids)
    energy_offers = _parse_energy_offers(top, n, area_ids)
    workloads = _sorted_unique(
        [_parse_workload(w, n, site_ids, area_ids) for w in top.items("workloads")], "workloads"
    )
    pins = _parse_pins(top, n, {w.id for w in workloads}, site_ids)
    return Snapshot(
        run_id=top.text("run_id"),
        interval_minutes=top.number("interval_minutes", 30.0, positive=True),
        intervals=tuple(intervals_value),
        firm_intervals=firm,
        carbon_price_jpy_per_t=top.number("carbon_price_jpy_per_t", 0.0, minimum=0),
        areas=areas,
        sites=sites,
        capacity_offers=_sorted_unique(capacity_offers, "capacity_offers"),
        energy_offers=_sorted_unique(energy_offers, "energy_offers"),
        workloads=workloads,
        fixed=tuple(sorted(pins, key=lambda p: (p.workload, p.site, p.interval))),
        input_sha256=sha256_hex(document),
        raw=document,
    )


def _parse_areas(top: _Reader, n: int) -> tuple[Area, ...]:
    return _sorted_unique(
        [
            Area(
                id=a.text("id"),
                price=a.series("price", n),
                carbon=a.series("carbon", n, 0.0, minimum=0),
                cap_kw=a.series("cap_kw", n, None, minimum=0, allow_null=True),
            )
            for a in top.items("areas")
        ],
        "areas",
    )


def _parse_sites(top: _Reader, area_ids: set[str]) -> tuple[Site, ...]:
    sites = []
    for s in top.items("sites"):
        area = s.text("area")
        if area not in area_ids:
            raise SnapshotError(f"{s.path}.area", f"unknown area {area!r}")
        latency = s._get("latency_ms", {})
        if not isinstance(latency, Mapping) or not all(
            isinstance(k, str) and is_finite_number(v) and v >= 0 for k, v in latency.items()
        ):
            raise SnapshotError(f"{s.path}.latency_ms", "must map zone names to numbers >= 0")
        sites.append(
            Site(
                id=s.text("id"),
                area=area,
                accelerator=s.text("accelerator"),
                kw_per_cu=s.number("kw_per_cu", minimum=0),
                pue=s.number("pue", minimum=1.0),
                latency_ms={k: float(v) for k, v in latency.items()},
                residency=s.tags("residency") or (),
            )
        )
    return _sorted_unique(sites, "sites")


def _parse_capacity_offers(top: _Reader, n: int, site_ids: set[str]) -> list[CapacityOffer]:
    # Several offers at one site are price steps of its supply (feasibility.index); they are
    # kept apart, never merged, so each is priced and paid on its own quantity.
    offers = []
    for c in top.items("capacity_offers"):
        site = c.text("site")
        if site not in site_ids:
            raise SnapshotError(f"{c.path}.site", f"unknown site {site!r}")
        offers.append(
            CapacityOffer(
                id=c.text("id"),
                site=site,
                cu=c.series("cu", n, minimum=0),
                price=c.series("price", n),
            )
        )
    return offers


def _parse_energy_offers(top: _Reader, n: int, area_ids: set[str]) -> list[EnergyOffer]:
    energy = []
    for e in top.items("energy_offers"):
        area = e.text("area")
        if area not in area_ids:
            raise SnapshotError(f"{e.path}.area", f"unknown area {area!r}")
        relief = e._get("curtailment_relief", False)
        if not isinstance(relief, bool):
            raise SnapshotError(f"{e.path}.curtailment_relief", "must be true or false")
        energy.append(
            EnergyOffer(
                id=e.text("id"),
                area=area,
                kwh=e.series("kwh", n, minimum=0),
                price=e.series("price", n),
                carbon=e.series("carbon", n, 0.0, minimum=0),
                curtailment_relief=relief,
            )
        )
    return energy


def _parse_pins(top: _Reader, n: int, workload_ids: set[str], site_ids: set[str]) -> list[Pin]:
    """The placements already dispatched (`fixed`): known workloads and sites, one per key."""
    pins = []
    pinned: set[tuple[str, str, int]] = set()
    for p in top.items("fixed"):
        pin = Pin(
            workload=p.text("workload"),
            site=p.text("site"),
            interval=p.integer("interval", minimum=0),
            cu=p.number("cu", minimum=0),
        )
        if pin.workload not in workload_ids:
            raise SnapshotError(f"{p.path}.workload", f"unknown workload {pin.workload!r}")
        if pin.site not in site_ids:
            raise SnapshotError(f"{p.path}.site", f"unknown site {pin.site!r}")
        if pin.interval >= n:
            raise SnapshotError(f"{p.path}.interval", f"must be < {n}")
        key = (pin.workload, pin.site, pin.interval)
        if key in pinned:
            raise SnapshotError(p.path, f"duplicate pin for {key}")
        pinned.add(key)
        pins.append(pin)
    return pins
