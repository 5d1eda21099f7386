"""Snapshot validation, canonical output and the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from aggregator.engine import SnapshotError, explain, parse_snapshot, solve
from tests.engine.builders import SCENARIOS, scenario

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d["workloads"][0].pop("limit_price"), "workloads[0].limit_price"),
        (lambda d: d["capacity_offers"][0].__setitem__("cu", [-1]), "capacity_offers[0].cu[0]"),
        (lambda d: d["areas"][0].__setitem__("price", [1, 2]), "areas[0].price"),
        (lambda d: d["sites"][0].__setitem__("area", "mars"), "sites[0].area"),
        (lambda d: d["sites"][0].__setitem__("pue", 0.5), "sites[0].pue"),
        (lambda d: d.__setitem__("schema", "other/1"), "schema"),
        (lambda d: d["workloads"][0].__setitem__("kind", "magic"), "workloads[0].kind"),
        (
            lambda d: d.__setitem__(
                "fixed", [{"workload": "nope", "site": "tky-1", "interval": 0, "cu": 1}]
            ),
            "fixed[0].workload",
        ),
    ],
)
def test_bad_fields_are_named(mutate, field):
    doc = scenario("tiny-two-areas")
    mutate(doc)
    with pytest.raises(SnapshotError) as caught:
        parse_snapshot(doc)
    assert caught.value.field == field


def test_unknown_fields_are_ignored_and_scalars_expand():
    doc = scenario("pair-small")
    base = solve(doc)
    doc["operator_note"] = "ignored"
    doc["workloads"][0]["colour"] = "blue"
    first_offer = doc["capacity_offers"][0]
    first_offer["price"] = [first_offer["price"]] * len(doc["intervals"])  # scalar → array
    again = solve(doc)
    assert again.deterministic_bytes() == base.deterministic_bytes()


def test_result_document_is_canonical_and_rounded():
    result = solve(scenario("pair-small"))
    raw = result.to_json_bytes()
    doc = json.loads(raw)
    assert (
        raw == json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    )
    assert doc["schema"] == "wattbit.clearing-result/1"
    for row in doc["allocations"]:
        assert row["cu"] == round(row["cu"], 6)
    for row in doc["prices"]["energy"]:
        assert row["jpy_per_kwh"] == round(row["jpy_per_kwh"], 4)
    assert {"solver", "variables", "constraints", "build_s", "solve_s", "mip_gap"} <= set(
        doc["stats"]
    )
    assert set(doc["baselines"]) == {"stay", "greedy"}


def test_explain_names_workloads_no_site_can_host():
    doc = scenario("tiny-two-areas")
    doc["workloads"].append(
        {
            "id": "far",
            "kind": "inference",
            "accelerator": "h100",
            "demand": [3],
            "limit_price": 500,
            "zone": "tokyo",
            "max_latency_ms": 1,
        }
    )
    doc["workloads"].append(
        {"id": "tpu", "kind": "inference", "accelerator": "tpu", "demand": [3], "limit_price": 500}
    )
    report = explain(parse_snapshot(doc))
    reasons = {u["id"]: u["filter"] for u in report["unservable"]}
    assert reasons == {"far": "latency", "tpu": "accelerator"}
    assert report["feasible_triples"] == 2


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "aggregator.engine", *args],
        cwd=REPO,
        capture_output=True,
        check=False,
    )


def test_cli_solve_writes_the_result(tmp_path):
    out = tmp_path / "result.json"
    proc = _cli("solve", str(SCENARIOS / "tiny-two-areas.json"), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_bytes())["welfare_jpy"] == 2900.0
    stdout = _cli("solve", str(SCENARIOS / "tiny-two-areas.json")).stdout
    assert json.loads(stdout)["status"] == "optimal"  # nothing else on stdout


def test_cli_baseline_and_explain():
    stay = json.loads(_cli("baseline", "stay", str(SCENARIOS / "tiny-two-areas.json")).stdout)
    assert stay["welfare_jpy"] == 1900.0
    report = json.loads(_cli("explain", str(SCENARIOS / "tiny-two-areas.json")).stdout)
    assert report["model"]["problem"] == "LP"


def test_cli_bad_snapshot_exits_2_without_traceback(tmp_path):
    bad = tmp_path / "bad.json"
    doc = scenario("tiny-two-areas")
    del doc["sites"][1]["kw_per_cu"]
    bad.write_text(json.dumps(doc))
    proc = _cli("solve", str(bad))
    assert proc.returncode == 2
    assert b"sites[" in proc.stderr and b"kw_per_cu" in proc.stderr
    assert b"Traceback" not in proc.stderr
    proc = _cli("solve", str(tmp_path / "missing.json"))
    assert proc.returncode == 2 and b"Traceback" not in proc.stderr
