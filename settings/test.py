"""Test settings: real Redis and a real database, chosen by ``scripts/run_tests.py``.

``DATABASE_URL`` selects SQLite (default) or PostgreSQL; ``REDIS_URL`` points at a real
server. Nothing here is mocked: tests that need Redis get a flushed logical database.
"""

import os
import tempfile
from pathlib import Path

from settings.base import *  # noqa: F403
from settings.base import (
    DATABASES,
    REDIS_MODE,
    REDIS_SENTINEL_MASTER,
    REDIS_SENTINELS,
    celery_broker,
    env,
)

DATABASES["default"].setdefault("TEST", {})
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory: black-box tests start a real server process against the same
    # migrations, and WAL keeps readers from blocking on the single writer.
    DATABASES["default"]["TEST"].setdefault(
        "NAME", str(Path(tempfile.gettempdir()) / f"gatehouse-test-{os.getpid()}.sqlite3")
    )

REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/9")
CELERY_BROKER_URL, CELERY_BROKER_TRANSPORT_OPTIONS = celery_broker(
    REDIS_URL,
    REDIS_MODE,
    REDIS_SENTINELS,
    REDIS_SENTINEL_MASTER,
    env("CELERY_BROKER_URL", default=""),
)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SIGNING_KEY_FILE = Path(tempfile.gettempdir()) / "gatehouse-test-signing" / "ed25519.pem"
API_KEY_CACHE_SECONDS = 1.0
AUDIT_CHECKPOINT_EVERY = 5
STATIC_ROOT = Path(tempfile.gettempdir()) / "gatehouse-test-static"
STATIC_ROOT.mkdir(exist_ok=True)
# A loaded CI machine must not turn a slow answer into a spurious fail-closed reject.
REDIS_HOT_TIMEOUT = 1.0
