"""Benchmark of daily report generation over a day of 1M access decisions (quick: 100k).

Issue 8 asks for the generation time of a day with a million decisions. The run happens in a
child process with its own throwaway SQLite database and ``GATEHOUSE_VAR_DIR`` under a
temporary directory (``bench/__main__`` has already configured Django for ``settings.dev``
in this process, and the bench must never write into the developer's database): the child
migrates, inserts the day with ``bulk_create`` in batches, then times ``generate_report``.

Every section aggregates in SQL (GROUP BY over the day's ``decided_at`` range): the rows
Python sees are the aggregates (a few hundred), never the decisions. The ``rows_in_python``
note makes that visible. Regenerating (v2) shows the warm-cache time; ``verify_report``
re-reads and re-hashes every file and checks the signature.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BATCH = 5_000


def _run_child(decisions: int, scratch: str, database_url: str) -> list[dict]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "settings.dev",
        "DATABASE_URL": database_url,
        "GATEHOUSE_VAR_DIR": scratch,
        "SIGNING_KEY_FILE": f"{scratch}/signing.pem",
    }
    result = subprocess.run(
        [sys.executable, "-m", "bench.bench_reports", str(decisions)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"report bench child failed:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _postgres_rows(decisions: int, scratch: str, server_url: str) -> list[dict]:
    """On a throwaway database created on the given server and dropped afterwards."""
    import psycopg

    name = f"gatehouse_bench_reports_{os.getpid()}"
    admin = server_url.replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        base = server_url.rsplit("/", 1)[0]
        return _run_child(decisions, scratch, f"{base}/{name}")
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')


def run(quick: bool = False) -> list[dict]:
    """SQLite always; PostgreSQL too when ``BENCH_POSTGRES_URL`` names a server on which the
    bench may create (and then drop) a database of its own."""
    decisions = 100_000 if quick else 1_000_000
    rows = []
    with tempfile.TemporaryDirectory(prefix="gatehouse-bench-reports-") as scratch:
        rows += _run_child(decisions, scratch, f"sqlite:///{scratch}/bench.sqlite3")
    server = os.environ.get("BENCH_POSTGRES_URL")
    if server:
        with tempfile.TemporaryDirectory(prefix="gatehouse-bench-reports-") as scratch:
            rows += _postgres_rows(decisions, scratch, server)
    return rows


def _decisions(count: int, day):
    """A plausible day: mostly allows from many countries, PRC and OFAC denials, reviews
    from anonymizers; 50k accounts, 100k addresses, spread over the day."""
    from datetime import UTC, datetime, timedelta

    from compliance.models import AccessDecision

    start = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    profiles = [
        ("allow", "", "", "", "SG", False),
        ("allow", "", "", "", "US", False),
        ("allow", "", "", "", "GB", False),
        ("allow", "", "", "", "HK", False),
        ("allow", "", "", "", "JP", False),
        ("allow", "", "", "", "DE", False),
        ("allow", "", "", "", "SG", False),
        ("deny", "prc-rwa-2026", "CN", "ip_geolocation", "CN", False),
        ("deny", "prc-vc-2026", "CN", "residence", "SG", False),
        ("deny", "ofac-comprehensive", "IR", "ip_geolocation", "IR", False),
        ("review", "default-anonymizer", "", "ip_geolocation", None, True),
        ("close_only", "prc-wind-down", "CN", "nationality", "HK", False),
    ]
    products = ("rwa_token", "equity_perp", "crypto_perp")
    actions = ("open", "reduce", "deposit", "withdraw", "view")
    step = 86_400_000_000 // count
    for index in range(count):
        effect, rule, jurisdiction, signal, country, anonymizer = profiles[index % len(profiles)]
        yield AccessDecision(
            decision_id=f"{index:032x}",
            decided_at=start + timedelta(microseconds=index * step),
            account_id="" if index % 11 == 0 else f"acc-{index % 50_000}",
            client_ip=f"10.{index % 97}.{(index // 97) % 256}.{index % 251}",
            product_class=products[index % 3],
            action=actions[index % 5],
            effect=effect,
            deciding_rule=rule,
            deciding_jurisdiction=jurisdiction,
            deciding_signal=signal,
            reasons=[],
            signals={
                "ip": {"country": country, "subdivision": None, "anonymizer": anonymizer},
                "profile_known": index % 11 != 0,
            },
            policy_version="rb1.p1",
            requested_by="key:bench",
        )


def _child(count: int) -> list[dict]:
    import itertools
    from datetime import UTC, date, datetime

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from compliance.models import AccessDecision
    from oversight import report_verification, reports

    call_command("migrate", verbosity=0)
    day = date(2026, 11, 23)
    rows = _decisions(count, day)
    started = time.perf_counter()
    while batch := list(itertools.islice(rows, BATCH)):
        AccessDecision.objects.bulk_create(batch, batch_size=BATCH)
    inserted = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    engine = "PostgreSQL" if connection.vendor == "postgresql" else "SQLite"

    now = datetime(2026, 11, 24, 9, tzinfo=UTC)
    timings, generated = [], []
    for _ in range(2):
        started = time.perf_counter()
        report = reports.generate_report(kind="daily", period=day, generated_by="bench", now=now)
        timings.append(time.perf_counter() - started)
        generated.append(report)
    digests = [sorted((f.name, f.sha256) for f in r.files.all() if f.section) for r in generated]
    fingerprint = hashlib.sha256(repr(digests[0]).encode()).hexdigest()[:12]
    started = time.perf_counter()
    verified = report_verification.verify_report(report).ok
    verify_seconds = time.perf_counter() - started
    python_rows = _aggregate_rows(report)
    size = f"{count:,} decisions"
    return [
        {
            "name": f"insert {size} (bulk_create, batches of {BATCH:,}, {engine})",
            "seconds": inserted,
            "n": count,
            "note": f"{count / inserted:,.0f} rows/s; {engine}",
        },
        {
            "name": f"generate daily report, {size} (v1, {engine})",
            "seconds": timings[0],
            "n": count,
            "note": f"aggregates in SQL; rows_in_python={python_rows}; {engine}",
        },
        {
            "name": f"regenerate same day, {size} (v2, {engine})",
            "seconds": timings[1],
            "n": count,
            "note": (
                f"warm cache; section files identical to v1: {digests[0] == digests[1]}; "
                f"sections fingerprint {fingerprint} (same data → same files on any engine)"
            ),
        },
        {
            "name": f"verify_report (digests + Ed25519, {engine})",
            "seconds": verify_seconds,
            "n": report.files.count(),
            "note": f"ok={verified}",
        },
    ]


def _aggregate_rows(report) -> int:
    """Rows the sections handed to Python: the CSV files' row counts in the manifest."""
    from oversight.reports import reports_root

    manifest = json.loads((reports_root() / report.directory / "manifest.json").read_text())
    return sum(entry["rows"] for entry in manifest["files"] if entry["name"].endswith(".csv"))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    print(json.dumps(_child(int(sys.argv[1]))))
