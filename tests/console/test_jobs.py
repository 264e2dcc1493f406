"""Long work started from the console (issue 18): a report, a proof-of-reserves
publication, a sanctions re-screen. Started under the officer's name (audited, roles),
run by a worker that writes its progress, watched through a small status fragment that
polls (htmx) while the job is under way and stops once it is done or failed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from compliance import rescreen, sanctions
from compliance import services as compliance_services
from compliance.models import ScreeningCase
from console import job_kinds, jobs, tasks
from console.models import BackgroundJob
from core import clock
from core.models import AuditEntry
from tests.console.conftest import signed_in_client
from tests.console.test_pages import profile

pytestmark = pytest.mark.django_db

YESTERDAY = (clock.now() - timedelta(days=1)).date()
POLLING = 'hx-trigger="every 2s"'


@pytest.fixture(autouse=True)
def _reports_in_tmp(settings, tmp_path):
    settings.VAR_DIR = tmp_path


@pytest.fixture
def officers(make_officer):
    return {
        "carla": make_officer("carla", "compliance_officer"),
        "rafa": make_officer("rafa", "risk_officer"),
        "audrey": make_officer("audrey", "auditor"),
    }


@pytest.fixture
def sent(monkeypatch):
    """The tasks sent to the broker (no worker runs here: the test runs them)."""
    calls = []
    monkeypatch.setattr(
        jobs.current_app, "send_task", lambda name, args: calls.append((name, args))
    )
    return calls


def status_of(client: Client, job: BackgroundJob) -> str:
    response = client.get(f"/jobs/{job.pk}/status", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response.content.decode()


def test_a_report_started_from_the_console_shows_progress_then_its_result(
    officers, sent, django_capture_on_commit_callbacks, monkeypatch
):
    client = signed_in_client(officers["carla"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/jobs/start/report.generate", {"kind": "daily", "period": YESTERDAY.isoformat()}
        )
    assert response.status_code == 302 and response["Location"] == "/reports/#jobs"
    job = BackgroundJob.objects.get()
    assert (job.kind, job.status, job.started_by) == ("report.generate", "queued", "officer:carla")
    assert job.params == {"kind": "daily", "period": YESTERDAY.isoformat()}
    assert sent == [("console.tasks.report_run_job", [job.pk])]  # the reports queue
    started = AuditEntry.objects.get(action="job.start")
    assert started.actor == "officer:carla" and started.object_id == str(job.pk)
    page = client.get("/reports/").content.decode()
    assert f'data-testid="job-{job.pk}"' in page and POLLING in page
    assert "waiting for a worker" in status_of(client, job)

    from oversight import reports

    seen, real = [], reports.render_sections

    def render_and_watch(**kwargs):
        """What the page's poll would get after each step of the worker's progress."""
        progress = kwargs.pop("progress")

        def told(done, total, stage):
            progress(done, total, stage)
            seen.append(status_of(client, job))

        return real(progress=told, **kwargs)

    monkeypatch.setattr(reports, "render_sections", render_and_watch)
    assert tasks.report_run_job.run(job.pk) == "done"  # the task, as the worker runs it
    assert len(seen) >= 3 and all(POLLING in html for html in seen)
    assert "0 of" in seen[0] and "section " in seen[0]
    job.refresh_from_db()
    assert job.status == "done" and job.progress_done == job.progress_total == len(seen)
    report = reports.get_report(job.result["report_id"])
    assert report.generated_by == "officer:carla" and job.result["version"] == 1
    finished = status_of(client, job)
    assert POLLING not in finished and "hx-get" not in finished  # polling stops
    assert f"daily report for {YESTERDAY.isoformat()}, version 1, signed" in finished
    assert AuditEntry.objects.filter(action="job.done", object_id=str(job.pk)).exists()
    assert AuditEntry.objects.filter(action="report.generate", actor="officer:carla").exists()


def test_the_task_runs_a_job_once(officers, sent):
    job = jobs.start(
        kind="report.generate",
        params={"kind": "daily", "period": YESTERDAY.isoformat()},
        officer=officers["rafa"],
    )
    assert jobs.run(job.pk).status == "done"
    assert jobs.run(job.pk).status == "done"  # a redelivered task: nothing more
    from oversight.models import Report

    assert Report.objects.count() == 1


def test_a_job_that_fails_says_why_and_stops_polling(officers, sent):
    today = clock.now().date()  # not over yet: the service refuses it
    job = jobs.start(
        kind="report.generate",
        params={"kind": "daily", "period": today.isoformat()},
        officer=officers["carla"],
    )
    jobs.run(job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and "is not over yet" in job.error
    html = status_of(signed_in_client(officers["carla"]), job)
    assert 'data-testid="job-error"' in html and POLLING not in html
    failed = AuditEntry.objects.get(action="job.fail", object_id=str(job.pk))
    assert "is not over yet" in failed.after["error"]


def test_a_broker_that_cannot_take_the_job_fails_it_at_once(
    officers, monkeypatch, django_capture_on_commit_callbacks
):
    def down(name, args):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(jobs.current_app, "send_task", down)
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.start(kind="por.publish", params={"asset": ""}, officer=officers["carla"])
    job.refresh_from_db()
    assert job.status == "failed" and "could not be queued: broker unreachable" in job.error


def test_a_proof_of_reserves_publication_reports_each_asset(
    officers, sent, django_capture_on_commit_callbacks
):
    from custody import services

    past = clock.now() - timedelta(minutes=1)
    for n, (asset, amount) in enumerate((("USDC", 1_500_000), ("BTC", 25_000_000))):
        services.deposit(
            id=f"d-{n}",
            account_id=f"acc-{n}",
            asset=asset,
            amount=amount,
            custody_wallet="w",
            now=past,
        )
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.start(kind="por.publish", params={"asset": ""}, officer=officers["carla"])
    assert sent == [("console.tasks.report_run_job", [job.pk])]
    jobs.run(job.pk)
    job.refresh_from_db()
    assert job.status == "done" and job.progress_total == 2
    totals = {p["asset"]: p["total"] for p in job.result["publications"]}
    assert totals == {"BTC": "0.25000000", "USDC": "1.500000"}  # at each asset's scale
    html = status_of(signed_in_client(officers["carla"]), job)
    assert "USDC: total 1.500000 over 1 accounts" in html
    custody = signed_in_client(officers["carla"]).get("/custody/").content.decode()
    assert 'data-testid="job-start-por.publish"' in custody and f"job-{job.pk}" in custody


def test_a_rescreen_screens_every_account_in_steps_and_resumes_after_a_lost_worker(
    officers, sent, monkeypatch, django_capture_on_commit_callbacks
):
    for n in range(5):
        compliance_services.put_account_profile(
            account_id=f"acc-{n}", facts=profile("DE"), actor="test"
        )
    compliance_services.put_account_profile(
        account_id="acc-gw",
        facts=profile("DE", full_name="Gerhard Wisser", date_of_birth="1985-04-01"),
        actor="test",
    )  # screened before any list was loaded: no case yet
    sanctions.load_shipped(actor="test")  # its own re-screen is queued, never run here
    assert not ScreeningCase.objects.exists()
    monkeypatch.setattr(job_kinds, "RESCREEN_CHUNK", 2)
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.start(kind="sanctions.rescreen", params={}, officer=officers["carla"])
    assert sent == [("console.tasks.run_job", [job.pk])]  # the default queue

    real, calls = rescreen.screen_accounts, []

    def dies_on_the_second_chunk(lists, *, after, chunk, **kwargs):
        calls.append(after)
        if len(calls) == 2:
            raise SystemExit("worker killed")
        return real(lists, after=after, chunk=chunk, **kwargs)

    monkeypatch.setattr(rescreen, "screen_accounts", dies_on_the_second_chunk)
    with pytest.raises(SystemExit):
        jobs.run(job.pk)
    job.refresh_from_db()
    assert (job.status, job.progress_done, job.progress_total, job.cursor) == (
        "running",
        2,
        6,
        "acc-1",
    )
    assert jobs.run(job.pk).status == "running"  # a live worker holds it: left alone
    BackgroundJob.objects.filter(pk=job.pk).update(
        heartbeat_at=clock.now() - jobs.STALE_AFTER - timedelta(seconds=1)
    )
    assert jobs.is_stale(BackgroundJob.objects.get(pk=job.pk))
    assert "worker may have stopped" in status_of(signed_in_client(officers["carla"]), job)
    done = jobs.run(job.pk)  # the task's redelivery takes it over, from its cursor
    assert done.status == "done", done.error
    assert calls[2] == "acc-1"  # carried on, not from the start
    assert done.result["accounts"] == 6 and done.result["open_cases"] == 1
    assert done.result["list_version"].startswith("ofac_sdn@")
    assert ScreeningCase.objects.get().account_id == "acc-gw"


def test_one_job_of_a_kind_at_a_time_unless_the_last_was_lost(officers, sent):
    first = jobs.start(kind="por.publish", params={"asset": "USDC"}, officer=officers["carla"])
    client = signed_in_client(officers["carla"])
    response = client.post("/jobs/start/por.publish", {"asset": "BTC"}, follow=True)
    assert f"already under way (job {first.pk})".encode() in response.content
    assert BackgroundJob.objects.count() == 1
    BackgroundJob.objects.filter(pk=first.pk).update(
        created_at=clock.now() - jobs.STALE_AFTER - timedelta(minutes=1)
    )  # queued, and no worker ever took it
    client.post("/jobs/start/por.publish", {"asset": "BTC"})
    assert BackgroundJob.objects.count() == 2


def test_roles_decide_who_starts_what_and_an_auditor_only_watches(officers, sent):
    rafa, audrey = signed_in_client(officers["rafa"]), signed_in_client(officers["audrey"])
    assert rafa.post("/jobs/start/por.publish", {"asset": ""}).status_code == 403
    assert rafa.post("/jobs/start/sanctions.rescreen", {}).status_code == 403
    for kind in ("report.generate", "por.publish", "sanctions.rescreen"):
        assert audrey.post(f"/jobs/start/{kind}", {}).status_code == 403
    assert not BackgroundJob.objects.exists()
    assert 'data-testid="job-start-' not in audrey.get("/reports/").content.decode()
    assert 'data-testid="job-start-report.generate"' in rafa.get("/reports/").content.decode()
    job = jobs.start(
        kind="report.generate",
        params={"kind": "daily", "period": YESTERDAY.isoformat()},
        officer=officers["rafa"],
    )
    assert audrey.get(f"/jobs/{job.pk}/").status_code == 200
    assert POLLING in status_of(audrey, job)


@pytest.mark.parametrize(
    ("path", "data", "message"),
    [
        ("/jobs/start/report.generate", {"kind": "daily", "period": "tomorrow"}, b"valid date"),
        (
            "/jobs/start/report.generate",
            {"kind": "daily", "period": (clock.now().date() + timedelta(days=1)).isoformat()},
            b"Only a period that has ended",
        ),
        ("/jobs/start/report.generate", {"kind": "weekly", "period": "2026-01-01"}, b"kind"),
        ("/jobs/start/por.publish", {"asset": "DOGE"}, b"asset"),
    ],
)
def test_bad_input_is_the_officers_message_never_an_error(officers, sent, path, data, message):
    response = signed_in_client(officers["carla"]).post(path, data, follow=True)
    assert response.status_code == 200 and b"was not started" in response.content
    assert message in response.content
    assert not BackgroundJob.objects.exists()


def test_unknown_jobs_and_kinds_are_not_found_and_a_lost_session_redirects_htmx(officers):
    client = signed_in_client(officers["carla"])
    assert client.post("/jobs/start/mine.bitcoin", {}).status_code == 404
    assert client.get("/jobs/999999/status").status_code == 404
    assert client.get("/jobs/999999/").status_code == 404
    poll = Client().get("/jobs/1/status", HTTP_HX_REQUEST="true")
    assert poll.status_code == 401 and poll["HX-Redirect"].startswith("/sign-in/")
