"""A real Celery worker (``celery -A settings worker``, solo pool) against the test database:
tasks run, a transient failure is retried with backoff and then succeeds, a task that runs
twice produces its report once; and the schedules are seeded in the database.

The worker gets its own Redis logical database as broker, so the suite's other tests (which
flush theirs) cannot pull its queues away while it runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from django.conf import settings
from django_celery_beat.models import PeriodicTask

import compliance.tasks  # noqa: F401  (registers the tasks with the app)
from compliance.models import AccessDecision
from oversight import alerts, notifications, report_verification
from oversight.models import AlertDelivery, Report
from settings.celery import app as celery_app
from tests.compliance.test_decision_log import database_url
from tests.oversight.test_access_monitors import decision
from tests.oversight.test_alerts_notifications import WebhookServer, assert_signed

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PERIOD = date(2020, 1, 2)


def worker_broker_url() -> str:
    """A logical database of the broker of its own (the broker is the standalone Redis:
    the test Redis itself, or in the cluster pass the one ``CELERY_BROKER_URL`` names)."""
    parts = urlsplit(settings.CELERY_BROKER_URL)
    db = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{15 if db != 15 else 14}"))


def worker_redis_url(broker_url: str) -> str:
    """The worker's live state: beside its broker on a standalone Redis; on a cluster, the
    cluster (which has one database only)."""
    return settings.REDIS_URL if settings.REDIS_MODE == "cluster" else broker_url


@pytest.fixture
def broker_conn():
    """The broker the test process sends to, flushed before and after."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.flushdb()
    yield client
    client.flushdb()


@dataclass
class Worker:
    broker_url: str
    var_dir: Path
    process: subprocess.Popen
    log: Path

    def log_tail(self) -> str:
        return self.log.read_text()[-4000:]

    def send(self, name: str, *args) -> str:
        with celery_app.connection_for_write(self.broker_url) as connection:
            return celery_app.send_task(name, args=args, connection=connection).id

    def finished(self, task_id: str) -> bool:
        return f"[{task_id}] succeeded" in self.log.read_text()

    def wait_for(self, condition, what: str, timeout: float = 45.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"worker died:\n{self.log_tail()}"
            found = condition()
            if found:
                return found
            time.sleep(0.1)
        raise AssertionError(f"{what} did not happen within {timeout} s:\n{self.log_tail()}")


@pytest.fixture(scope="module")
def worker(django_db_setup, tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("worker-var")
    log = var_dir / "worker.log"
    broker_url = worker_broker_url()
    broker = redis.Redis.from_url(broker_url)
    broker.flushdb()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "settings.test",
        "REDIS_URL": worker_redis_url(broker_url),
        "CELERY_BROKER_URL": broker_url,
        "DATABASE_URL": database_url(),
        "GATEHOUSE_VAR_DIR": str(var_dir),
    }
    command = [
        str(BIN / "celery"),
        "-A",
        "settings",
        "worker",
        "-Q",
        "default,reports,realtime",
        "--pool",
        "solo",
        "-n",
        f"test-{os.getpid()}@%h",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--loglevel",
        "INFO",
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=output)
    running = Worker(broker_url, var_dir, process, log)
    running.wait_for(lambda: "ready." in log.read_text(), "worker start", timeout=60)
    yield running
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    broker.flushdb()


@pytest.mark.django_db
def test_the_schedules_are_seeded_in_the_database():
    tasks = {task.name: task for task in PeriodicTask.objects.all()}
    catch_up = tasks["daily report: generate yesterday's if missing"]
    assert catch_up.task == "oversight.tasks.report_ensure_daily"
    assert catch_up.queue == "reports" and catch_up.enabled
    assert (catch_up.interval.every, catch_up.interval.period) == (1, "minutes")
    assert catch_up.expire_seconds == 50
    monitors = tasks["access monitors"]
    assert (monitors.task, monitors.queue) == ("oversight.tasks.run_access_monitors", "default")
    sweep = tasks["alert notifications: sweep"]
    assert sweep.task == "oversight.tasks.sweep_alert_notifications"
    nightly = tasks["nightly integrity checks"]
    assert nightly.task == "oversight.tasks.run_nightly_checks" and nightly.queue == "default"
    assert (nightly.crontab.minute, nightly.crontab.hour, str(nightly.crontab.timezone)) == (
        "0",
        "2",
        "UTC",
    )
    for task in (catch_up, monitors, sweep, nightly):
        assert task.task in celery_app.tasks


COMPLIANCE_TASKS = [
    ("compliance.tasks.realtime_drain_access_decisions", ()),
    ("oversight.tasks.report_ensure_daily", ()),
    ("oversight.tasks.run_access_monitors", ()),
    ("oversight.tasks.run_nightly_checks", ()),
    ("oversight.tasks.notify_alert", (1,)),
    ("oversight.tasks.deliver_alert_notification", (1,)),
    ("oversight.tasks.sweep_alert_notifications", ()),
    ("compliance.tasks.rescreen_accounts", (1,)),
    ("compliance.tasks.measure_rule_impact", (1,)),
]


@pytest.mark.parametrize(("name", "args"), COMPLIANCE_TASKS, ids=[n for n, _ in COMPLIANCE_TASKS])
def test_every_task_can_be_enqueued_the_way_beat_and_services_do(broker_conn, name, args):
    """``apply_async`` checks the task's options (a soft limit above the hard one is refused
    before anything is sent) — the check ``send_task`` by name skips."""
    celery_app.tasks[name].apply_async(args=args)
    queue = celery_app.amqp.router.route({}, name)["queue"].name
    assert broker_conn.llen(queue) == 1


def test_report_tasks_route_to_the_reports_queue():
    route = celery_app.amqp.router.route({}, "oversight.tasks.report_ensure_daily")
    assert route["queue"].name == "reports"
    route = celery_app.amqp.router.route({}, "oversight.tasks.run_access_monitors")
    assert route["queue"].name == "default"


@pytest.mark.django_db(transaction=True)
def test_the_worker_generates_a_report_once_however_often_asked(worker, settings):
    at = datetime.combine(PERIOD, datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)
    AccessDecision.objects.bulk_create([decision(account="acc-cn", at=at) for _ in range(3)])

    for _ in range(3):  # the beat task fired three times, or the broker redelivered it
        worker.send("oversight.tasks.report_ensure_daily", PERIOD.isoformat())
    marker = PERIOD + timedelta(days=1)
    worker.send("oversight.tasks.report_ensure_daily", marker.isoformat())
    worker.wait_for(lambda: Report.objects.filter(period=marker).exists(), "the marker report")

    report = Report.objects.get(period=PERIOD)
    assert report.version == 1 and report.generated_by == "system:schedule"
    settings.VAR_DIR = worker.var_dir
    assert report_verification.verify_report(report).ok
    csv = (worker.var_dir / "reports" / report.directory / "prc_2026_denials.csv").read_text()
    assert "prc-rwa-2026,3,1,1,3,0,0,0" in csv


@pytest.mark.django_db(transaction=True)
def test_a_webhook_that_fails_once_is_retried_by_the_worker_and_delivered_once(worker, settings):
    hook = WebhookServer(statuses=[500]).start()
    try:
        settings.ALERT_WEBHOOK_URL = hook.url
        settings.ALERT_EMAIL_RECIPIENTS = []
        alert = alerts.raise_alert(
            key="market.halt:AAPL-PERP",
            kind="market.halted",
            severity="critical",
            title="AAPL-PERP halted: LULD limit state for 15 s",
            detail={"symbol": "AAPL-PERP"},
            now=datetime.now(UTC),
        )
        (delivery_id,) = notifications.dispatch(alert_id=alert.pk, now=datetime.now(UTC))
        first = worker.send("oversight.tasks.deliver_alert_notification", delivery_id)
        worker.wait_for(lambda: worker.finished(first), "the delivery, after its retry")
        delivered = AlertDelivery.objects.get(pk=delivery_id)
        again = worker.send("oversight.tasks.deliver_alert_notification", delivery_id)
        worker.wait_for(lambda: worker.finished(again), "the duplicate task")
    finally:
        hook.stop()
    assert delivered.status == "delivered" and delivered.attempts == 2
    assert f"[{first}] retry: Retry in" in worker.log.read_text()
    assert len(hook.received) == 2  # the 500 and the delivery; the duplicate sent nothing
    assert_signed(hook.received[-1])


@pytest.mark.django_db(transaction=True)
def test_the_worker_rescreens_every_account_against_a_new_list_version(worker):
    """Issue 15: accounts written while no list was loaded are in review; the re-screen of
    the loaded version, run by the worker and sent twice (a redelivery), opens one case for
    the listed name, clears the others and marks the version done."""
    from compliance import sanctions, services
    from compliance.models import AccountProfile, SanctionsListVersion, ScreeningCase

    base = {
        "residence_country": "DE",
        "residence_subdivision": "",
        "nationalities": [],
        "controlling_countries": [],
        "entity_type": "individual",
        "investor_category": "retail",
        "status": "active",
    }
    for index in range(3):
        services.put_account_profile(
            account_id=f"rs-{index}",
            facts={**base, "full_name": f"Ingrid Johansson {index}"},
            actor="test",
        )
    services.put_account_profile(
        account_id="rs-w", facts={**base, "full_name": "Gerhard Wisser"}, actor="test"
    )
    assert set(AccountProfile.objects.values_list("sanctions_status", flat=True)) == {"review"}
    version, _ = sanctions.load_shipped(actor="test")
    worker.send("compliance.tasks.rescreen_accounts", version.pk)
    again = worker.send("compliance.tasks.rescreen_accounts", version.pk)
    worker.wait_for(lambda: worker.finished(again), "the re-screen, twice", timeout=90)
    assert SanctionsListVersion.objects.get(pk=version.pk).rescreen_done_at is not None
    statuses = dict(AccountProfile.objects.values_list("account_id", "sanctions_status"))
    assert statuses == {"rs-0": "clear", "rs-1": "clear", "rs-2": "clear", "rs-w": "review"}
    assert ScreeningCase.objects.filter(account_id="rs-w").count() == 1


def _seeded_rule(rule_id: str):
    """The rule's active revision as the migrations seed it; put back in force (drafted and
    approved by two officers) when a transactional test before this one flushed the seeds
    (the test failed in the whole suite and passed alone)."""
    from compliance import rules_seed, services
    from compliance.models import RuleRevision
    from core import policy
    from core.models import PolicyVersion

    active = RuleRevision.objects.filter(rule_id=rule_id, status="active").first()
    if active is not None:
        return active
    for component in policy.COMPONENTS:  # as core's migration 0004 seeds them
        PolicyVersion.objects.get_or_create(name=component, defaults={"value": 1})
    seed = next(row for row in rules_seed.SEED_RULES if row["rule_id"] == rule_id)
    fields = {name: seed[name] for name in services.RULE_FIELDS if name in seed}
    draft = services.draft_rule(rule_id=rule_id, fields=fields, actor="officer:seed")
    services.activate_rule(rule_id=rule_id, revision=draft.revision, actor="officer:approver")
    return RuleRevision.objects.get(rule_id=rule_id, status="active")


@pytest.mark.django_db(transaction=True)
def test_the_worker_measures_a_rule_drafts_impact_once_however_often_asked(worker):
    """Issue 18: the measurement of a draft's impact, sent twice (a redelivery), runs in the
    worker to its result, each decision counted once."""
    from compliance import services
    from compliance.impact import measure
    from compliance.models import RulebookVersion, RuleImpact

    profile, _ = services.put_account_profile(
        account_id="imp-1",
        facts={
            "residence_country": "SG",
            "residence_subdivision": "",
            "nationalities": ["CN"],
            "entity_type": "individual",
            "controlling_countries": [],
            "investor_category": "retail",
            "status": "active",
        },
        actor="test",
    )
    active = _seeded_rule("prc-rwa-2026")
    rulebook = RulebookVersion.objects.latest("version").version
    at = datetime.now(UTC) - timedelta(days=1)
    rows = [decision(account="", country="HK", effect="allow", at=at) for _ in range(4)]
    rows.append(
        decision(account="imp-1", country="HK", effect="review", signal="nationality", at=at)
    )
    for row in rows:
        row.policy_version = f"rb{rulebook}.a{profile.change_seq if row.account_id else 0}"
    AccessDecision.objects.bulk_create(rows)
    fields = {name: getattr(active, name) for name in services.RULE_FIELDS}
    draft = services.draft_rule(
        rule_id="prc-rwa-2026", fields={**fields, "signal_effects": {}}, actor="officer:a"
    )
    impact, _ = measure.request_measurement(
        rule_id="prc-rwa-2026", revision=draft.revision, actor="officer:b"
    )
    worker.send("compliance.tasks.measure_rule_impact", impact.pk)
    again = worker.send("compliance.tasks.measure_rule_impact", impact.pk)
    worker.wait_for(lambda: worker.finished(again), "the measurement, twice", timeout=90)
    worker.wait_for(
        lambda: RuleImpact.objects.get(pk=impact.pk).status == "done", "the measurement done"
    )
    impact.refresh_from_db()
    assert impact.processed == 5 and impact.result["replayed"] == {"access": 5}
    assert impact.result["flips"] == 1
