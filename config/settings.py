"""ValueGate settings: the environment over embedded defaults.

With nothing set, ValueGate runs embedded: SQLite, tasks executed eagerly, DEBUG on for the demo.
A deployment sets DATABASE_URL, REDIS_URL, DJANGO_SECRET_KEY, DJANGO_DEBUG=0, DJANGO_ALLOWED_HOSTS.
"""

from __future__ import annotations

import os
from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="") or (
    "embedded-demo-key-not-for-production" if DEBUG else ""
)
if not SECRET_KEY:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])

INSTALLED_APPS = [
    # Before the admin, whose base_site.html template the workspace overrides.
    "governance.workspace",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "projects",
    "governance",
    "governance.access",
    "governance.audit",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "governance.api",
    "axes",
    "csp",
]

MIDDLEWARE = [
    # First, so that its Redis budget covers the whole request (governance/redis_budget.py).
    "governance.redis_budget.RedisBudgetMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: a signed-in person's saved language and time zone.
    "governance.access.preferences.PreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "governance.access.middleware.RefusalLogMiddleware",
    # Inside the messages middleware: the receipts of a request's decisions become a message.
    "governance.ledger.receipts.ReceiptsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

# Login throttling (django-axes): after AXES_FAILURE_LIMIT failed logins for one username from
# one address, further attempts are refused for AXES_COOLOFF_TIME; a success resets the count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("VALUEGATE_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("VALUEGATE_LOGIN_COOLOFF_HOURS", default=0.5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The address is the client's, not a reverse proxy's (governance/access/client_address.py): list
# the proxies in front of ValueGate, e.g. VALUEGATE_TRUSTED_PROXIES=10.0.0.5,10.0.1.0/24. Empty:
# ValueGate is reached directly and X-Forwarded-For is never believed.
VALUEGATE_TRUSTED_PROXIES = env.list("VALUEGATE_TRUSTED_PROXIES", default=[])
AXES_CLIENT_IP_CALLABLE = "governance.access.client_address.client_address"
# A lockout lasts AXES_COOLOFF_TIME from the failure that caused it; further tries do not renew it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_TEMPLATE = "governance/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# Lockouts are lifted with `manage.py axes_reset_username USERNAME`; axes' own admin pages and
# actions stay out of the committee's admin.
AXES_ENABLE_ADMIN = False

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite has no row locks: select_for_update() is a no-op there. IMMEDIATE transactions take
    # the database's write lock when a transaction starts, so two services that read-then-write
    # the same initiative are serialised instead of both reading the old stage.
    # WAL: readers never wait for the writer; with synchronous=NORMAL a commit does not wait for
    # the disk (a crash of the application loses nothing, a power cut at most the last commits,
    # never the file), which each notification's own settling commit would otherwise pay for.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # An on-disk test database so that concurrent test threads see real SQLite locking.
    # One file per test process, so that concurrent test runs on one checkout never share it.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / f".test-db-{os.getpid()}.sqlite3")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Production keeps each process's database connection for a minute instead of opening one per
# request; the health check before reuse drops a connection the server closed meanwhile.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=0 if DEBUG else 60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Two complete languages. A person's saved language wins, then the language cookie the header's
# switcher sets, then the browser's Accept-Language, then LANGUAGE_CODE (governance/access/preferences.py).
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en-us")
LOCALE_PATHS = [BASE_DIR / "locale"]
# The time zone pages and messages are shown in for a person who chose none, e.g. Asia/Shanghai.
# The database, the ledger and the API stay in UTC.
TIME_ZONE = env.str("VALUEGATE_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True
# The currency of a business case that names none, e.g. CNY or USD (ISO 4217).
VALUEGATE_DEFAULT_CURRENCY = env.str("VALUEGATE_DEFAULT_CURRENCY", default="USD")

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("VALUEGATE_MEDIA_ROOT", default=BASE_DIR / "media")
# Largest evidence file accepted (bytes); see governance/value/evidence_checks.py.
EVIDENCE_MAX_BYTES = env.int("VALUEGATE_EVIDENCE_MAX_BYTES", default=20 * 1024 * 1024)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

EMAIL_BACKEND = env.str("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="valuegate@localhost")
# An e-mail provider's API instead of SMTP: install django-anymail with the provider's extra, set
# DJANGO_EMAIL_BACKEND to its backend and VALUEGATE_ANYMAIL to its settings as JSON (README).
ANYMAIL = env.json("VALUEGATE_ANYMAIL", default={})
# An SMTP server that stops answering must not hold the outbox relay: the send fails, is recorded
# on its notification and retried later.
EMAIL_TIMEOUT = env.int("DJANGO_EMAIL_TIMEOUT", default=30)
if env.str("EMAIL_FILE_PATH", default=""):
    # For the file-based e-mail backend: one file per message, e.g. to see what a worker sent.
    EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH")

# Notifications (governance/notifications): the address links in messages start with, and how the
# relay treats each delivery. A delivery is dead after MAX_ATTEMPTS failures (backoff 1, 2, 4 …
# minutes, at most 6 hours apart: 8 attempts are about four hours of trying); the chair and the
# governance admins see dead deliveries in the admin and retry them from there.
VALUEGATE_BASE_URL = env.str("VALUEGATE_BASE_URL", default="http://127.0.0.1:8000")
VALUEGATE_NOTIFICATION_MAX_ATTEMPTS = env.int("VALUEGATE_NOTIFICATION_MAX_ATTEMPTS", default=8)
# Seconds one webhook or chat receiver may take to answer before the attempt counts as failed.
VALUEGATE_NOTIFICATION_TIMEOUT = env.float("VALUEGATE_NOTIFICATION_TIMEOUT", default=10.0)
# Without a broker the relay runs in the request that committed the decision: for this long at
# most, the periodic relay (governance_tick) sends the rest.
VALUEGATE_NOTIFICATION_EAGER_SECONDS = env.float("VALUEGATE_NOTIFICATION_EAGER_SECONDS", default=5.0)
# Webhooks for integrations and chat bots, by name (see governance/notifications/channels.py), as
# JSON: {"name": {"kind": "webhook|dingtalk|feishu|wecom|slack|teams", "url": …, "secret": …,
# "events": [every event sent to it], "selectable": offered on people's preferences pages}}.
VALUEGATE_NOTIFICATION_CHANNELS = env.json("VALUEGATE_NOTIFICATION_CHANNELS", default={})
# What a person gets an event on until they choose otherwise.
VALUEGATE_NOTIFICATION_DEFAULT_CHANNELS = env.list(
    "VALUEGATE_NOTIFICATION_DEFAULT_CHANNELS", default=["email"]
)

# KPI connectors (governance/value/connectors): where KPIs can be measured from their systems of
# record, by name, as JSON: {"name": {"kind": "sql", "url_env": "SALES_DATABASE_URL",
# "timeout_seconds": 30, "row_limit": 10000}} reads a SQLAlchemy URL from the named environment
# variable (PostgreSQL or SQLite; the credentials never enter the database), {"name": {"kind": "csv",
# "directory": "/srv/kpi-drops"}} reads CSV files dropped there. A source is read again after
# VALUEGATE_KPI_SOURCE_INTERVAL_HOURS, a failing one at every hourly run. Unset: one file-drop
# directory in the checkout, which the demo's customer-service pilot is measured from.
VALUEGATE_KPI_CONNECTORS = env.json(
    "VALUEGATE_KPI_CONNECTORS",
    default={"file-drops": {"kind": "csv", "directory": str(BASE_DIR / "kpi-drops")}},
)
VALUEGATE_KPI_SOURCE_INTERVAL_HOURS = env.int("VALUEGATE_KPI_SOURCE_INTERVAL_HOURS", default=24)

# Celery: a broker only when REDIS_URL is set; otherwise tasks run in-process, eagerly.
REDIS_URL = env.str("REDIS_URL", default="")
# A web request waits on an unresponsive Redis about this long at most, all its Redis calls
# together (the token's rate limit, the publish after its decision): after the first call that
# fails, or once its calls took this long, the request skips the rest (governance/redis_budget.py).
# Each call's connect and read timeouts are half of it, so that a slow connect and then a read fit.
VALUEGATE_REDIS_REQUEST_SECONDS = env.float("VALUEGATE_REDIS_REQUEST_SECONDS", default=2.0)
REDIS_CALL_TIMEOUT = VALUEGATE_REDIS_REQUEST_SECONDS / 2
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
# The queue web processes publish to and workers consume, so deployments can share one Redis.
CELERY_TASK_DEFAULT_QUEUE = env.str("VALUEGATE_CELERY_QUEUE", default="celery")
# Schedules in UTC: a DST change moves no run and never runs one twice or skips one.
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
# A task is acknowledged after it ran, and put back when its worker dies mid-task, so a killed
# worker loses no work; the tasks are idempotent, so a second run does nothing more.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A worker reserves one message at a time: with late acks, prefetched messages would wait unacked
# behind a long task and risk the visibility timeout.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A stuck task (hung SMTP server, lock wait) is interrupted, then killed; its transaction rolls
# back and the next run takes the work up again.
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_TIME_LIMIT = 300
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Redis redelivers a message not acknowledged within this time. It must exceed the longest
    # task (CELERY_TASK_TIME_LIMIT) and the longest retry countdown (10 minutes, governance/tasks.py):
    # a worker holds a counting-down message unacknowledged, and a shorter timeout would deliver it
    # a second time.
    "visibility_timeout": 3600,
    # Publishing from a web request must never hang on an unreachable or frozen Redis: bounded
    # connect and read timeouts (kombu's default waits forever), and one quick retry of a refused
    # or dropped connection (a read that timed out is not retried).
    "socket_connect_timeout": REDIS_CALL_TIMEOUT,
    "socket_timeout": REDIS_CALL_TIMEOUT,
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 0.5,
}
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_CALL_TIMEOUT
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 0.5,
}
# Workers and beat, unlike web requests, wait for the broker as long as it takes.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# The committee's periodic work. Each job is idempotent (unique keys), so two beat processes or a
# redelivered message do nothing more; each runs hourly so that a run missed while Redis was down
# is made up within the hour (beat does not replay missed runs). `expires` drops copies that
# queued up while no worker was running.
CELERY_BEAT_SCHEDULE = {
    # The outbox relay: what the after-commit trigger could not queue goes out within a minute.
    "relay-notifications": {
        "task": "governance.notifications.tasks.relay_notifications",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Before the exit criteria and value reviews of the hour, so that they judge fresh figures.
    "measure-kpis-from-source": {
        "task": "governance.tasks.measure_kpis_from_source",
        "schedule": crontab(minute=0),
        "options": {"expires": 3000},
    },
    "chase-overdue-signoffs": {
        "task": "governance.tasks.chase_overdue_signoffs",
        "schedule": crontab(minute=5),
        "options": {"expires": 3000},
    },
    "enforce-exit-criteria": {
        "task": "governance.tasks.enforce_exit_criteria",
        "schedule": crontab(minute=15),
        "options": {"expires": 3000},
    },
    "escalate-perpetual-pilots": {
        "task": "governance.tasks.escalate_perpetual_pilots",
        "schedule": crontab(minute=25),
        "options": {"expires": 3000},
    },
    # Opens the month's reviews from the day last month's measurements are due; hourly so a
    # missed day is made up, a no-op once the month's reviews exist.
    "open-value-reviews": {
        "task": "governance.tasks.open_value_reviews",
        "schedule": crontab(minute=35),
        "options": {"expires": 3000},
    },
    "purge-idempotency-keys": {
        "task": "governance.tasks.purge_idempotency_keys",
        "schedule": crontab(hour=3, minute=10),
        "options": {"expires": 6 * 3600},
    },
    # Decision ledger: events a crashed process left unsequenced are sealed within a minute;
    # checkpoints go to the witnesses every VALUEGATE_LEDGER_CHECKPOINT_INTERVAL seconds.
    "sequence-ledger-events": {
        "task": "governance.audit.tasks.sequence_ledger_events",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "publish-ledger-checkpoint": {
        "task": "governance.audit.tasks.publish_ledger_checkpoint",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
    # Decision ledger: verified every night (governance/audit/tasks.py); a failure alerts the
    # chair and the auditors.
    "verify-ledger-nightly": {
        "task": "governance.audit.tasks.verify_ledger_nightly",
        "schedule": crontab(hour=2, minute=40),
        "options": {"expires": 6 * 3600},
    },
}

# The cache holds the API's per-token rate-limit counters. With Redis, every web process counts
# against one limit (a per-process cache would multiply the limit by the number of processes),
# atomically; timeouts are bounded like the broker's, and the throttle lets requests through if
# Redis is unreachable (governance/api/throttling.py). Without Redis, the embedded default's one
# process keeps them in memory.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env.str("VALUEGATE_CACHE_URL", default=REDIS_URL),
            "KEY_PREFIX": "valuegate",
            "OPTIONS": {"socket_connect_timeout": REDIS_CALL_TIMEOUT, "socket_timeout": REDIS_CALL_TIMEOUT},
        }
    }

# REST API (governance/api): tokens or the admin session, strict JSON, one error format.
# 10,000 KPI measurements of up to ~500 bytes each fit in one request; a bigger body gets a 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("VALUEGATE_API_MAX_BODY_BYTES", default=5 * 1024 * 1024)
VALUEGATE_API_MAX_UPLOAD_BYTES = env.int("VALUEGATE_API_MAX_UPLOAD_BYTES", default=25 * 1024 * 1024)
VALUEGATE_API_TOKEN_RATE = env.str("VALUEGATE_API_TOKEN_RATE", default="1200/minute")
# How long a successful request's response is kept for its Idempotency-Key (replayed on a retry).
VALUEGATE_IDEMPOTENCY_KEY_DAYS = env.int("VALUEGATE_IDEMPOTENCY_KEY_DAYS", default=7)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "governance.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "governance.api.permissions.IntegrationScope",
    ],
    "DEFAULT_PARSER_CLASSES": ["governance.api.parsers.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_THROTTLE_CLASSES": ["governance.api.throttling.TokenRateThrottle"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_METADATA_CLASS": None,
    "EXCEPTION_HANDLER": "governance.api.exceptions.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ValueGate API",
    # Lazy: the schema is written in the language the request asks for.
    "DESCRIPTION": gettext_lazy(
        "Stage gates for AI initiatives: KPI ingestion, experiments, evidence, reviews, sign-offs, ledger."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # 3.1: the outgoing webhooks (one per notification event) are published beside the paths.
    "OAS_VERSION": "3.1.0",
    "WEBHOOKS": "governance.api.webhooks.WEBHOOKS",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "PATH_CONVERTER_OVERRIDES": {"id": {"type": "integer", "minimum": 0, "maximum": 999_999_999_999_999_999}},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "governance.api.schema.add_errors_and_idempotency",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="WARNING")},
}

# The decision ledger is a signed Merkle-tree log (governance/ledger/). Its Ed25519 signing key
# never enters the database: a file path or the key itself (`manage.py ledger_keygen`). In
# development it is a file next to the SQLite database (made by `make migrate`); in production set
# it explicitly (`check --deploy` refuses to pass without it). Older public keys stay trusted for
# the events they signed after a rotation (VALUEGATE_LEDGER_VERIFIER_KEYS: keys or files).
VALUEGATE_LEDGER_SIGNING_KEY = env.str(
    "VALUEGATE_LEDGER_SIGNING_KEY", default=str(BASE_DIR / "ledger-signing.key") if DEBUG else ""
)
VALUEGATE_LEDGER_VERIFIER_KEYS = env.list("VALUEGATE_LEDGER_VERIFIER_KEYS", default=[])
# The log's name in its checkpoints and the signing key's name (no spaces, no "+").
VALUEGATE_LEDGER_ORIGIN = env.str("VALUEGATE_LEDGER_ORIGIN", default="valuegate.local/ledger")
# When committed events are sequenced into the tree: "after_commit" (no lock in the decision;
# sealed right after its commit), "sequencer" (only by the one `manage.py ledger_sequencer`
# process of the Procfile, in batches: the most decisions per second), "inline" (inside the
# decision's transaction) or "auto" (inline on SQLite, which has one writer anyway; after commit
# on PostgreSQL).
VALUEGATE_LEDGER_SEALING = env.str("VALUEGATE_LEDGER_SEALING", default="auto")
# Signed checkpoints are published at this interval (seconds) to every witness directory: in
# production write-once storage or a mount of another host, outside the database's reach.
VALUEGATE_LEDGER_WITNESS_DIRS = env.list("VALUEGATE_LEDGER_WITNESS_DIRS", default=[])
VALUEGATE_LEDGER_CHECKPOINT_INTERVAL = env.int("VALUEGATE_LEDGER_CHECKPOINT_INTERVAL", default=3600)
# Also send each published checkpoint to the auditors (notification `ledger.checkpoint`).
VALUEGATE_LEDGER_CHECKPOINT_MAIL = env.bool("VALUEGATE_LEDGER_CHECKPOINT_MAIL", default=False)
# An anchor file of the hash chain (before the ledger was signed) is still checked when set.
VALUEGATE_LEDGER_ANCHOR_FILE = env.str("VALUEGATE_LEDGER_ANCHOR_FILE", default="")


# API tokens expire: VALUEGATE_API_TOKEN_DAYS after issue by default, at most
# VALUEGATE_API_TOKEN_MAX_DAYS; a rotated token keeps working VALUEGATE_API_TOKEN_OVERLAP_HOURS
# beside its replacement, so an integration can switch without a gap.
VALUEGATE_API_TOKEN_DAYS = env.int("VALUEGATE_API_TOKEN_DAYS", default=90)
VALUEGATE_API_TOKEN_MAX_DAYS = env.int("VALUEGATE_API_TOKEN_MAX_DAYS", default=365)
VALUEGATE_API_TOKEN_OVERLAP_HOURS = env.int("VALUEGATE_API_TOKEN_OVERLAP_HOURS", default=24)


# Content Security Policy (django-csp): every script and style comes from our own static files;
# no inline script is allowed, for our pages or anyone else's.
from csp.constants import NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Production mode (DJANGO_DEBUG=0): HTTPS only behind a proxy that sets X-Forwarded-Proto,
# secure cookies, HSTS. `manage.py check --deploy --fail-level WARNING` passes with these.
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    # The health check is probed over plain HTTP from inside the private network.
    SECURE_REDIRECT_EXEMPT = [r"^health/$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    SESSION_COOKIE_HTTPONLY = True
    CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
