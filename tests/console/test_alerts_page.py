"""The alerts page works incidents (issue 18): grouped rows with counts and time ranges,
filters by kind and instrument, bulk acknowledge under the officer's name (audited; an
auditor only reads), an incident's own page; and the dashboard counts incidents."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from core import clock
from core.models import AuditEntry
from oversight.models import Alert, Incident
from tests.console.conftest import signed_in_client
from tests.console.test_pages import SIGNED_IN
from tests.oversight.test_incidents import SYMBOLS, stale

pytestmark = pytest.mark.django_db


@pytest.fixture
def noisy_demo():
    """What a demo whose feed stopped raised: every market stale, twice over, and one halt."""
    start = clock.now() - timedelta(minutes=30)
    for n, symbol in enumerate(SYMBOLS * 2):
        stale(symbol, start + timedelta(minutes=n))
    stale("TSLA-PERP", start + timedelta(minutes=20), to="halted", reason="MANUAL_HALT")
    return {
        "stale": Incident.objects.get(cause="close_only.ORACLE_STALE"),
        "halt": Incident.objects.get(cause="halted.MANUAL_HALT"),
    }


@pytest.fixture
def officer(make_officer):
    return signed_in_client(make_officer("carla", "compliance_officer"))


@pytest.fixture
def auditor(make_officer):
    return signed_in_client(make_officer("audrey", "auditor"))


def test_a_stale_demo_is_two_incidents_on_the_page_and_the_dashboard(officer, noisy_demo):
    incident = noisy_demo["stale"]
    html = officer.get("/alerts/").content.decode()
    assert len(re.findall(r'<tr data-testid="incident-\d+">', html)) == 2
    assert f'data-testid="incident-alerts-{incident.pk}">6<' in html
    instruments = re.search(rf'data-testid="incident-instruments-{incident.pk}">(.*?)</span>', html)
    assert "AAPL-PERP" in instruments.group(1) and "USTB-RWA" in instruments.group(1)
    assert "Markets close_only (ORACLE_STALE)" in html
    assert f'<td class="num">{12}</td>' in html  # sightings: each market twice
    dashboard = officer.get("/").content.decode()
    assert 'data-testid="incidents-warning">1<' in dashboard  # not 6, nor 12
    assert 'data-testid="incidents-critical">1<' in dashboard


def test_filters_by_kind_and_instrument(officer, noisy_demo):
    from oversight.alerts import raise_alert

    raise_alert(
        key="recon:w1",
        kind="reconciliation_break",
        severity="critical",
        title="wallet w1 differs",
        detail={},
        now=clock.now(),
    )
    stale_id, halt_id = noisy_demo["stale"].pk, noisy_demo["halt"].pk
    html = officer.get("/alerts/?kind=reconciliation_break").content.decode()
    assert "wallet w1 differs" in html and f'data-testid="incident-{stale_id}"' not in html
    html = officer.get("/alerts/?instrument=tsla-perp").content.decode()  # case does not matter
    assert f'data-testid="incident-{stale_id}"' in html
    assert f'data-testid="incident-{halt_id}"' in html and "wallet w1" not in html
    html = officer.get("/alerts/?instrument=NVDA-PERP&kind=market_state").content.decode()
    assert f'data-testid="incident-{stale_id}"' in html
    assert f'data-testid="incident-{halt_id}"' not in html
    assert "No incidents match." in officer.get("/alerts/?instrument=NOPE").content.decode()
    assert '<option value="reconciliation_break">' in html  # the kinds there are


def test_bulk_acknowledge_under_the_officers_name(officer, noisy_demo):
    ids = [noisy_demo["stale"].pk, noisy_demo["halt"].pk]
    page = officer.get("/alerts/?status=open").content.decode()
    for pk in ids:
        assert f'name="incident" value="{pk}" form="bulk-acknowledge"' in page
    response = officer.post(
        "/alerts/acknowledge",
        {"incident": [str(pk) for pk in ids], "note": "feed vendor paged", "return_query": "?x=1"},
    )
    assert response.status_code == 302 and response["Location"] == "/alerts/?x=1"
    assert set(Incident.objects.values_list("status", flat=True)) == {"acknowledged"}
    assert set(Alert.objects.values_list("acknowledged_by", flat=True)) == {"officer:carla"}
    entries = AuditEntry.objects.filter(action="alert.acknowledge")
    assert entries.count() == 7 and {e.actor for e in entries} == {"officer:carla"}
    followed = officer.get("/alerts/").content.decode()
    assert "Acknowledged 2 incident(s), 7 alert(s), as officer:carla." in followed
    assert "acknowledged by officer:carla" in followed


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"incident": "abc"},
        {"incident": "99999999999999999999999"},  # beyond any id: refused before the database
        {"incident": "٣"},  # a digit, but not ASCII
        {"incident": "123456", "note": "x" * 3000},
    ],
)
def test_bad_bulk_input_is_the_officers_message_never_an_error(officer, noisy_demo, data):
    response = officer.post("/alerts/acknowledge", data, follow=True)
    assert response.status_code == 200
    assert b"Choose the incidents to acknowledge." in response.content
    assert not Alert.objects.exclude(status="open").exists()


def test_an_incident_that_does_not_exist_refuses_the_whole_bulk(officer, noisy_demo):
    response = officer.post(
        "/alerts/acknowledge", {"incident": [str(noisy_demo["stale"].pk), "987654"]}, follow=True
    )
    assert b"no incident 987654" in response.content
    assert not Alert.objects.exclude(status="open").exists()


def test_an_auditor_reads_incidents_but_cannot_act(auditor, noisy_demo):
    html = auditor.get("/alerts/").content.decode()
    assert "Markets close_only (ORACLE_STALE)" in html
    assert "bulk-acknowledge" not in html and "Act on incident" not in html
    incident = noisy_demo["stale"]
    detail = auditor.get(f"/alerts/incidents/{incident.pk}/").content.decode()
    assert "Act on alert" not in detail and "Resolve every alert" not in detail
    for path, data in [
        ("/alerts/acknowledge", {"incident": str(incident.pk)}),
        (f"/alerts/incidents/{incident.pk}/resolve", {"resolution": "x"}),
        (f"/alerts/incidents/{incident.pk}/assign", {"assignee": "audrey"}),
    ]:
        assert auditor.post(path, data).status_code == 403
    assert not Alert.objects.exclude(status="open").exists()
    assert not AuditEntry.objects.filter(actor="officer:audrey").exists()


def test_the_incident_page_lists_its_alerts_and_resolves_them_all(officer, noisy_demo):
    incident = noisy_demo["stale"]
    html = officer.get(f"/alerts/incidents/{incident.pk}/").content.decode()
    assert html.count('data-testid="alert-') == 6
    assert "market.AAPL-PERP.close_only.ORACLE_STALE" in html
    assert html.count(">raised<") == 6
    response = officer.post(
        f"/alerts/incidents/{incident.pk}/resolve",
        {"resolution": "vendor restored the feed", "return_incident": str(incident.pk)},
    )
    assert response["Location"] == f"/alerts/incidents/{incident.pk}/"
    incident.refresh_from_db()
    assert incident.status == "resolved"
    assert incident.last_action == "resolved by officer:carla: vendor restored the feed"
    empty = officer.post(
        f"/alerts/incidents/{incident.pk}/resolve", {"resolution": ""}, follow=True
    )
    assert b"Say why the incident is resolved." in empty.content
    again = officer.post(
        f"/alerts/incidents/{incident.pk}/resolve", {"resolution": "again"}, follow=True
    )
    assert b"is already resolved" in again.content
    assert officer.get("/alerts/incidents/999999/").status_code == 404


def test_assign_an_incident_to_an_officer(officer, noisy_demo, make_officer):
    make_officer("li", "risk_officer")
    incident = noisy_demo["halt"]
    officer.post(f"/alerts/incidents/{incident.pk}/assign", {"assignee": "li"})
    incident.refresh_from_db()
    assert incident.assigned_to == "officer:li"
    nobody = officer.post(
        f"/alerts/incidents/{incident.pk}/assign", {"assignee": "nobody-here"}, follow=True
    )
    assert b"No active officer is named" in nobody.content


@pytest.mark.parametrize(("path", "budget"), [("/alerts/", 2), ("incident", 3)])
def test_the_pages_are_a_handful_of_queries(
    path, budget, officer, noisy_demo, django_assert_max_num_queries
):
    if path == "incident":
        path = f"/alerts/incidents/{noisy_demo['stale'].pk}/"
    officer.get(path)
    with django_assert_max_num_queries(SIGNED_IN + budget):
        assert officer.get(path).status_code == 200
