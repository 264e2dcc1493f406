"""Settings shared by every environment.

Everything that differs between machines comes from an environment variable (django-environ)
and is listed, with its default, in the README. Production (``settings.prod``) removes the
defaults of the ones that matter, so a misconfigured deployment fails at start-up instead of
running with a development secret.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

VAR_DIR = Path(env("GATEHOUSE_VAR_DIR", default=str(BASE_DIR / "var")))


def _shipped_geolite2_city() -> str:
    """Path of the GeoLite2 City database shipped on PyPI (maxminddb-geolite2, a 2018 build)."""
    import _maxminddb_geolite2

    return str(Path(_maxminddb_geolite2.__file__).parent / "GeoLite2-City.mmdb")


SECRET_KEY = env("SECRET_KEY", default="dev-insecure-gatehouse-secret-key-change-me-0123456789")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "core",
    "compliance",
    "risk",
    "custody",
    "oversight",
    "console",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.middleware.ApiErrorMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "settings.urls"
WSGI_APPLICATION = "settings.wsgi.application"
ASGI_APPLICATION = "settings.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
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

DATABASES = {
    "default": environ.Env.db_url_config(
        env.str("DATABASE_URL", default="") or f"sqlite:///{VAR_DIR / 'gatehouse.sqlite3'}"
    ),
}


def _tune_database(database: dict) -> dict:
    """SQLite takes its write lock at BEGIN (IMMEDIATE) so two writers never deadlock on the
    read-to-write upgrade; the ledger and the audit chain rely on serialised writers."""
    if database["ENGINE"] == "django.db.backends.sqlite3":
        options = database.setdefault("OPTIONS", {})
        options.setdefault("transaction_mode", "IMMEDIATE")
        options.setdefault("timeout", 20)
        options.setdefault("init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
    else:
        database.setdefault("CONN_MAX_AGE", 60)
        database.setdefault("CONN_HEALTH_CHECKS", True)
    return database


DATABASES["default"] = _tune_database(DATABASES["default"])
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
    # Report files: every host must read the same ones (oversight/storage.py). The default is
    # the local VAR_DIR/reports; several hosts name a shared backend, e.g. django-storages'
    # storages.backends.s3.S3Storage with {"bucket_name": ..., "endpoint_url": ...}.
    "reports": {
        "BACKEND": env("REPORTS_STORAGE_BACKEND", default="oversight.storage.VarDirStorage"),
        "OPTIONS": env.json("REPORTS_STORAGE_OPTIONS", default={}),
    },
}
WHITENOISE_USE_FINDERS = True

# --- Redis: live state, the policy version, decision streams and the Celery broker -------
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6390/0")
# standalone | cluster (REDIS_URL names any node) | sentinel (REDIS_SENTINELS, ..._MASTER)
REDIS_MODE = env("REDIS_MODE", default="standalone").strip().lower()
REDIS_SENTINELS = env("REDIS_SENTINELS", default="")
REDIS_SENTINEL_MASTER = env("REDIS_SENTINEL_MASTER", default="gatehouse")
REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT", default=5.0)
REDIS_CONNECT_TIMEOUT = env.float("REDIS_CONNECT_TIMEOUT", default=1.0)
# The request hot path waits at most this long on Redis before failing closed.
REDIS_HOT_TIMEOUT = env.float("REDIS_HOT_TIMEOUT", default=0.05)
# An accepted check is answered only once its write is on this many replicas (Redis WAIT,
# in the step's own pipeline); 0 turns it off (standalone has no replicas).
REDIS_MIN_REPLICAS = env.int("REDIS_MIN_REPLICAS", default=0)
# How long WAIT may take (ms); inside the hot-path timeout so the socket never times out first.
REDIS_WAIT_TIMEOUT_MS = env.int(
    "REDIS_WAIT_TIMEOUT_MS", default=max(1, int(REDIS_HOT_TIMEOUT * 1000 * 0.6))
)

# --- GeoIP2 ----------------------------------------------------------------------------
GEOIP_CITY_DB = env("GEOIP_CITY_DB", default="") or _shipped_geolite2_city()
GEOIP_ANONYMOUS_DB = env("GEOIP_ANONYMOUS_DB", default="") or None

# --- Signing (Ed25519): audit-chain checkpoints, ledger checkpoints, reports, PoR roots ----
SIGNING_KEY_FILE = Path(env("SIGNING_KEY_FILE", default=str(VAR_DIR / "signing" / "ed25519.pem")))
SIGNING_KEY_AUTOCREATE = env.bool("SIGNING_KEY_AUTOCREATE", default=True)

# --- Audit chain -------------------------------------------------------------------------
AUDIT_CHECKPOINT_EVERY = env.int("AUDIT_CHECKPOINT_EVERY", default=100)

# --- API keys ----------------------------------------------------------------------------
API_KEY_CACHE_SECONDS = env.float("API_KEY_CACHE_SECONDS", default=1.0)

# --- Serving -----------------------------------------------------------------------------
PORT = env.int("PORT", default=8000)
WEB_WORKERS = env.int("WEB_WORKERS", default=2)
WEB_THREADS = env.int("WEB_THREADS", default=4)

# --- Django REST framework and OpenAPI ----------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["core.auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["core.auth.HasScope"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "core.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    "COERCE_DECIMAL_TO_STRING": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Gatehouse API",
    "DESCRIPTION": (
        "Risk, compliance and jurisdiction gate for a 24/7 venue for US-stock perpetuals and "
        "tokenized real-world assets. Authenticate with `Authorization: Api-Key <key>`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}


# --- Celery ------------------------------------------------------------------------------
def celery_broker(
    redis_url: str, mode: str, sentinels: str, master: str, given: str = ""
) -> tuple[str, dict]:
    """The broker URL and its transport options for a Redis mode. kombu does not speak
    Redis Cluster: in cluster mode ``CELERY_BROKER_URL`` must name another broker, and its
    absence stops the start-up. In sentinel mode the broker follows the same Sentinels."""
    options = {"visibility_timeout": 3600}
    if mode == "cluster" and not given:
        raise ImproperlyConfigured(
            "REDIS_MODE=cluster: set CELERY_BROKER_URL to a broker kombu can use (a standalone "
            "or Sentinel-watched Redis, or RabbitMQ); Celery cannot use a Redis Cluster"
        )
    if mode == "sentinel" and not given:
        hosts = [part.strip() for part in sentinels.split(",") if part.strip()]
        if not hosts:
            raise ImproperlyConfigured("REDIS_MODE=sentinel needs REDIS_SENTINELS=host:port,...")
        database = redis_url.rsplit("/", 1)[-1] if redis_url.count("/") >= 3 else "0"
        given = ";".join(f"sentinel://{host}/{database or '0'}" for host in hosts)
        options["master_name"] = master
    return given or redis_url, options


CELERY_BROKER_URL, CELERY_BROKER_TRANSPORT_OPTIONS = celery_broker(
    REDIS_URL,
    REDIS_MODE,
    REDIS_SENTINELS,
    REDIS_SENTINEL_MASTER,
    env("CELERY_BROKER_URL", default=""),
)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=600)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=540)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"

# --- Logging -----------------------------------------------------------------------------
LOG_LEVEL = env("LOG_LEVEL", default="INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "django.db.backends": {"level": "WARNING"},
    },
}

# --- Jurisdiction gate --------------------------------------------------------------------
# Effects for signals without a jurisdiction, per action (RULES.md §7; never on withdraw).
ACCESS_DEFAULT_ANONYMIZER = env.dict("ACCESS_DEFAULT_ANONYMIZER", default={"open": "review"})
ACCESS_DEFAULT_IP_UNLOCATED = env.dict("ACCESS_DEFAULT_IP_UNLOCATED", default={"open": "review"})
ACCESS_DEFAULT_NO_PROFILE = env.dict("ACCESS_DEFAULT_NO_PROFILE", default={"open": "review"})
# A rule draft's impact is measured over the access and pre-trade decisions of this many
# days before it is asked for (issue 18; compliance.impact).
RULE_IMPACT_WINDOW_DAYS = env.int("RULE_IMPACT_WINDOW_DAYS", default=30)
if not 1 <= RULE_IMPACT_WINDOW_DAYS <= 366:
    raise ImproperlyConfigured("RULE_IMPACT_WINDOW_DAYS must be between 1 and 366")

# --- Pre-trade check ----------------------------------------------------------------------
# An accepted order's reservation lapses after this long unless filled or cancelled.
ORDER_TTL_SECONDS = env.int("ORDER_TTL_SECONDS", default=24 * 3600)
# How long a repeated order_id (or fill_id) gets the first answer (API.md, "Pre-trade");
# an order's live state lasts no longer than this window and the order's own life.
PRETRADE_IDEMPOTENCY_SECONDS = env.int("PRETRADE_IDEMPOTENCY_SECONDS", default=24 * 3600)
# Message rate per account (GCRA): one order per interval on average, bursts up to BURST.
ORDER_RATE_INTERVAL_MS = env.int("ORDER_RATE_INTERVAL_MS", default=10)
ORDER_RATE_BURST = env.int("ORDER_RATE_BURST", default=200)
# Group commit (core/group_commit.py): hot-path checks (a single pre-trade check, an access
# check's record step) served at once by one worker process share a batch and its Redis
# round trip. Off: each its own. The window is how long the first waits for others, in
# microseconds (0: no wait; those that arrive while a batch is out join the next one).
GROUP_COMMIT = env.bool("GROUP_COMMIT", default=True)
GROUP_COMMIT_US = env.int("GROUP_COMMIT_US", default=0)

# --- Console -------------------------------------------------------------------------------
# The officers' web console (the console app): two-factor sign-in with
# django-otp TOTP, roles as groups, a strict Content-Security-Policy on its pages.
INSTALLED_APPS += ["django_otp", "django_otp.plugins.otp_totp"]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "django_otp.middleware.OTPMiddleware",
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "console.middleware.ContentSecurityPolicyMiddleware",
)
TEMPLATES[0]["OPTIONS"]["libraries"] = {"console": "console.templatetags"}
TEMPLATES[0]["OPTIONS"]["context_processors"].append("console.context.console")
LOGIN_URL = "console:sign-in"
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="Gatehouse")
SESSION_COOKIE_AGE = env.int("CONSOLE_SESSION_SECONDS", default=8 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "core.errors.csrf_failure"  # the contract's 403 under /api/
# Secure cookies: always in production (settings.prod); here from the environment.
SESSION_COOKIE_SECURE = env.bool("CONSOLE_SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Sign-in lockout, per username: this many failures (password or code) lock it this long.
CONSOLE_LOCKOUT_FAILURES = env.int("CONSOLE_LOCKOUT_FAILURES", default=5)
CONSOLE_LOCKOUT_MINUTES = env.int("CONSOLE_LOCKOUT_MINUTES", default=15)
# How long the password step stays valid while the officer fetches a code.
CONSOLE_SECOND_FACTOR_SECONDS = 300
CONSOLE_AUDIT_STATUS_CACHE_SECONDS = env.int("CONSOLE_AUDIT_STATUS_CACHE_SECONDS", default=30)
CONSOLE_CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
# Paths that keep their own policy (the admin and the API docs ship inline scripts).
CONSOLE_CSP_EXEMPT_PREFIXES = ("/admin/", "/api/")

# --- Alerts, monitors and notifications ------------------------------------------------------
ALERT_EMAIL_RECIPIENTS = env.list("ALERT_EMAIL_RECIPIENTS", default=[])
ALERT_WEBHOOK_URL = env("ALERT_WEBHOOK_URL", default="")
ALERT_WEBHOOK_TIMEOUT = env.float("ALERT_WEBHOOK_TIMEOUT", default=5.0)
ALERT_NOTIFY_MIN_SEVERITY = env("ALERT_NOTIFY_MIN_SEVERITY", default="warning")
# A repeat of an alert's key, or a new alert of the same kind and cause, within this many
# minutes of the last one joins the unresolved alert and incident (oversight.incidents).
ALERT_FOLD_MINUTES = env.int("ALERT_FOLD_MINUTES", default=60)
MONITOR_REPEAT_DENIALS = env.int("MONITOR_REPEAT_DENIALS", default=5)
MONITOR_COUNTRIES_PER_HOUR = env.int("MONITOR_COUNTRIES_PER_HOUR", default=3)
MONITOR_WINDOW_MINUTES = env.int("MONITOR_WINDOW_MINUTES", default=60)
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="gatehouse@localhost")

# --- Markets ---------------------------------------------------------------------------------
MARKET_TICKS_MAX_BATCH = env.int("MARKET_TICKS_MAX_BATCH", default=1000)

# --- Demo market feed (make run) -------------------------------------------------------------
# A supervised process of ``make run`` (console/demo_feed/): ticks for the demo instruments and
# demo traders' orders through the public API, so a fresh demo has markets that move, breaker
# episodes and real rejects. Never in production (settings.prod forces it off).
DEMO_FEED = env.bool("DEMO_FEED", default=True)
DEMO_FEED_SEED = env.int("DEMO_FEED_SEED", default=0)
DEMO_FEED_ORDER_SECONDS = env.float("DEMO_FEED_ORDER_SECONDS", default=3.0)
DEMO_FEED_EPISODE_MINUTES = env.float("DEMO_FEED_EPISODE_MINUTES", default=20.0)
# make run's Celery workers and beat write at this level into var/log/ (their per-task INFO
# lines, several a second, would bury what matters).
CELERY_LOG_LEVEL = env("CELERY_LOG_LEVEL", default="WARNING").upper()

# --- Custody ledger ------------------------------------------------------------------------
LEDGER_CHECKPOINT_EVERY = env.int("LEDGER_CHECKPOINT_EVERY", default=1000)
# A withdrawal held for review longer than this raises an alert (oversight.monitors.custody).
HELD_WITHDRAWAL_ALERT_MINUTES = env.int("HELD_WITHDRAWAL_ALERT_MINUTES", default=240)
# Sanctions name screening (issue 15): a score at or above the potential-match threshold
# opens a case; at or above the match threshold the answer says "match". The shipped values
# come from the evaluation in compliance/screening/evaluation.py (make bench reports it).
SCREENING_MATCH_THRESHOLD = env.float("SCREENING_MATCH_THRESHOLD", default=0.95)
SCREENING_POTENTIAL_MATCH_THRESHOLD = env.float("SCREENING_POTENTIAL_MATCH_THRESHOLD", default=0.85)
LARGE_WITHDRAWAL_THRESHOLD = env.dict(
    "LARGE_WITHDRAWAL_THRESHOLD",
    default={
        "USDC": "100000",
        "USDT": "100000",
        "USD": "100000",
        "USTB": "100000",
        "BTC": "2",
        "ETH": "30",
    },
)
# Salt of proof-of-reserves leaves (derived from SECRET_KEY when unset; set it in prod).
POR_SALT_SECRET = env("POR_SALT_SECRET", default="")
POR_CHUNK_LEAVES = env.int("POR_CHUNK_LEAVES", default=1024)
# The ledger asset the pre-trade check counts as collateral.
PRETRADE_COLLATERAL_ASSET = env("PRETRADE_COLLATERAL_ASSET", default="USDC")
REJECT_SPIKE_MIN_ORDERS = env.int("REJECT_SPIKE_MIN_ORDERS", default=20)
REJECT_SPIKE_RATIO = env("REJECT_SPIKE_RATIO", default="0.5")
