"""The kill-switch page (issue 18): every switch with who engaged it and when, on whose
proposal, whether Redis — what the pre-trade check reads — agrees, and the history."""

from __future__ import annotations

import pytest
import redis

from console import maker_checker
from risk.markets import kill_switches
from tests.console.conftest import signed_in_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def officers(make_officer):
    return {
        "ana": make_officer("ana", "risk_officer"),
        "ben": make_officer("ben", "risk_officer"),
        "audrey": make_officer("audrey", "auditor"),
    }


@pytest.fixture
def switched(officers, demo_instruments):
    """The global switch engaged in an emergency by ana (not yet reviewed); NVDA-PERP's
    engaged by ana and approved by ben, then a release proposed; acc-7's engaged, released."""
    ana, ben = officers["ana"], officers["ben"]
    maker_checker.propose(
        kind="kill_switch.engage",
        payload={"scope": "global", "target": ""},
        reason="exchange outage",
        maker=ana,
        emergency=True,
    )
    nvda = maker_checker.propose(
        kind="kill_switch.engage",
        payload={"scope": "instrument", "target": "NVDA-PERP"},
        reason="bad prints",
        maker=ana,
    )
    maker_checker.approve(proposal_id=nvda.pk, checker=ben)
    maker_checker.propose(
        kind="kill_switch.release",
        payload={"scope": "instrument", "target": "NVDA-PERP"},
        reason="prints fixed",
        maker=ben,
    )
    kill_switches.engage(scope="account", target="acc-7", actor="key:ops", reason="abuse")
    kill_switches.release(scope="account", target="acc-7", actor="key:ops", reason="cleared")
    return officers


def test_each_switch_says_who_engaged_it_when_and_on_whose_proposal(switched):
    html = signed_in_client(switched["ben"]).get("/kill-switches/").content.decode()
    glob = _section(html, 'data-testid="switch-global"')
    assert 'data-testid="switch-state">engaged<' in glob
    assert "engaged by officer:ana" in glob and "exchange outage" in glob
    assert "(emergency, awaiting review)" in glob
    nvda = _section(html, 'data-testid="switch-instrument-NVDA-PERP"')
    assert "engaged by officer:ben" in nvda and "by officer:ana, approved by officer:ben" in nvda
    assert "awaiting a checker" in nvda and "kill_switch.release by officer:ben" in nvda
    aapl = _section(html, 'data-testid="switch-instrument-AAPL-PERP"')
    assert 'data-testid="switch-state">released<' in aapl and "never engaged" in aapl
    assert "Propose engage" in aapl
    account = _section(html, 'data-testid="switch-account-acc-7"')
    assert "released by key:ops" in account and "cleared" in account
    assert "switch-mismatch" not in html  # Redis enforces exactly what the database says
    # the history, newest first: four changes (a proposed release is not one)
    history = html.split('id="history-heading"')[1]
    assert history.count('data-testid="switch-event-') == 4
    assert history.index("cleared") < history.index("bad prints") < history.index("outage")


def _section(html: str, marker: str) -> str:
    """From ``marker`` to the end of its table row or card."""
    start = html.index(marker)
    ends = [html.find(end, start) for end in ("</tr>", "</section>")]
    return html[start : min(end for end in ends if end > 0)]


def test_a_switch_redis_does_not_enforce_is_shown(switched, redis_conn):
    redis_conn.delete(kill_switches.GLOBAL_KILL_KEY)  # a flushed Redis, before the sweeper
    html = signed_in_client(switched["ana"]).get("/kill-switches/").content.decode()
    glob = _section(html, 'data-testid="switch-global"')
    assert "not yet in force in Redis" in glob


def test_the_page_renders_without_redis_and_says_so(switched, monkeypatch):
    class Down:
        def pipeline(self, transaction=False):
            raise redis.ConnectionError("connection refused")

    monkeypatch.setattr("console.risk.kill_switches.get_redis", lambda: Down())
    response = signed_in_client(switched["ana"]).get("/kill-switches/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Live state unavailable" in html
    assert 'data-testid="switch-state">engaged<' in html  # the database's position, still shown
    assert "switch-mismatch" not in html


def test_history_filters_by_scope_and_target(switched):
    client = signed_in_client(switched["ana"])
    html = client.get("/kill-switches/?scope=account&target=acc-7").content.decode()
    assert html.count('data-testid="switch-event-') == 2
    assert "exchange outage" not in html.split("History")[1]
    bad = client.get("/kill-switches/?scope=planet")
    assert bad.status_code == 200 and bad.content.decode().count('data-testid="switch-event-') == 4


def test_an_auditor_reads_and_is_offered_nothing(switched):
    html = signed_in_client(switched["audrey"]).get("/kill-switches/").content.decode()
    assert 'data-testid="switch-global"' in html
    assert "Propose engage" not in html and "Propose release" not in html
    assert "Propose a switch for an account" not in html


def test_the_page_is_a_handful_of_queries(switched, django_assert_max_num_queries):
    from tests.console.test_pages import SIGNED_IN

    client = signed_in_client(switched["ana"])
    client.get("/kill-switches/")
    with django_assert_max_num_queries(SIGNED_IN + 4):
        assert client.get("/kill-switches/").status_code == 200
