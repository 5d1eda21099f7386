"""Every route of the URL conf, filled in: for scans that read every page or endpoint."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence

from django.urls import URLPattern, URLResolver, get_resolver


def walk(patterns, prefix: str = "", namespace: str = ""):
    """(route template, url name, parameter names) for every leaf of the URL conf."""
    for entry in patterns:
        text = _template(entry.pattern)
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue  # walked through the admin registry instead
            yield from walk(entry.url_patterns, prefix + text, entry.namespace or namespace)
        elif isinstance(entry, URLPattern):
            yield prefix + text, entry.name or "", re.findall(r"\{(\w+)\}", prefix + text)


def _template(pattern) -> str:
    """A route as text with {name} for each parameter (route and regex patterns alike)."""
    text = str(pattern)
    text = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", text)  # re_path("(?P<pk>[^/.]+)")
    text = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", text)  # path("<int:pk>/")
    text = text.lstrip("^").rstrip("$").replace("/?", "/").replace("\\.", ".")
    return text


def filled_urls(
    values: Mapping[str, Sequence[str]],
    *,
    queries: Iterable[str] = ("",),
    skip: Callable[[str, str], bool] | None = None,
) -> list[str]:
    """Every route not skipped (`skip(template, name)`, template with a leading "/"), once
    per combination of `values` for its parameters; a route without parameters once per
    query string. Fails on a route whose parameters `values` cannot fill: a new route must
    be taught to the scan, not silently left out."""
    queries = list(queries)
    urls, unfillable = [], []
    for route, name, params in walk(get_resolver().url_patterns):
        template = "/" + route
        if skip is not None and skip(template, name):
            continue
        if any(p not in values for p in params):
            unfillable.append(f"{template} ({name})")
            continue
        combos: list[dict] = [{}]
        for p in params:
            combos = [{**c, p: v} for c in combos for v in values[p]]
        urls += [
            template.format(**c) + q for c in combos for q in (queries if not params else [""])
        ]
    assert not unfillable, f"routes this scan cannot fill, teach it: {unfillable}"
    return sorted(set(urls))
