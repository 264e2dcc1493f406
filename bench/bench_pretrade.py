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
NAUTILUS_VERSION = "1.221.0"
NAUTILUS_VENV = HERE.parent / "var" / "bench" / f"nautilus-{NAUTILUS_VERSION}"
BASELINE = "NautilusTrader RiskEngine.execute (baseline)"
STATELESS = ("stateless checks in process (no GeoIP)", "stateless checks incl. GeoIP lookup")


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
    rows = json.loads(output.strip().splitlines()[-1])
    return _with_nautilus(rows, _nautilus_row(2_000 if quick else 20_000))


def _nautilus_python() -> Path:
    """The Python of a venv of its own with ``nautilus_trader`` (made once, under ``var/``):
    Gatehouse's venv stays free of it."""
    python = NAUTILUS_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(NAUTILUS_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             f"nautilus_trader=={NAUTILUS_VERSION}"],
            check=True,
        )  # fmt: skip
    return python


def _nautilus_row(n: int) -> dict:
    """NautilusTrader's RiskEngine timed now, on this machine (``nautilus_riskengine.py``):
    the same-run baseline of the stateless stage. Without it the row says why, and no ratio
    is printed against a figure from another day."""
    try:
        result = json.loads(
            subprocess.run(
                [str(_nautilus_python()), str(HERE / "nautilus_riskengine.py"), str(n)],
                capture_output=True,
                text=True,
                check=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
    except (OSError, subprocess.CalledProcessError, ValueError, IndexError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        return {"name": BASELINE, "note": f"not measured: {detail.strip()[-300:]}"}
    return {
        "name": BASELINE,
        "median_us": f"{result['median_us']:.3f}",
        "p99_us": f"{result['p99_us']:.3f}",
        "n": result["n"],
        "note": f"nautilus_trader {result['version']} in its own venv, same run: "
        "RiskEngine.execute(SubmitOrder) of a limit order with a max notional per order "
        "(its checks and hand-off to the execution engine; debug and logging off)",
    }


def _with_nautilus(rows: list[dict], baseline: dict) -> list[dict]:
    """The baseline row first, and each stateless row's ratio to it."""
    for row in rows:
        if row["name"] in STATELESS:
            if "median_us" in baseline:
                ratio = float(row["median_us"]) / float(baseline["median_us"])
                row["note"] += f"; {ratio:.2f}× NautilusTrader's RiskEngine, same run"
            else:
                row["note"] += "; NautilusTrader's RiskEngine not measured in this run"
    return [baseline, *rows]
