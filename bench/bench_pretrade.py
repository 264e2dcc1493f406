"""The pre-trade check in process: stateless stage, market view, and the full check with
its Redis round trips, next to one Redis round trip measured in the same run. Runs in a
subprocess with a throw-away SQLite database and its own embedded Redis."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run(quick: bool = False) -> list[dict]:
    from core import embedded_redis

    work = Path(tempfile.mkdtemp(prefix="gatehouse-bench-pretrade-"))
    port = embedded_redis.free_port()
    redis_process = embedded_redis.start(work / "redis", port, persistent=False)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "settings.dev",
        "DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}",
        "REDIS_URL": f"redis://127.0.0.1:{port}/0",
        "GATEHOUSE_VAR_DIR": str(work),
        "ORDER_RATE_INTERVAL_MS": "0",
        "LOG_LEVEL": "WARNING",
    }
    try:
        output = subprocess.run(
            [sys.executable, str(HERE / "pretrade_inprocess.py"), *(["--quick"] if quick else [])],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        redis_process.kill()
    return json.loads(output.strip().splitlines()[-1])
