"""gunicorn settings for the web process: `gunicorn aggregator.wsgi:application -c deploy/gunicorn.conf.py`.

The image (deploy/Dockerfile) and the Kubernetes web Deployment run exactly this. Every value
can be changed from the environment; /metrics (aggregator/platform/metrics.py) merges the
workers' HTTP metrics through prometheus-client's multiprocess mode, set up here.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", os.environ.get("GUNICORN_WORKERS", "3")))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
# Behind the ingress: its X-Forwarded-* headers are read by Django (TRUSTED_PROXIES,
# SECURE_PROXY_SSL_HEADER), not by gunicorn.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# prometheus-client's multiprocess mode: each worker writes its counters to files in this
# directory and a scrape of any worker merges them. It must be set before a worker imports
# prometheus_client, so it is set here in the master, which forks the workers; and it must
# start empty, or the counters of a previous run (another container start) come back.
_multiproc = os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR", str(Path(tempfile.gettempdir()) / "wattbit-prometheus")
)


def on_starting(server) -> None:
    # Emptied, not removed: in Kubernetes the directory is a volume's mount point.
    directory = Path(_multiproc)
    directory.mkdir(parents=True, exist_ok=True)
    for entry in directory.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def child_exit(server, worker) -> None:
    # A dead worker's gauges (live-summed ones) must stop counting; its counters stay.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
