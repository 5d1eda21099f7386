"""The Kubernetes manifests (deploy/k8s/) validate and agree with the code they run.

The schema check is kubernetes-validate's (it bundles the API's JSON schemas: no network,
no cluster), strict, against the oldest Kubernetes the manifests claim and the newest the
validator knows. The rest are the mistakes a schema cannot see and a rollout would: a queue
nobody consumes, a probe on a path the URL conf does not serve (or that Django answers with
400 for its Host), an environment variable no setting reads, a secret file nobody mounts,
a manage.py command or worker option that does not exist, a budget selecting no pods.
"""

from __future__ import annotations

import ast
import copy
import json
import os
import re
import secrets
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import get_commands
from django.test import Client, override_settings
from django.urls import Resolver404, resolve

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
# The oldest Kubernetes the manifests are written for (docs/deploy.md), and the validator's newest.
OLDEST_KUBERNETES = "1.30.0"
IMAGE = "wattbit"
CONFIG_MAP = "wattbit-config"
SECRETS = "wattbit-secrets"
GUNICORN_CONFIG = "deploy/gunicorn.conf.py"
# Variables read by libraries rather than our settings, each with who reads it.
LIBRARY_ENV = {
    "PROMETHEUS_MULTIPROC_DIR": "prometheus-client's multiprocess mode (gunicorn's workers)",
    "MPLCONFIGDIR": "matplotlib's cache, since $HOME is read-only in the pods",
}
# Our code, where settings and environment variables are read (and gunicorn's config).
SOURCE_PACKAGES = ("aggregator", "operators", "market", "settlement")
ENV_HELPERS = {"env_str", "env_int", "env_bool", "env_list", "_raw"}


# --- reading the manifests ----------------------------------------------------------------


def _manifest_files() -> list[Path]:
    return sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


@cache
def _documents() -> tuple[tuple[str, dict], ...]:
    docs = []
    for path in _manifest_files():
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                docs.append((path.name, doc))
    return tuple(docs)


def _kustomization() -> dict:
    return yaml.safe_load((K8S / "kustomization.yaml").read_text())


def _applied() -> list[dict]:
    """The resources `kubectl apply -k deploy/k8s` creates (the examples are not among them)."""
    listed = set(_kustomization()["resources"])
    return [doc for name, doc in _documents() if name in listed]


def _of_kind(kind: str, docs=None) -> list[dict]:
    return [d for d in (docs if docs is not None else _applied()) if d["kind"] == kind]


def _pod_spec(doc: dict) -> dict | None:
    if doc["kind"] in {"Deployment", "StatefulSet", "Job"}:
        return doc["spec"]["template"]["spec"]
    return None


def _workloads() -> list[dict]:
    return [d for d in _applied() if _pod_spec(d) is not None]


def _containers(doc: dict, *, init: bool = True) -> list[dict]:
    spec = _pod_spec(doc)
    return [*(spec.get("initContainers", []) if init else []), *spec["containers"]]


def _app_workloads() -> list[dict]:
    """Workloads running the wattbit image (Redis is the other one)."""
    return [d for d in _workloads() if any(c["image"] == IMAGE for c in _containers(d))]


def _config() -> dict[str, str]:
    (config,) = [d for d in _of_kind("ConfigMap") if d["metadata"]["name"] == CONFIG_MAP]
    return config["data"]


def _env_of(container: dict) -> dict[str, str]:
    """What a container's process sees: the ConfigMaps it imports, then its own env."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        name = source["configMapRef"]["name"]
        assert name == CONFIG_MAP, f"{container['name']} imports an unknown ConfigMap {name}"
        env.update(_config())
    for item in container.get("env", []):
        env[item["name"]] = item.get("value", "")
    return env


def _worker_queues() -> dict[str, list[str]]:
    """Queue → the worker Deployments consuming it (from each container's -Q)."""
    consumers: dict[str, list[str]] = {}
    for doc in _of_kind("Deployment"):
        for container in _containers(doc, init=False):
            command = container.get("command", [])
            if command[:1] == ["celery"] and "worker" in command:
                queues = _option(command, "-Q", "--queues")
                assert queues, f"{doc['metadata']['name']}: a worker without -Q eats every queue"
                for queue in queues.split(","):
                    consumers.setdefault(queue, []).append(doc["metadata"]["name"])
    return consumers


def _option(command: list[str], *names: str) -> str | None:
    for i, arg in enumerate(command):
        for name in names:
            if arg == name and i + 1 < len(command):
                return command[i + 1]
            if arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    return None


def _matches(selector: dict, labels: dict) -> bool:
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def _pod_labels() -> list[dict]:
    return [d["spec"]["template"]["metadata"]["labels"] for d in _workloads()]


def _bytes(quantity: str) -> int:
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 10**3, "M": 10**6, "G": 10**9}
    match = re.fullmatch(r"(\d+)([KMG]i?|k)?", quantity)
    assert match, f"unreadable quantity {quantity!r}"
    return int(match.group(1)) * units.get(match.group(2) or "", 1)


# --- schema validation --------------------------------------------------------------------


@pytest.fixture(scope="module")
def kubernetes_validate():
    return pytest.importorskip(
        "kubernetes_validate",
        reason="kubernetes-validate is not installed (pip install -e '.[dev]')",
    )


def test_every_manifest_validates_strictly(kubernetes_validate):
    from kubernetes_validate.utils import latest_version

    versions = [OLDEST_KUBERNETES, latest_version()]
    assert _documents(), "no manifests under deploy/k8s"
    for _file, doc in _documents():
        for version in versions:
            # SchemaNotFoundError (a kind or apiVersion unknown to that Kubernetes) fails
            # here; the command line tool would only warn about it.
            kubernetes_validate.validate(doc, version, strict=True)


def test_the_validator_rejects_what_a_cluster_would(kubernetes_validate):
    (web,) = [d for d in _of_kind("Deployment") if d["metadata"]["name"] == "web"]
    misspelt = copy.deepcopy(web)
    misspelt["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    no_containers = copy.deepcopy(web)
    del no_containers["spec"]["template"]["spec"]["containers"]
    for broken in (misspelt, no_containers):
        with pytest.raises(kubernetes_validate.ValidationError):
            kubernetes_validate.validate(broken, OLDEST_KUBERNETES, strict=True)


def test_kustomization_applies_every_manifest_but_the_examples():
    listed = _kustomization()["resources"]
    on_disk = {p.name for p in _manifest_files() if not p.name.endswith(".example.yaml")}
    assert sorted(listed) == sorted(on_disk)
    assert _kustomization()["namespace"] == "wattbit"
    assert IMAGE in {image["name"] for image in _kustomization()["images"]}


# --- queues and commands ------------------------------------------------------------------


def test_every_routed_queue_has_exactly_one_worker_deployment():
    routes = settings.CELERY_TASK_ROUTES  # AttributeError: routing is not in settings yet
    routed = {route["queue"] for route in routes.values()}
    consumers = _worker_queues()
    for queue in sorted(routed):
        assert len(consumers.get(queue, [])) == 1, (
            f"queue {queue!r} is consumed by {consumers.get(queue, [])}; it needs exactly one "
            "worker Deployment"
        )
    from aggregator.platform.queues import CELERY_QUEUES

    known = routed | set(CELERY_QUEUES) | {getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery")}
    assert set(consumers) <= known, f"workers consume unknown queues {set(consumers) - known}"


def test_every_task_lands_on_a_consumed_queue():
    """What the router decides, unrouted tasks (the default queue) included."""
    from aggregator.celery import app

    app.loader.import_default_modules()
    consumers = _worker_queues()
    tasks = sorted(name for name in app.tasks if not name.startswith("celery."))
    assert tasks
    for name in tasks:
        queue = app.amqp.router.route({}, name, (), {})["queue"].name
        assert len(consumers.get(queue, [])) == 1, (
            f"task {name} goes to queue {queue!r}, consumed by {consumers.get(queue, [])}"
        )


def _parse_celery(command: list[str]):
    """Parse a celery command line as the celery program would, without running it."""
    from celery.bin.base import CLIContext
    from celery.bin.celery import celery

    from aggregator.celery import app

    obj = CLIContext(app=app, no_color=True, workdir=None, quiet=True)
    ctx = celery.make_context("celery", list(command[1:]), obj=obj)
    # The subcommand's name is held apart from the rest of the line (click's protected args).
    words = [*getattr(ctx, "_protected_args", []), *ctx.args]
    name, sub, rest = celery.resolve_command(ctx, words)
    return ctx.params, name, sub.make_context(name, rest, parent=ctx, obj=obj).params


def test_worker_and_beat_command_lines_are_valid():
    hostnames = []
    for doc in _app_workloads():
        for container in _containers(doc, init=False):
            command = container["command"]
            if command[0] != "celery":
                continue
            top, sub, params = _parse_celery(command)  # UsageError on an unknown option
            assert top["app"] == "aggregator"
            if sub == "worker":
                hostnames.append(params["hostname"])
                if params["max_memory_per_child"]:
                    limit = _bytes(container["resources"]["limits"]["memory"])
                    # The child is replaced only after its task: the pod's limit must hold it.
                    assert limit > params["max_memory_per_child"] * 1024, doc["metadata"]["name"]
            elif sub == "beat":
                scheduler = params["scheduler"]
                module, _dot, attr = scheduler.rpartition(".")
                assert getattr(__import__(module, fromlist=[attr]), attr), scheduler
            else:
                pytest.fail(f"{doc['metadata']['name']} runs celery {sub}")
    assert len(hostnames) == len(set(hostnames)), f"worker names collide: {hostnames}"


def _manage_commands(container: dict) -> list[str]:
    line = " ".join(container.get("command", []) + container.get("args", []))
    return re.findall(r"manage\.py\s+([\w-]+)", line)


def test_every_manage_py_command_exists():
    used = [c for d in _app_workloads() for k in _containers(d) for c in _manage_commands(k)]
    assert "migrate" in used
    missing = set(used) - set(get_commands())
    assert not missing, f"manage.py has no command {sorted(missing)}"


def test_the_migrate_job_migrates():
    (job,) = _of_kind("Job")
    assert _containers(job)[0]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert _pod_spec(job)["restartPolicy"] == "Never"


def _dockerfile_copies(path: str) -> bool:
    sources = []
    for line in DOCKERFILE.read_text().splitlines():
        parts = line.split()
        if parts[:1] == ["COPY"]:
            sources += [p.rstrip("/") for p in parts[1:-1] if not p.startswith("--")]
    return any(path == s or path.startswith(s + "/") for s in sources)


def test_commands_run_what_the_image_holds():
    for doc in _app_workloads():
        for container in _containers(doc):
            assert container["image"] == IMAGE, f"{doc['metadata']['name']}: {container['image']}"
            program = container["command"][0]
            if program in {"celery", "gunicorn"}:
                # Console scripts of packages in pyproject's dependencies, as in the image.
                assert Path(sys.executable).with_name(program).exists(), program
            else:
                assert program in {"python", "sh"}, f"{doc['metadata']['name']} runs {program}"
    (web,) = [d for d in _of_kind("Deployment") if d["metadata"]["name"] == "web"]
    command = _containers(web)[0]["command"]
    assert command[0] == "gunicorn"
    module, _colon, attr = command[1].partition(":")
    assert callable(getattr(__import__(module, fromlist=[attr]), attr))
    config = _option(command, "-c", "--config")
    assert config == GUNICORN_CONFIG
    assert (ROOT / config).is_file(), f"gunicorn's config {config} is not in the repository"
    assert _dockerfile_copies(config), f"deploy/Dockerfile does not COPY {config} into the image"


def test_gunicorn_binds_the_container_port_and_counts_in_the_mounted_directory():
    """deploy/gunicorn.conf.py read with the web container's environment, in a subprocess
    (it sets PROMETHEUS_MULTIPROC_DIR, which must not leak into this test process)."""
    (web,) = [d for d in _of_kind("Deployment") if d["metadata"]["name"] == "web"]
    container = _containers(web)[0]
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    env.update(_env_of(container))
    code = (
        f"import json, os, runpy; c = runpy.run_path({GUNICORN_CONFIG!r}); "
        "print(json.dumps([c['bind'], c['workers'], os.environ['PROMETHEUS_MULTIPROC_DIR']]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=60, check=True,
    )  # fmt: skip
    bind, workers, multiproc = json.loads(result.stdout)
    assert bind.rsplit(":", 1)[1] == str(container["ports"][0]["containerPort"])
    assert workers == int(_env_of(container)["WEB_CONCURRENCY"])
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert multiproc in mounts


# --- probes --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_probes_reach_their_views_with_the_deployed_hosts():
    """Each httpGet probe resolves in the URL conf and is answered, not refused with 400 or
    redirected to HTTPS, under the ConfigMap's ALLOWED_HOSTS and SSL redirect."""
    probes = []
    for doc in _app_workloads():
        for container in _containers(doc):
            for kind in ("readinessProbe", "livenessProbe", "startupProbe"):
                http = container.get(kind, {}).get("httpGet")
                if http:
                    probes.append((doc["metadata"]["name"], kind, http))
    assert {kind for _name, kind, _http in probes} >= {"readinessProbe", "livenessProbe"}
    config = _config()
    hosts = [h.strip() for h in config["ALLOWED_HOSTS"].split(",")]
    for name, kind, http in probes:
        try:
            view = resolve(http["path"]).url_name
        except Resolver404:
            pytest.fail(f"{name} {kind}: {http['path']} is not in the URL conf")
        assert view in {"healthz", "readyz"}, f"{name} {kind} probes {view}"
        headers = {h["name"]: h["value"] for h in http.get("httpHeaders", [])}
        # Without a Host header the kubelet sends the pod's address, which is never allowed.
        assert "Host" in headers, f"{name} {kind}: Django would answer 400 to the pod address"
        with override_settings(
            ALLOWED_HOSTS=hosts, SECURE_SSL_REDIRECT=config["SECURE_SSL_REDIRECT"] == "1"
        ):
            response = Client().get(http["path"], HTTP_HOST=headers["Host"])
        assert response.status_code in {200, 503}, (name, kind, response.status_code)
        body = response.json()
        assert body["status"] in {"ok", "unavailable"}
        if view == "healthz":
            assert response.status_code == 200
        else:
            assert "checks" in body


def test_web_serves_on_the_probed_port():
    (web,) = [d for d in _of_kind("Deployment") if d["metadata"]["name"] == "web"]
    container = _containers(web)[0]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": 8000}
    for kind in ("readinessProbe", "livenessProbe"):
        assert container[kind]["httpGet"]["port"] in {"http", 8000}
    (service,) = [d for d in _of_kind("Service") if d["metadata"]["name"] == "web"]
    assert _matches({"matchLabels": service["spec"]["selector"]}, _pod_spec_labels(web))
    assert {p["targetPort"] for p in service["spec"]["ports"]} <= {"http", 8000}


def _pod_spec_labels(doc: dict) -> dict:
    return doc["spec"]["template"]["metadata"]["labels"]


# --- environment and secrets ---------------------------------------------------------------


@cache
def _names_read_by_code() -> tuple[frozenset[str], frozenset[str]]:
    """(names read through env helpers — NAME_FILE works for those —, names read raw)."""
    helpers, raw = set(), set()
    sources = [p for package in SOURCE_PACKAGES for p in (ROOT / package).rglob("*.py")]
    for path in [*sources, ROOT / GUNICORN_CONFIG]:
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            name = _env_name(node)
            if name is not None:
                (helpers if name[0] else raw).add(name[1])
    return frozenset(helpers), frozenset(raw)


def _env_name(node: ast.AST) -> tuple[bool, str] | None:
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
        arg = node.args[0].value
        if not isinstance(arg, str):
            return None
        func = node.func
        if isinstance(func, ast.Name) and func.id in ENV_HELPERS:
            return True, arg
        text = ast.unparse(func)
        if text in {"os.environ.get", "os.getenv", "os.environ.setdefault"}:
            return False, arg
    if (
        isinstance(node, ast.Subscript)
        and ast.unparse(node.value) == "os.environ"
        and isinstance(node.slice, ast.Constant)
        and isinstance(node.slice.value, str)
    ):
        return False, node.slice.value
    return None


def test_every_environment_variable_set_is_read():
    helpers, raw = _names_read_by_code()
    assert {"SECRET_KEY", "DATABASE_URL", "AUDIT_HMAC_KEY"} <= helpers  # the scan works
    for doc in _app_workloads():
        for container in _containers(doc):
            for name in _env_of(container):
                if name in LIBRARY_ENV:
                    continue
                if name.endswith("_FILE"):
                    assert name[: -len("_FILE")] in helpers, (
                        f"{name}: {name[:-5]} is not read through aggregator.platform.env, "
                        "so its _FILE variant means nothing"
                    )
                else:
                    assert name in helpers | raw, f"{doc['metadata']['name']} sets {name}, unread"


def _secret_keys() -> set[str]:
    docs = [doc for name, doc in _documents() if name == "secrets.example.yaml"]
    (secret,) = [d for d in docs if d["metadata"]["name"] == SECRETS]
    return set(secret["stringData"])


def test_secrets_come_from_files_every_pod_mounts():
    config = _config()
    required = {"SECRET_KEY", "AUDIT_HMAC_KEY", "DATABASE_URL", "REDIS_URL"}
    for name in required:
        assert f"{name}_FILE" in config and name not in config, f"{name} must come from a file"
    keys = _secret_keys()
    for doc in _app_workloads():
        volumes = {v["name"]: v for v in _pod_spec(doc)["volumes"]}
        for container in _containers(doc):
            mounts = {
                m["mountPath"]: volumes[m["name"]]
                for m in container.get("volumeMounts", [])
                if "secret" in volumes[m["name"]]
            }
            for name, value in _env_of(container).items():
                if not name.endswith("_FILE"):
                    continue
                directory, _slash, key = value.rpartition("/")
                volume = mounts.get(directory)
                where = f"{doc['metadata']['name']}/{container['name']} {name}={value}"
                assert volume is not None, f"{where}: nothing mounted at {directory}"
                assert volume["secret"]["secretName"] == SECRETS, where
                items = volume["secret"].get("items")
                names = {i["path"]: i["key"] for i in items} if items else {k: k for k in keys}
                assert key in names and names[key] in keys, f"{where}: no such key in {SECRETS}"


def test_the_settings_start_with_the_deployed_configuration(tmp_path):
    """manage.py check --deploy passes with the ConfigMap and secret files like the pods'."""
    secret_dir = tmp_path / "secrets"
    secret_dir.mkdir()
    for key in _secret_keys():
        value = secrets.token_urlsafe(48)
        if key == "database_url":
            value = "postgres://wattbit:pw@db.invalid:5432/wattbit"
        elif key == "redis_url":
            value = "redis://:pw@redis.invalid:6379/0"
        (secret_dir / key).write_text(value + "\n")
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "SYSTEMROOT"}}
    env.update(
        {k: v.replace("/run/secrets/wattbit", str(secret_dir)) for k, v in _config().items()}
    )
    env.update({"DJANGO_SETTINGS_MODULE": "aggregator.settings", "PYTHONPATH": str(ROOT)})
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


# --- pods: security, writable paths, budgets, sizing ---------------------------------------


def test_app_pods_run_as_the_image_user_on_a_read_only_root():
    uid = int(re.search(r"--uid (\d+)", DOCKERFILE.read_text()).group(1))
    for doc in _workloads():
        spec = _pod_spec(doc)
        name = doc["metadata"]["name"]
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec.get("automountServiceAccountToken") is False, name
        if doc in _app_workloads():
            assert spec["securityContext"]["runAsUser"] == uid, name
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        volumes.update(
            {t["metadata"]["name"]: t for t in doc["spec"].get("volumeClaimTemplates", [])}
        )
        for container in _containers(doc):
            sc = container["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True, name
            assert sc["allowPrivilegeEscalation"] is False, name
            assert sc["capabilities"]["drop"] == ["ALL"], name
            assert "memory" in container["resources"]["limits"], name
            mounts = {m["mountPath"]: volumes[m["name"]] for m in container["volumeMounts"]}
            if container["image"] == IMAGE:
                assert "emptyDir" in mounts.get("/tmp", {}), f"{name}: /tmp must be writable"
            env = _env_of(container)
            if "PROMETHEUS_MULTIPROC_DIR" in env:
                # prometheus-client needs the directory to exist: it is a mount of its own.
                assert "emptyDir" in mounts.get(env["PROMETHEUS_MULTIPROC_DIR"], {}), name
            if "MPLCONFIGDIR" in env:
                assert env["MPLCONFIGDIR"].startswith("/tmp/"), name


def test_selectors_match_their_pods():
    for doc in _workloads():
        if doc["kind"] != "Job":  # a Job's selector is generated
            assert _matches(doc["spec"]["selector"], _pod_spec_labels(doc)), doc["metadata"]
    deployments = {d["metadata"]["name"]: d for d in _of_kind("Deployment")}
    budgets = _of_kind("PodDisruptionBudget")
    for name, doc in deployments.items():
        mine = [b for b in budgets if _matches(b["spec"]["selector"], _pod_spec_labels(doc))]
        if doc["spec"]["replicas"] >= 2:
            assert len(mine) == 1, f"{name} has {len(mine)} disruption budgets"
            assert mine[0]["spec"]["minAvailable"] < doc["spec"]["replicas"], name
    for budget in budgets:
        assert any(_matches(budget["spec"]["selector"], labels) for labels in _pod_labels())
    for hpa in _of_kind("HorizontalPodAutoscaler"):
        target = hpa["spec"]["scaleTargetRef"]
        assert target["kind"] == "Deployment" and target["name"] in deployments
    for policy in _of_kind("NetworkPolicy"):
        selector = policy["spec"]["podSelector"]
        assert not selector or any(_matches(selector, labels) for labels in _pod_labels()), (
            f"NetworkPolicy {policy['metadata']['name']} selects no pod"
        )
        for rule in policy["spec"].get("ingress", []):
            for peer in rule.get("from", []):
                if "podSelector" in peer and "namespaceSelector" not in peer:
                    assert any(_matches(peer["podSelector"], labels) for labels in _pod_labels())


def test_redis_persists_its_queue():
    (redis_set,) = _of_kind("StatefulSet")
    (config,) = [d for d in _of_kind("ConfigMap") if d["metadata"]["name"] == "redis-config"]
    conf = config["data"]["redis.conf"]
    assert re.search(r"^appendonly yes$", conf, re.M)
    assert re.search(r"^maxmemory-policy noeviction$", conf, re.M)
    mounts = {m["mountPath"]: m["name"] for m in _containers(redis_set)[0]["volumeMounts"]}
    claims = {t["metadata"]["name"] for t in redis_set["spec"]["volumeClaimTemplates"]}
    assert re.search(r"^dir /data$", conf, re.M) and mounts["/data"] in claims
    host = _secret_example("redis_url").split("@", 1)[1].split(":")[0]
    services = {s["metadata"]["name"] for s in _of_kind("Service")}
    assert host in services and redis_set["spec"]["serviceName"] == host


def _secret_example(key: str) -> str:
    docs = [doc for name, doc in _documents() if name == "secrets.example.yaml"]
    return next(d["stringData"][key] for d in docs if d["metadata"]["name"] == SECRETS)


def _bench_l_row() -> dict[str, str]:
    """The L:lp row of the national-scale table in docs/benchmarks.md, by column."""
    lines = (ROOT / "docs" / "benchmarks.md").read_text().splitlines()
    header = None
    for line in lines:
        if line.startswith("| case |") and "peak RSS" in line and "wall" in line:
            header = [c.strip() for c in line.strip("|").split("|")]
        elif header and line.startswith("| L:lp |"):
            return dict(zip(header, [c.strip() for c in line.strip("|").split("|")], strict=True))
    pytest.fail("docs/benchmarks.md has no national-scale table with an L:lp row")


def test_the_clearing_worker_holds_a_bench_l_solve():
    row = _bench_l_row()
    peak_mib = int(re.match(r"([\d,]+) MiB", row["peak RSS"]).group(1).replace(",", ""))
    wall_s = float(re.match(r"([\d.]+) s", row["wall"]).group(1))
    (clearing,) = [d for d in _of_kind("Deployment") if d["metadata"]["name"] == "worker-clearing"]
    container = _containers(clearing, init=False)[0]
    assert _bytes(container["resources"]["limits"]["memory"]) > peak_mib * 2**20
    # A warm shutdown lets the solve in hand finish instead of redoing it elsewhere.
    assert _pod_spec(clearing)["terminationGracePeriodSeconds"] > wall_s
    assert _option(container["command"], "--concurrency") == "1"
