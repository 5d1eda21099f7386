"""How long a newcomer waits: fresh clone → `make run` → the first page served.

    .venv/bin/python bench/first_page.py                 # uv (the default), then pip
    .venv/bin/python bench/first_page.py --installers uv

Each case clones the committed HEAD into a new folder, gives every installer an empty cache
(XDG_CACHE_HOME, PIP_NO_CACHE_DIR: a fresh machine has none), runs `make run` on a free
port and polls `/` until it answers. It prints the seconds to each stage (from make's own
output) and the ratio to issue 17's baseline: 195 s, 170 s of it installing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE_S = 195.0
STAGES = {  # a line of make's output → the stage that has just ended
    "manage.py migrate": "install",
    "manage.py load_demo": "migrate",
    "wattbit is starting at": "demo data",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
            return response.status < 500
    except urllib.error.HTTPError as exc:
        return exc.code < 500
    except OSError:
        return False


def one_run(installer: str, timeout_s: float) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="wattbit-first-page-"))
    try:
        subprocess.run(["git", "clone", "-q", str(ROOT), str(work / "wattbit")], check=True)
        port = free_port()
        env = {
            **os.environ,
            "XDG_CACHE_HOME": str(work / "cache"),
            "PIP_NO_CACHE_DIR": "1",
            "WATTBIT_INSTALLER": installer,
            "PORT": str(port),
        }
        env.pop("VIRTUAL_ENV", None)
        started = time.monotonic()
        marks: dict[str, float] = {}
        process = subprocess.Popen(
            ["make", "run"], cwd=work / "wattbit", env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )  # fmt: skip

        def read() -> None:
            for line in process.stdout:
                for needle, stage in STAGES.items():
                    if needle in line and stage not in marks:
                        marks[stage] = time.monotonic() - started

        threading.Thread(target=read, daemon=True).start()
        url = f"http://127.0.0.1:{port}/"
        while not answers(url):
            if process.poll() is not None:
                raise SystemExit(f"make run exited with {process.returncode}")
            if time.monotonic() - started > timeout_s:
                raise SystemExit(f"no page after {timeout_s:.0f} s")
            time.sleep(0.25)
        marks["first page"] = time.monotonic() - started
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        return marks
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--installers", default="uv,pip", help="comma-separated: uv, pip")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    print(f"{'installer':<10} {'install':>8} {'migrate':>8} {'demo':>8} {'page':>8}  vs 195 s")
    for installer in args.installers.split(","):
        marks = one_run(installer, args.timeout)
        previous, cells = 0.0, []
        for stage in ("install", "migrate", "demo data"):
            at = marks.get(stage, previous)
            cells.append(f"{at - previous:8.1f}")
            previous = at
        page = marks["first page"]
        print(f"{installer:<10} {' '.join(cells)} {page:8.1f}  {BASELINE_S / page:5.2f}×")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
