"""The receivers in docs/webhooks.md, copied out of the page as a participant would, run
against real pushes: Python with the `standardwebhooks` package from PyPI, Node.js with the
official `standardwebhooks` npm package (installed into a scratch folder; skipped where
there is no node or npm registry)."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from aggregator.exchange.cycle import run_clear_interval
from market.models.dispatch import DeliveryState, DispatchOrder, OrderDelivery
from market.services.dispatch import deliveries_push_due
from operators import services as op
from operators.crypto import new_webhook_secret, webhook_signing_key
from operators.webhooks import SigningKey, post_json, signed_headers
from tests.api.live import free_port
from tests.conftest import actor_of
from tests.cycle.conftest import gate

pytestmark = pytest.mark.django_db

DOCS = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def _example(name: str) -> str:
    """The fenced block right after `<!-- example: NAME … -->` in docs/webhooks.md."""
    match = re.search(
        rf"<!-- example: {name}\b[^>]*-->\s*```\w+\n(.*?)```", DOCS.read_text(), re.DOTALL
    )
    assert match, f"docs/webhooks.md has no example {name}"
    return match.group(1)


def _wait_for_port(port: int, process: subprocess.Popen, timeout_s: float = 15) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the receiver exited: {process.communicate()}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError("the receiver did not start listening")


def _run_against_a_real_push(market, command: list[str], cwd: Path) -> None:
    port = free_port()
    endpoint, secret = op.webhook_endpoint_create(
        actor=actor_of(market.charlie), url=f"http://127.0.0.1:{port}/wattbit"
    )
    # Rotated first: the page's receivers hold only the *new* secret, while the push is
    # signed with both (the overlap) — the library must find the one it can verify.
    endpoint, secret = op.webhook_endpoint_rotate_secret(
        actor=actor_of(market.charlie), endpoint=endpoint
    )
    env = {"WATTBIT_WEBHOOK_SECRET": secret, "PORT": str(port), "PATH": "/usr/bin:/bin"}
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        _wait_for_port(port, process)
        k = market.k(0)
        run_clear_interval(interval_start=k, now=gate(k))
        assert deliveries_push_due(now=gate(k) + timedelta(seconds=1)).delivered == 1
        delivery = OrderDelivery.objects.get()
        assert delivery.state == DeliveryState.DELIVERED and delivery.last_status_code == 204
        # A push signed with another secret is refused by the example.
        order = DispatchOrder.objects.get(organisation__slug="beta")
        other = SigningKey(webhook_signing_key(new_webhook_secret()))
        forged = signed_headers([other], "forged-1", b'{"forged": true}', int(time.time()))
        refused = post_json(endpoint.url, b'{"forged": true}', forged, allow_private=True)
        assert refused.status_code == 401
    finally:
        process.terminate()
        out, err = process.communicate(timeout=10)
    assert f"order {order.public_id} hosting" in out, (out, err)
    assert out.count("order ") == 1  # the forged one was not handled


def test_the_python_receiver_in_the_docs_verifies_real_pushes(market, tmp_path):
    (tmp_path / "receiver.py").write_text(_example("python-receiver"))
    _run_against_a_real_push(market, [sys.executable, "receiver.py"], tmp_path)


@pytest.fixture(scope="module")
def node_standardwebhooks(tmp_path_factory) -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not (node and npm):
        pytest.skip("no node/npm on this machine")
    folder = tmp_path_factory.mktemp("node-receiver")
    try:
        installed = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--silent", "standardwebhooks@1"],
            cwd=folder, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.skip("npm could not reach its registry in 120 s")
    if installed.returncode != 0:
        pytest.skip(f"npm could not install standardwebhooks: {installed.stderr[-300:]}")
    return folder


def test_the_node_receiver_in_the_docs_verifies_real_pushes(market, node_standardwebhooks):
    (node_standardwebhooks / "receiver.js").write_text(_example("node-receiver"))
    _run_against_a_real_push(market, [shutil.which("node"), "receiver.js"], node_standardwebhooks)
