"""Django settings for wattbit, read from the environment (see deploy/env.example).

The embedded default (no DATABASE_URL, no REDIS_URL) runs on SQLite with in-process
Celery tasks; with both set it is the production shape: PostgreSQL, Redis, real workers.
"""

from __future__ import annotations

from datetime import timedelta
from ipaddress import ip_network
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

from aggregator.platform.env import ImproperEnvironment, env_bool, env_int, env_list, env_str

# Imported under another name: Celery reads every CELERY_* setting (CELERY_QUEUES is task_queues).
from aggregator.platform.queues import CELERY_QUEUES as _KNOWN_QUEUES

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("WATTBIT_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)

_DEV_SECRET = "wattbit-insecure-development-key-do-not-use-in-production"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET if DEBUG else None)
if not SECRET_KEY:
    raise ImproperEnvironment("SECRET_KEY must be set when DEBUG is off")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "django_htmx",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    # OAuth2 client credentials for OpenADR 3 VENs (aggregator/openadr/): tokens, hashed client secrets.
    "oauth2_provider",
    "aggregator.platform",
    "operators",
    "market",
    "settlement",
    "aggregator.exchange",
    "aggregator.openadr",
]

MIDDLEWARE = [
    # First: every response, a refusal too, carries the id its log lines carry.
    "aggregator.platform.request_id.RequestIdMiddleware",
    # /metrics for Prometheus, answered before anything else to those it admits; anyone
    # else falls through to the 404 of any unknown path (aggregator/platform/metrics.py).
    "aggregator.platform.metrics.MetricsEndpointMiddleware",
    "aggregator.platform.metrics.HttpMetricsMiddleware",
    "aggregator.platform.middleware.RequestBodyLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "aggregator.platform.middleware.ApiLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "aggregator.platform.middleware.ApiErrorMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "aggregator.urls"
# Which actor a logged-in user is: the operators app knows; the platform asks it by name
# (aggregator/platform/access.py), so that the platform imports no app.
WATTBIT_ACTOR_FOR_USER = "operators.actors.actor_for_user"
WSGI_APPLICATION = "aggregator.wsgi.application"
ASGI_APPLICATION = "aggregator.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "operators.context_processors.membership",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL is None:
    # The embedded default: a SQLite file under var/, created on first use.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASE_URL = f"sqlite:///{VAR_DIR / 'wattbit.sqlite3'}"
try:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
except ValueError as exc:
    raise ImproperEnvironment(f"DATABASE_URL is not a database URL: {exc}") from exc
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # SQLite as a server's database (the embedded default runs a web server and an
    # in-process scheduler that write at once): WAL lets readers go on during a write,
    # IMMEDIATE transactions take the write lock at BEGIN so that two writers queue behind
    # the busy timeout instead of one failing with "database is locked" when it upgrades
    # from a read, and NORMAL synchronous is safe under WAL.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked-out login before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Portal logins: after this many failures for one username from one address, that pair is
# locked out for the cool-off time (per pair, so nobody can lock a colleague out from
# elsewhere). Attempts live in the database, so every web process sees them. The market
# operator unlocks early in the Django admin (Axes → access attempts) or with
# `manage.py axes_reset_username USER`; each lockout is an audit event.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# Which address a request comes from: the socket's, or — behind TRUSTED_PROXIES reverse
# proxies (the ingress in deploy/) — the one they put into X-Forwarded-For. Never trust
# the header without a proxy: clients could name any address and dodge every limit.
TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", 0)
AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXIES or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR") if TRUSTED_PROXIES else ("REMOTE_ADDR",)
)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "login"

# --- Time and language ----------------------------------------------------------------
# Stored in UTC, shown in Japan Standard Time (JEPX slots are JST).
USE_TZ = True
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("Japanese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600

# --- Static files ---------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Security (production when DEBUG is off) --------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    # TLS terminates at the ingress/nginx in deploy/, which sets X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Probes come over plain HTTP from inside the cluster.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- REST API -------------------------------------------------------------------------
# Any request body (JSON, CSV, form) above this is refused with 413 before it is read
# (aggregator.platform.middleware). A bulk of 10,000 bids × 48 intervals is about 3.2 MB.
MAX_REQUEST_BODY_BYTES = env_int("MAX_REQUEST_BODY_BYTES", 8 * 1024 * 1024)
REST_FRAMEWORK = {
    "DEFAULT_PARSER_CLASSES": [
        "aggregator.platform.api.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "operators.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["aggregator.platform.api.permissions.IsParticipant"],
    "DEFAULT_PAGINATION_CLASS": "aggregator.platform.api.pagination.IdCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "aggregator.platform.api.schema.ProblemAutoSchema",
    "EXCEPTION_HANDLER": "aggregator.platform.api.problems.problem_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "aggregator.platform.api.throttling.OrganisationRateThrottle",
        "rest_framework.throttling.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "organisation": env_str("API_RATE_ORGANISATION", "6000/min"),
        "anon": env_str("API_RATE_ANON", "60/min"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "NUM_PROXIES": TRUSTED_PROXIES,
}
# Failed API-key attempts per client address and minute, then 429 (a key is never
# probed unthrottled: authentication fails before DRF's throttles would run).
API_FAILED_KEYS_PER_MINUTE = env_int("API_FAILED_KEYS_PER_MINUTE", 20)
SPECTACULAR_SETTINGS = {
    "TITLE": "wattbit exchange API",
    "DESCRIPTION": (
        "A neutral Watt-Bit exchange: energy offers, compute capacity and flexible AI "
        "workloads, cleared every 30 minutes. Authenticate with `Authorization: Api-Key <key>`."
        "\n\nConventions (docs/api.md): every instant is ISO 8601 in JST with its offset "
        "(`2026-12-04T13:00:00+09:00`; send any offset); every quantity, price and amount is a "
        "decimal string (`16.5` as a JSON string), integers (ids, counts, integer yen) are JSON numbers. "
        "Messages follow `Accept-Language` (`ja`, `en`; English without the header). The "
        "Carbon Aware SDK routes (`/api/v1/carbon-aware/…`) and the engine's snapshot download "
        "keep their own formats; the OpenADR 3.1 VTN (`/openadr3/`) follows its specification."
    ),
    "VERSION": "1.0.0",
    # 3.1 for its `webhooks`: the dispatch-order push is part of the API (docs/webhooks.md).
    "OAS_VERSION": "3.1.0",
    "WEBHOOKS": ["market.api.webhook_schema.dispatch_order_webhook"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "market.api.webhook_schema.document_webhook_headers",
    ],
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "ApiKeyAuth": {"type": "apiKey", "in": "header", "name": "Authorization"}
        }
    },
    "SECURITY": [{"ApiKeyAuth": []}],
    # Several models have a field called "status"; name each choice set explicitly.
    "ENUM_NAME_OVERRIDES": {
        "RunStatusEnum": "market.models.clearing.RunStatus",
        "BidStatusEnum": "market.choices.BidStatus",
        "DeliveryStateEnum": "market.models.dispatch.DeliveryState",
        "AckStateEnum": "market.models.dispatch.AckState",
        "WorkloadKindEnum": "market.choices.WorkloadKind",
    },
}

# --- Celery and the shared cache --------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
# One cache for every process (throttle counters must be shared: each gunicorn worker and
# pod counting on its own lets N× the rate through): Redis when there is one, else the
# database (its table is made by a migration, aggregator 0003).
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
         "KEY_PREFIX": "wattbit"}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.db.DatabaseCache",
              "LOCATION": "wattbit_cache"}
    )
}  # fmt: skip
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
# Redis' transport with the fix that lets a worker outlive a Redis restart (platform/broker.py).
if REDIS_URL:
    CELERY_BROKER_TRANSPORT = "aggregator.platform.broker:Transport"
CELERY_RESULT_BACKEND = None
# Without Redis the same pipeline runs in-process, so `make run` needs nothing else.
CELERY_TASK_ALWAYS_EAGER = REDIS_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# A killed worker's unacknowledged tasks come back after visibility_timeout plus kombu's
# restore sweep (see shared OPERATIONS_NOTES); keep both short so a crash costs seconds.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 300),
    "unacked_restore_interval": 2,
    "unacked_restore_throttle": 1,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# One queue per kind of work, each with its own workers (deploy/k8s/, docs/deploy.md), so a
# solve never waits behind pushes or PDFs and a slow receiver never delays a clearing:
# `clearing` — one solve per worker process, memory-limited; `dispatch` — I/O-bound pushes
# and the cycle's short triggers, many threads; `settlement` — bookkeeping; `reports` —
# documents (the names: aggregator/platform/queues.py). Every task is routed by name (a test
# checks that none is left to the default).
CELERY_TASK_ROUTES = {
    "aggregator.tasks.clear_interval": {"queue": "clearing"},
    "aggregator.tasks.clear_due_intervals": {"queue": "dispatch"},
    "aggregator.tasks.push_orders": {"queue": "dispatch"},
    "aggregator.tasks.push_due_deliveries": {"queue": "dispatch"},
    "aggregator.tasks.flag_unacknowledged_orders": {"queue": "dispatch"},
    "openadr.tasks.push_notifications": {"queue": "dispatch"},
    "settlement.tasks.settle_due_intervals": {"queue": "settlement"},
    "settlement.tasks.finalise_interval": {"queue": "settlement"},
    "aggregator.tasks.issue_audit_checkpoint": {"queue": "settlement"},
    "market.tasks.purge_idempotency_keys": {"queue": "settlement"},
    "settlement.tasks.verify_integrity": {"queue": "settlement"},
    "settlement.tasks.write_monthly_statements": {"queue": "reports"},
}
# A task nobody routed still reaches a consumer (never the unconsumed "celery" queue).
CELERY_TASK_DEFAULT_QUEUE = "dispatch"
assert {r["queue"] for r in CELERY_TASK_ROUTES.values()} <= set(_KNOWN_QUEUES)
# Beat, highly available: any number of beat processes may run; they share the schedule in
# Redis and only the holder of a Redis lock sends anything (celery-redbeat). The holder
# renews the lock on every tick; if it dies, another takes over once the lock has expired
# (BEAT_LOCK_TIMEOUT_S) — a standby polls for it every BEAT_MAX_LOOP_INTERVAL_S.
if REDIS_URL:
    CELERY_BEAT_SCHEDULER = "redbeat.RedBeatScheduler"
CELERY_REDBEAT_REDIS_URL = REDIS_URL
CELERY_REDBEAT_KEY_PREFIX = "wattbit:beat"
# Ride out a Redis restart for a minute before giving up (redbeat retries with backoff).
CELERY_REDBEAT_REDIS_OPTIONS = {"retry_period": env_int("BEAT_REDIS_RETRY_S", 60)}
CELERY_BEAT_MAX_LOOP_INTERVAL = env_int("BEAT_MAX_LOOP_INTERVAL_S", 5)
CELERY_REDBEAT_LOCK_TIMEOUT = env_int("BEAT_LOCK_TIMEOUT_S", 30)
if not 0 < CELERY_BEAT_MAX_LOOP_INTERVAL < CELERY_REDBEAT_LOCK_TIMEOUT:
    raise ImproperEnvironment(
        "BEAT_MAX_LOOP_INTERVAL_S must be positive and below BEAT_LOCK_TIMEOUT_S, or the lock "
        "expires between two renewals and a standby beat takes over from a live one"
    )
# Workers: a lost broker connection is retried for ever (a worker must outlive a Redis
# restart; docs/deploy.md), with the connection checked before each publish.
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False

# --- Webhooks -------------------------------------------------------------------------
# Production refuses http:// and private/loopback targets (SSRF); tests with a local
# receiver set WEBHOOK_ALLOW_PRIVATE_TARGETS=1.
WEBHOOK_ALLOW_PRIVATE_TARGETS = env_bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", DEBUG)
# The whole of one push attempt — lookup, connect, TLS, send, status line and headers —
# ends after this many seconds, however slowly a receiver trickles (operators/webhooks.py).
WEBHOOK_TIMEOUT_S = env_int("WEBHOOK_TIMEOUT_S", 10)
# After a secret rotation the old secret keeps signing beside the new one for this many
# hours, so receivers can switch without losing orders (docs/webhooks.md); 0: it stops at once.
WEBHOOK_SECRET_OVERLAP_HOURS = env_int("WEBHOOK_SECRET_OVERLAP_HOURS", 24)
if not 0 <= WEBHOOK_SECRET_OVERLAP_HOURS <= 24 * 30:
    raise ImproperEnvironment(
        f"WEBHOOK_SECRET_OVERLAP_HOURS={WEBHOOK_SECRET_OVERLAP_HOURS} is not within 0–720"
    )

# --- Metrics (/metrics for Prometheus; docs/operations.md) -------------------------------
# Admitted: `Authorization: Bearer <METRICS_TOKEN>` (or METRICS_TOKEN_FILE), or a direct
# connection from METRICS_ALLOWED_NETWORKS (CIDRs; a request that came through a proxy never
# qualifies by address). Anyone else gets the 404 of any unknown path.
METRICS_TOKEN = env_str("METRICS_TOKEN")
METRICS_ALLOWED_NETWORKS = env_list("METRICS_ALLOWED_NETWORKS", ["127.0.0.1/32", "::1/128"])
try:
    _metrics_networks = [ip_network(n, strict=False) for n in METRICS_ALLOWED_NETWORKS]
except ValueError as exc:
    raise ImproperEnvironment(f"METRICS_ALLOWED_NETWORKS: {exc}") from exc
# The domain's collectors, read from the database at scrape time (the roof reads all apps).
METRICS_COLLECTORS = ["aggregator.exchange.metrics.DomainCollector"]

# --- Tamper evidence --------------------------------------------------------------------
# The key of the audit chain's and the ledger's MACs and of the signed checkpoints; it must
# not live in the database (or its backups), or someone with database access could re-sign
# what they changed (aggregator/platform/integrity.py; required when DEBUG is off, NAME_FILE too).
AUDIT_HMAC_KEY = env_str("AUDIT_HMAC_KEY")

# --- Logging --------------------------------------------------------------------------
# LOG_FORMAT=json: one JSON object per line (for a log pipeline), else plain text. Either
# way each line has the request id that caused it, through Celery tasks too
# (aggregator/platform/request_id.py), and a task's line its task id and name.
LOG_FORMAT = env_str("LOG_FORMAT", "plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperEnvironment(f"LOG_FORMAT={LOG_FORMAT!r} is not plain or json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "aggregator.platform.request_id.RequestIdFilter"}},
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        },
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s "
            "%(task_id)s %(task_name)s %(process)d",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
# Workers log through the same handler and format as the web processes (Celery would
# otherwise replace the root logger's handlers with its own format, without request ids).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# A clearing run's claim lasts this long; a worker silent for longer is presumed dead and
# another takes the run over (solving takes seconds, so minutes are generous).
CLEARING_LEASE_S = env_int("CLEARING_LEASE_S", 300)
# A clearing's result must be ready this long before its interval starts (orders must
# reach participants); the engine's time budget is what is left at gate closure (50 min
# with the default 60-min lead). A late trigger still gets CLEARING_MIN_BUDGET_S.
CLEARING_FINISH_BEFORE_S = env_int("CLEARING_FINISH_BEFORE_S", 600)
CLEARING_MIN_BUDGET_S = env_int("CLEARING_MIN_BUDGET_S", 15)
# Placements in leavable workload-site pairs from which the engine solves over the pairs that
# may pay their migration cost (pair generation, docs/engine.md; the engine's own default,
# aggregator/engine/migration_pairs.py DEFAULT_FROM_ROWS). The result is the same either way.
CLEARING_PAIR_GENERATION_FROM = env_int("CLEARING_PAIR_GENERATION_FROM", 50_000)
# Where the monthly job writes statements and invoices (a volume shared with whoever sends
# them out; `manage.py make_statements -o DIR` writes elsewhere on demand).
STATEMENTS_DIR = Path(env_str("STATEMENTS_DIR", str(VAR_DIR / "statements")))

# --- The interval cycle's clock (Celery beat; `make run` ticks the same tasks in-process) --
# The market's clock: the wall clock, unless a drill sets MARKET_CLOCK=START@EPOCHxSPEED
# (market/clock.py); refused outside debug unless MARKET_CLOCK_ALLOWED=1 says it is a drill.
MARKET_CLOCK = env_str("MARKET_CLOCK")
if MARKET_CLOCK and not (DEBUG or env_bool("MARKET_CLOCK_ALLOWED", False)):
    raise ImproperEnvironment("MARKET_CLOCK is for drills: set MARKET_CLOCK_ALLOWED=1 as well")
CELERY_BEAT_SCHEDULE = {
    # How often beat looks for intervals past gate closure, and for pushes due (seconds).
    "clear-due-intervals": {
        "task": "aggregator.tasks.clear_due_intervals",
        "schedule": float(env_int("BEAT_CLEAR_EVERY_S", 30)),
    },
    "push-due-deliveries": {
        "task": "aggregator.tasks.push_due_deliveries",
        "schedule": float(env_int("BEAT_PUSH_EVERY_S", 10)),
    },
    "flag-unacknowledged-orders": {
        "task": "aggregator.tasks.flag_unacknowledged_orders",
        "schedule": 60.0,
    },
    "settle-due-intervals": {"task": "settlement.tasks.settle_due_intervals", "schedule": 60.0},
    "purge-idempotency-keys": {"task": "market.tasks.purge_idempotency_keys", "schedule": 3600.0},
    # Anchors the audit chain's head outside the database (regulators get it in reports).
    "issue-audit-checkpoint": {
        "task": "aggregator.tasks.issue_audit_checkpoint",
        "schedule": 3600.0,
    },
    # The whole audit chain and the ledger, checked daily at 02:00 JST (verdicts on /metrics).
    "verify-integrity": {
        "task": "settlement.tasks.verify_integrity",
        "schedule": crontab(minute=0, hour=17),
    },
    # The previous JST month's statements and invoices as files, on the 2nd at 01:30 JST.
    "write-monthly-statements": {
        "task": "settlement.tasks.write_monthly_statements",
        "schedule": crontab(minute=30, hour=16, day_of_month=1),
    },
    # OpenADR 3 subscriptions: notify VENs of the events new dispatch orders became.
    "push-openadr-notifications": {
        "task": "openadr.tasks.push_notifications",
        "schedule": 10.0,
    },
}

# OpenADR 3.1 VTN (aggregator/openadr/, docs/interop.md): OAuth2 client credentials through
# django-oauth-toolkit. Which of the spec's scopes a client may ask for is stored with the
# client (aggregator.openadr.scopes); client secrets are hashed at rest (the toolkit's default).
OAUTH2_PROVIDER = {
    "SCOPES": {
        "read_all": "Read all programs and events one may see",
        "read_targets": "Read programs and events targeted at one",
        "read_ven_objects": "Read one's own VENs, resources, reports and subscriptions",
        "write_reports": "Write reports (acknowledge dispatch orders)",
        "write_subscriptions": "Write subscriptions (notification callbacks)",
        "write_vens": "Write one's VENs and resources",
        "write_programs": "Write programs (the exchange's own; never granted)",
        "write_events": "Write events (the exchange's own; never granted)",
    },
    "SCOPES_BACKEND_CLASS": "aggregator.openadr.scopes.ClientScopes",
    "ACCESS_TOKEN_EXPIRE_SECONDS": env_int("OPENADR_TOKEN_EXPIRE_S", 3600),
    # The toolkit's RFC 9700 (OAuth 2.0 Security BCP) behaviour, ahead of its 4.0 default:
    # tokens hashed at rest, never taken from a query string, no implicit or password
    # grant, no plain PKCE, https redirects only (the VTN uses none of those grants).
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
}
# The toolkit's models are swappable; named here so that migrations can point at them.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
# A subscription's callback must answer the challenge (and each notification) in this time.
OPENADR_CALLBACK_TIMEOUT_S = env_int("OPENADR_CALLBACK_TIMEOUT_S", 10)
