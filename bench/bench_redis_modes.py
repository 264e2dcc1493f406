"""The pre-trade check on each Redis mode (issue 16), in one run: a standalone server (the
baseline), a primary with one replica and ``REDIS_MIN_REPLICAS=1`` (what ``WAIT`` costs per
check) against the same primary without it, and a real three-primary Redis Cluster. Each
setup runs ``pretrade_inprocess.py --mode`` in a subprocess with its own SQLite database:
a PING on the same client and the full single-order check, median and p99."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def _measure(label: str, work: Path, quick: bool, **env: str) -> list[dict]:
    work.mkdir(parents=True, exist_ok=True)
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("REDIS_", "CELERY_"))},
        "DJANGO_SETTINGS_MODULE": "settings.dev",
        "DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}",
        "GATEHOUSE_VAR_DIR": str(work),
        "ORDER_RATE_INTERVAL_MS": "0",
        "LOG_LEVEL": "WARNING",
        **env,
    }
    output = subprocess.run(
        [
            sys.executable,
            str(HERE / "pretrade_inprocess.py"),
            "--mode",
            label,
            *(["--quick"] if quick else []),
        ],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def run(quick: bool = False) -> list[dict]:
    from scripts import redis_topology

    scratch = Path(tempfile.mkdtemp(prefix="gatehouse-bench-modes-"))
    rows: list[dict] = []
    standalone = redis_topology.start_standalone(scratch / "standalone")
    try:
        url = standalone.url("redis")
        rows += _measure("standalone (baseline)", scratch / "a", quick, REDIS_URL=url)
    finally:
        standalone.stop()

    replicated = redis_topology.start_sentinels(scratch / "replicated", replicas=1, sentinels=0)
    try:
        url = replicated.url("primary")
        rows += _measure("primary + 1 replica, no WAIT", scratch / "b", quick, REDIS_URL=url)
        rows += _measure(
            "primary + 1 replica, REDIS_MIN_REPLICAS=1",
            scratch / "c",
            quick,
            REDIS_URL=url,
            REDIS_MIN_REPLICAS="1",
            REDIS_HOT_TIMEOUT="0.5",
        )
    finally:
        replicated.stop()

    cluster = redis_topology.start_cluster(scratch / "cluster")
    try:
        rows += _measure(
            "cluster of 3 primaries",
            scratch / "d",
            quick,
            REDIS_MODE="cluster",
            REDIS_URL=cluster.url(cluster.names[0]),
            CELERY_BROKER_URL="memory://",
        )
    finally:
        cluster.stop()

    by_name = {row["name"]: row for row in rows}

    def ratio(name: str, baseline: str) -> str:
        value = Decimal(by_name[name]["median_us"]) / Decimal(by_name[baseline]["median_us"])
        return f"{value:.2f}× the median of '{baseline}'"

    base = "full check, standalone (baseline)"
    notes = {
        "redis PING, standalone (baseline)": "one round trip, same client",
        base: "check_orders, one order (one round trip: order_step)",
        "full check, primary + 1 replica, no WAIT": ratio(
            "full check, primary + 1 replica, no WAIT", base
        ),
        "full check, primary + 1 replica, REDIS_MIN_REPLICAS=1": (
            "WAIT 1 in the account step's pipeline: "
            + ratio(
                "full check, primary + 1 replica, REDIS_MIN_REPLICAS=1",
                "full check, primary + 1 replica, no WAIT",
            )
        ),
        "full check, cluster of 3 primaries": "two round trips (instrument step, then account "
        "step: their keys are in different slots); "
        + ratio("full check, cluster of 3 primaries", base),
        "batch of 100 checks (3 accounts), cluster of 3 primaries": ratio(
            "batch of 100 checks (3 accounts), cluster of 3 primaries",
            "batch of 100 checks (3 accounts), standalone (baseline)",
        )
        + "; one pipeline per round, sent to every node before any read",
        "redis PING, cluster of 3 primaries": ratio(
            "redis PING, cluster of 3 primaries", "redis PING, standalone (baseline)"
        ),
    }
    for row in rows:
        row.setdefault("note", notes.get(row["name"], ""))
    return rows
