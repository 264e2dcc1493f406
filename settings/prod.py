"""Production: every secret and location must come from the environment; nothing defaults.

``python manage.py check --deploy`` is clean under these settings.
"""

from settings.base import *  # noqa: F403
from settings.base import (
    REDIS_MODE,
    REDIS_SENTINEL_MASTER,
    REDIS_SENTINELS,
    _tune_database,
    celery_broker,
    env,
)

SECRET_KEY = env("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
DATABASES = {"default": _tune_database(env.db("DATABASE_URL"))}
REDIS_URL = env("REDIS_URL", default="") if REDIS_MODE == "sentinel" else env("REDIS_URL")
CELERY_BROKER_URL, CELERY_BROKER_TRANSPORT_OPTIONS = celery_broker(
    REDIS_URL,
    REDIS_MODE,
    REDIS_SENTINELS,
    REDIS_SENTINEL_MASTER,
    env("CELERY_BROKER_URL", default=""),
)
SIGNING_KEY_FILE = env.path("SIGNING_KEY_FILE")
SIGNING_KEY_AUTOCREATE = False
# The shipped GeoLite2 build is from 2018: production must name a current database.
GEOIP_CITY_DB = env("GEOIP_CITY_DB")
DEBUG = False

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Proof-of-reserves leaf salts must not be derivable from anything else.
POR_SALT_SECRET = env("POR_SALT_SECRET")
# The demo market feed sends made-up prices and orders: never next to real ones.
DEMO_FEED = False
