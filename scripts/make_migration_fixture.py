"""Build the migrate-forward fixtures: a database created at commit 7178e5b (main before the
restructuring of issue 13), with rows in every table, dumped as SQL text.

    .venv/bin/python scripts/make_migration_fixture.py [--postgres URL] [--commit 7178e5b]

What it does, every run from scratch (re-runnable; it overwrites the fixtures):

1. ``git worktree add --detach`` of the commit in a temporary directory (removed afterwards;
   the working tree of this checkout is not touched).
2. For SQLite, and for PostgreSQL on a scratch database ``gatehouse_fixture_<pid>`` created
   with the role of ``--postgres`` (default: the local test server; the role needs
   CREATEDB) and dropped afterwards: runs this same file with ``--fill`` inside the old
   checkout, with that commit's code and migrations. ``--fill`` migrates, loads the demo
   data (``risk.demo.load``) and then drives the old code's own services and API to put
   realistic rows in every table: pre-trade checks, fills and cancels (decisions drained),
   access checks, halts, a corporate action, kill switches, ticks and price samples,
   deposits, withdrawals, a refused transfer, an open hold, a custodian statement with a
   break, proof-of-reserves publications, ledger and audit checkpoints, alerts with events
   and deliveries, a daily report with its files, proposals (approved, rejected, pending),
   sign-in throttles, a TOTP device, a session, an admin log entry and the celery-beat
   schedules. A table left empty fails the run. The clock is a manual one (a Tuesday in
   New York's regular session) so the markets are open whatever the day of the run.
3. Dumps the SQLite file with ``sqlite3.Connection.iterdump`` (``sqlite.sql``) and the
   PostgreSQL database with ``pg_dump --no-owner --no-privileges`` (``postgres.sql``; the
   psql-only ``\\restrict`` lines of recent pg_dump releases are removed, so the file can be
   loaded by ``tests/core/test_migrate_forward.py`` through psycopg without psql).

Redis: ``REDIS_URL`` (default ``redis://127.0.0.1:6379/9``); its logical database is
flushed before and after each fill. Output: ``tests/core/fixtures/db_at_7178e5b/``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMIT = "7178e5b"
OUT = ROOT / "tests" / "core" / "fixtures" / "db_at_7178e5b"
DEFAULT_POSTGRES = "postgres://gatehouse:gatehouse@127.0.0.1:5432/gatehouse"
# Tables that must hold rows in the fixture: all of them (django_migrations included).
ALLOWED_EMPTY: set[str] = set()
PG_DUMP_COMMENT = re.compile(r"--( (Name|Data for Name|PostgreSQL database dump)\b.*)?\n\Z")


# --- the fill, run inside the old checkout ------------------------------------------------


def fill() -> None:
    import django

    django.setup()
    from datetime import UTC, datetime

    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from core.redis_client import get_redis

    get_redis().flushdb()
    settings.ALERT_EMAIL_RECIPIENTS = ["oncall@example.com"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.CELERY_TASK_ALWAYS_EAGER = False

    from core.clock import ManualClock, use_clock

    now = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # Tuesday 10:00 New York
    clock = ManualClock(now)
    with use_clock(clock):
        _activity(settings, clock, now)
    get_redis().flushdb()


def _activity(settings, clock, now) -> None:
    import json
    from datetime import timedelta
    from decimal import Decimal

    from django.contrib.admin.models import CHANGE, LogEntry
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType
    from django.contrib.sessions.backends.db import SessionStore
    from django_celery_beat.models import (
        ClockedSchedule,
        PeriodicTask,
        PeriodicTasks,
        SolarSchedule,
    )
    from rest_framework.test import APIClient

    from compliance import alerts, decision_log, notifications, reports
    from core import audit
    from custody import checkpoints, publication, reconciliation
    from custody import services as custody
    from custody.money import to_minor
    from risk import decision_drain, demo, halts, kill_switches, resync, sweeper

    # Modules of the old layout only (imported by name: they do not exist in this checkout).
    maker_checker = importlib.import_module("core.console.maker_checker")
    sign_in = importlib.import_module("core.console.sign_in")
    live_controller = importlib.import_module("risk.market").live_controller

    credentials = demo.load(Path(settings.VAR_DIR) / "demo-credentials.json")
    key = {"HTTP_AUTHORIZATION": f"Api-Key {credentials['api_key']}"}
    api = APIClient(raise_request_exception=True)
    users = get_user_model().objects
    officer, checker = users.get(username="officer"), users.get(username="checker")
    resync.resync(now=now)

    def post(path, body, expect=(200, 201)):
        response = api.post(f"/api/v1/{path}", body, format="json", **key)
        if response.status_code not in expect:
            raise SystemExit(f"POST {path}: {response.status_code} {response.content[:500]}")
        return response.json()

    # Pre-trade: accepted and rejected orders, fills (margin holds in the ledger), cancels.
    ips = {"acc-sg": "203.198.7.66", "acc-us": "8.8.8.8", "acc-cn": "114.114.114.114"}
    orders = [
        ("o-1", "acc-sg", "AAPL-PERP", "buy", "10", "230.00"),
        ("o-2", "acc-sg", "NVDA-PERP", "sell", "5", "180.00"),
        ("o-3", "acc-sg", "AAPL-PERP", "buy", "1", "1.00"),  # outside the band
        ("o-4", "acc-us", "AAPL-PERP", "buy", "1", "230.00"),  # jurisdiction
        ("o-5", "acc-cn", "BTC-PERP", "buy", "0.01", "110000.0"),
        ("o-6", "acc-sg", "BTC-PERP", "buy", "0.02", "110000.0"),
    ]
    for order_id, account, symbol, side, quantity, price in orders:
        post(
            "pretrade/check",
            {
                "order_id": order_id,
                "account_id": account,
                "instrument": symbol,
                "side": side,
                "quantity": quantity,
                "price": price,
                "order_type": "limit",
                "reduce_only": False,
                "client_ip": ips[account],
            },
        )
    post(
        "orders/o-1/fills",
        {"fill_id": "f-1", "account_id": "acc-sg", "quantity": "4", "price": "229.90"},
    )
    post(
        "orders/o-6/fills",
        {"fill_id": "f-2", "account_id": "acc-sg", "quantity": "0.02", "price": "110000.0"},
    )
    post("orders/o-1/cancel", {"account_id": "acc-sg"})
    post("orders/o-2/cancel", {"account_id": "acc-sg"})
    post(
        "access/check",
        {
            "account_id": "acc-hk",
            "client_ip": "203.198.7.66",
            "product_class": "equity_perp",
            "action": "open",
        },
    )
    decision_drain.drain(claim_idle_ms=0)
    decision_log.drain(claim_idle_ms=0)

    # Markets: ticks, a halt and its resume, a corporate action, kill switches, samples.
    clock.advance(timedelta(minutes=1))
    ts = clock.now().isoformat().replace("+00:00", "Z")
    post(
        "market-data/ticks",
        {
            "ticks": [
                {"instrument": "AAPL-PERP", "source": "book", "price": "230.10", "ts": ts},
                {"instrument": "BTC-PERP", "source": "external", "price": "110050.0", "ts": ts},
            ]
        },
    )
    halts.halt_market(symbol="TSLA-PERP", reason="operator", actor="fixture")
    clock.advance(timedelta(seconds=30))
    halts.resume_market(symbol="TSLA-PERP", reason="operator", actor="fixture")
    halts.schedule_corporate_action(
        symbol="NVDA-PERP",
        kind=sorted(halts.CORPORATE_ACTION_KINDS)[0],
        starts_at=now + timedelta(days=2),
        ends_at=now + timedelta(days=2, hours=2),
        detail="2-for-1 split",
        actor="fixture",
    )
    kill_switches.engage(scope="account", target="acc-ir", actor="fixture", reason="review")
    kill_switches.engage(scope="instrument", target="USTB-RWA", actor="fixture", reason="x")
    kill_switches.release(scope="instrument", target="USTB-RWA", actor="fixture", reason="ok")
    clock.advance(timedelta(minutes=1))
    sweeper.sweep(now=clock.now())
    controller = live_controller()
    sweeper.sample_prices(controller, [d[0] for d in demo.INSTRUMENTS], clock.now())
    sweeper.drain_transitions(controller.store, [d[0] for d in demo.INSTRUMENTS])

    # Custody: deposits, a withdrawal, a transfer, a refusal, a statement with a break,
    # proof of reserves, a signed ledger checkpoint.
    post(
        "custody/deposits",
        {
            "id": "dep-gb-2",
            "account_id": "acc-gb",
            "asset": "USDC",
            "amount": "2500.00",
            "custody_wallet": "demo-custodian-usdc",
        },
    )
    post(
        "custody/withdrawals",
        {
            "id": "wd-gb-1",
            "account_id": "acc-gb",
            "asset": "USDC",
            "amount": "100.00",
            "custody_wallet": "demo-custodian-usdc",
        },
    )
    post(
        "custody/withdrawals",
        {
            "id": "wd-ir-too-much",
            "account_id": "acc-ir",
            "asset": "USDC",
            "amount": "99999999.00",
            "custody_wallet": "demo-custodian-usdc",
        },
        expect=(200, 201, 409, 422),
    )
    custody.deposit(
        id="dep-hk-btc",
        account_id="acc-hk",
        asset="BTC",
        amount=to_minor("BTC", "1.5"),
        custody_wallet="demo-custodian-btc",
        now=clock.now(),
    )
    clock.advance(timedelta(minutes=5))
    reconciliation.record_statement(
        custodian="demo-custodian",
        as_of=clock.now() - timedelta(minutes=1),
        balances=[
            reconciliation.StatementBalance(
                wallet="demo-custodian-usdc", asset="USDC", amount=to_minor("USDC", "1.00")
            )
        ],
        actor="fixture",
        now=clock.now(),
    )
    publication.publish_all(actor="fixture")
    checkpoints.sign_head(seq=_ledger_head()[0], head_hash=_ledger_head()[1], signed_at=clock.now())
    audit.checkpoint()

    # Alerts (events, deliveries) and a daily report with its files.
    alert = alerts.raise_alert(
        key="fixture:reject-rate",
        kind="reject_rate",
        severity="warning",
        title="Reject rate above threshold for acc-sg",
        detail={"account_id": "acc-sg", "rate": "0.5"},
        now=clock.now(),
    )
    alerts.raise_alert(
        key="fixture:market",
        kind="market_state",
        severity="critical",
        title="TSLA-PERP halted",
        detail={"symbol": "TSLA-PERP"},
        now=clock.now(),
    )
    alerts.acknowledge_alert(alert_id=alert.pk, actor="officer", now=clock.now())
    for delivery_id in notifications.dispatch(alert_id=alert.pk, now=clock.now()):
        notifications.deliver(delivery_id=delivery_id, now=clock.now())
    clock.advance(timedelta(days=1))
    reports.generate_report(
        kind="daily", period=now.date(), generated_by="fixture", now=clock.now()
    )

    # Console: proposals (executed, rejected, pending), a throttle, a device, a session.
    done = maker_checker.propose(
        kind="market.halt", payload={"symbol": "SPY-PERP"}, reason="drill", maker=officer
    )
    maker_checker.approve(proposal_id=done.pk, checker=checker, note="ok")
    refused = maker_checker.propose(
        kind="market.halt", payload={"symbol": "AAPL-PERP"}, reason="why", maker=officer
    )
    maker_checker.reject(proposal_id=refused.pk, checker=checker, note="no")
    maker_checker.propose(
        kind="kill_switch.release",
        payload={"scope": "account", "target": "acc-ir"},
        reason="cleared",
        maker=checker,
    )
    sign_in.record_failure("officer", stage="password")
    sign_in.record_failure("nobody", stage="password")
    sign_in.enrolment_device(officer)
    session = SessionStore()
    session["_auth_user_id"] = str(officer.pk)
    session.save()
    LogEntry.objects.create(
        user=officer,
        content_type=ContentType.objects.get_for_model(Group),
        object_id="1",
        object_repr="fixture",
        action_flag=CHANGE,
        change_message=json.dumps([{"changed": {"fields": ["name"]}}]),
    )

    # Tables nothing in the product writes yet: one plain row each, so their rows are
    # checked too.
    permission = Permission.objects.order_by("pk").first()
    Group.objects.order_by("pk").first().permissions.add(permission)
    officer.user_permissions.add(permission)
    ClockedSchedule.objects.create(clocked_time=now + timedelta(days=30))
    SolarSchedule.objects.create(
        event="sunrise", latitude=Decimal("1.29"), longitude=Decimal("103.85")
    )
    PeriodicTasks.update_changed()
    assert PeriodicTask.objects.exists()


def _ledger_head() -> tuple[int, str]:
    from custody.models import Transfer

    last = Transfer.objects.order_by("-seq").first()
    return last.seq, last.hash


def report_counts(rows: dict[str, int]) -> int:
    empty = sorted(name for name, count in rows.items() if not count and name not in ALLOWED_EMPTY)
    for name, count in sorted(rows.items()):
        print(f"  {name:45} {count}")
    if empty:
        print(f"empty tables: {', '.join(empty)}", file=sys.stderr)
    return 1 if empty else 0


def count_rows() -> int:
    import django

    django.setup()
    from django.db import connection

    with connection.cursor() as cursor:
        rows = {}
        for name in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT COUNT(*) FROM "{name}"')  # noqa: S608 (catalog names)
            rows[name] = cursor.fetchone()[0]
    return report_counts(rows)


# --- the orchestration, run from this checkout --------------------------------------------


def run_fill(source: Path, database_url: str, var_dir: Path) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "settings.dev",
        "DATABASE_URL": database_url,
        "GATEHOUSE_VAR_DIR": str(var_dir),
        "SIGNING_KEY_FILE": str(var_dir / "signing" / "ed25519.pem"),
        "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/9"),
        "PYTHONPATH": str(source),
    }
    for mode in ("--fill", "--count"):
        subprocess.run([sys.executable, __file__, mode], cwd=source, env=env, check=True)


def dump_sqlite(path: Path, out: Path) -> None:
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        out.write_text("\n".join(connection.iterdump()) + "\n")
    finally:
        connection.close()


def dump_postgres(url: str, out: Path) -> None:
    text = subprocess.run(
        ["pg_dump", "--no-owner", "--no-privileges", "--dbname", url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    # psql meta-commands (pg_dump >= 15.14 brackets the dump with \restrict / \unrestrict).
    text = re.sub(r"(?m)^\\(un)?restrict \S+\n", "", text)
    out.write_text(without_comments(text))


def without_comments(text: str) -> str:
    """The dump without pg_dump's own ``--`` comment lines (its provenance lines kept) and
    runs of blank lines, outside the ``COPY`` data (where a line is a row)."""
    kept: list[str] = []
    in_copy = False
    for line in text.splitlines(keepends=True):
        if in_copy:
            in_copy = line != "\\.\n"
        elif line.startswith("COPY ") and line.rstrip().endswith("FROM stdin;"):
            in_copy = True
        elif PG_DUMP_COMMENT.match(line) or (line == "\n" and (not kept or kept[-1] == "\n")):
            continue
        kept.append(line)
    return "".join(kept)


def with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


def admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(sql)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fill", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--count", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--commit", default=COMMIT)
    parser.add_argument("--postgres", default=os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES))
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    if args.fill:
        fill()
        return 0
    if args.count:
        return count_rows()

    args.out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="gatehouse-fixture-"))
    source = scratch / "src"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(source), args.commit],
        check=True,
    )
    name = f"gatehouse_fixture_{os.getpid()}"
    pg_url = with_database(args.postgres, name)
    try:
        print(f"=== SQLite at {args.commit}")
        sqlite_path = scratch / "fixture.sqlite3"
        run_fill(source, f"sqlite:///{sqlite_path}", scratch / "var-sqlite")
        dump_sqlite(sqlite_path, args.out / "sqlite.sql")

        print(f"=== PostgreSQL at {args.commit} ({name})")
        admin(args.postgres, f'CREATE DATABASE "{name}"')
        try:
            run_fill(source, pg_url, scratch / "var-postgres")
            dump_postgres(pg_url, args.out / "postgres.sql")
        finally:
            admin(args.postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(source)], check=False
        )
        shutil.rmtree(scratch, ignore_errors=True)
    for path in sorted(args.out.glob("*.sql")):
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
