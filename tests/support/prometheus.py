"""Reading /metrics in tests: parse the exposition, pick samples, list what alerts use."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"


def parse(text: str) -> dict[str, list]:
    """Sample name → [(labels, value)], for every sample in the exposition text."""
    samples: dict[str, list] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def value(samples: dict[str, list], name: str, **labels: str) -> float:
    """The one sample of `name` whose labels include `labels` (AssertionError otherwise)."""
    found = [v for ls, v in samples.get(name, []) if all(ls.get(k) == w for k, w in labels.items())]
    assert len(found) == 1, f"{name}{labels}: {found} (have {sorted(samples)[:80]})"
    return found[0]


def total(samples: dict[str, list], name: str, **labels: str) -> float:
    """The sum of `name` over every sample whose labels include `labels`."""
    return sum(
        v for ls, v in samples.get(name, []) if all(ls.get(k) == w for k, w in labels.items())
    )


# PromQL words and functions that look like metric names in an expression.
_NOT_METRICS = {
    "max", "min", "sum", "avg", "count", "by", "without", "on", "ignoring", "and", "or",
    "unless", "delta", "increase", "rate", "time", "bool", "offset", "group_left",
    "group_right", "humanizeDuration",
}  # fmt: skip


def alert_metric_names(path: Path = ALERTS) -> set[str]:
    """Every metric name an alert expression reads."""
    names = set()
    for group in yaml.safe_load(path.read_text())["groups"]:
        for rule in group["rules"]:
            # Drop label matchers, strings, ranges and grouping label lists first.
            expr = re.sub(r'\{[^}]*\}|"[^"]*"|\[[^\]]*\]', " ", rule["expr"])
            expr = re.sub(r"\b(?:by|without|on|ignoring)\s*\([^)]*\)", " ", expr)
            for word in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr):
                if word not in _NOT_METRICS:
                    names.add(word)
    return names


def alert_selectors(path: Path = ALERTS) -> set[tuple[str, tuple[tuple[str, str], ...]]]:
    """(metric, ((label, value), …)) for every selector with `label="value"` matchers."""
    found = set()
    for group in yaml.safe_load(path.read_text())["groups"]:
        for rule in group["rules"]:
            for name, matchers in re.findall(
                r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}", rule["expr"]
            ):
                pairs = re.findall(r'(\w+)\s*=\s*"([^"]*)"', matchers)
                if pairs:
                    found.add((name, tuple(sorted(pairs))))
    return found


__all__ = ["ALERTS", "alert_metric_names", "alert_selectors", "parse", "total", "value"]
