"""Withdrawals held for review in the console: the custody page lists them with the gate's
reasons and age; a release or refusal is proposed by one compliance officer and carried out
by another (maker-checker), over HTTP, with the ledger really moving."""

from __future__ import annotations

from datetime import timedelta

import pytest

from compliance import services as compliance_services
from console.models import Proposal
from core import clock
from core.clock import ManualClock, use_clock
from custody import selectors, services, withdrawals
from custody.models import HeldWithdrawal
from tests.console.conftest import signed_in_client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def manual_clock():
    with use_clock(ManualClock(clock.now())) as manual:
        yield manual


@pytest.fixture
def held(django_capture_on_commit_callbacks):
    """acc-ir (Iran resident) with 1000 USDC and a held 400 USDC withdrawal w-1."""
    with django_capture_on_commit_callbacks(execute=True):
        compliance_services.put_account_profile(
            account_id="acc-ir",
            facts={
                "residence_country": "IR",
                "residence_subdivision": "",
                "nationalities": ["IR"],
                "entity_type": "individual",
                "controlling_countries": [],
                "investor_category": "retail",
                "status": "active",
            },
            actor="test",
        )
    services.deposit(
        id="d-1", account_id="acc-ir", asset="USDC", amount=1_000_000_000, custody_wallet="w-a"
    )
    answer = withdrawals.request_withdrawal(
        id="w-1",
        account_id="acc-ir",
        asset="USDC",
        amount=400_000_000,
        custody_wallet="w-a",
        client_ip=None,
        requested_by="test",
    )
    assert answer.status == "held"
    return answer.hold


@pytest.fixture
def officers(make_officer):
    return make_officer("carla", "compliance_officer"), make_officer("cody", "compliance_officer")


def _available(account: str) -> int:
    return {
        b.asset: b.view for b in selectors.client_balances(account_id=account, now=clock.now())
    }["USDC"].available


def test_the_custody_page_lists_held_withdrawals_with_reasons_and_age(
    held, officers, manual_clock, settings
):
    settings.HELD_WITHDRAWAL_ALERT_MINUTES = 60
    manual_clock.advance(timedelta(minutes=90))
    page = signed_in_client(officers[0]).get("/custody/")
    assert page.status_code == 200
    html = page.content.decode()
    row = html[html.index('data-testid="held-w-1"') :].split("</tr>")[0]
    assert "acc-ir" in row and "400.000000 USDC" in row
    assert "ofac-withdraw" in row and "JURISDICTION_REVIEW" in row
    assert "1 h 30 min" in row and "overdue" in row
    assert "/proposals/new/withdrawal.release/?id=w-1" in row


def test_a_release_is_proposed_by_one_officer_and_approved_by_another(held, officers):
    carla, cody = officers
    maker, checker = signed_in_client(carla), signed_in_client(cody)
    form = maker.get("/proposals/new/withdrawal.release/?id=w-1")
    assert form.status_code == 200 and b'value="w-1"' in form.content
    response = maker.post("/proposals/new/withdrawal.release/", {"id": "w-1", "reason": "ok"})
    assert response.status_code == 302, response.content.decode()[-2000:]
    proposal = Proposal.objects.get(kind="withdrawal.release")
    assert proposal.target == "withdrawal:w-1" and proposal.payload["maker"] == "officer:carla"
    maker.post(f"/proposals/{proposal.pk}/approve")  # the maker cannot approve their own
    proposal.refresh_from_db()
    assert proposal.status == "proposed"
    assert HeldWithdrawal.objects.get(pk="w-1").status == "held"
    checker.post(f"/proposals/{proposal.pk}/approve", {"note": "checked"})
    proposal.refresh_from_db()
    assert proposal.status == "executed", proposal.result
    hold = HeldWithdrawal.objects.get(pk="w-1")
    assert (hold.status, hold.proposed_by, hold.decided_by) == (
        "released",
        "officer:carla",
        "officer:cody",
    )
    assert _available("acc-ir") == 600_000_000
    assert b'data-testid="held-w-1"' not in checker.get("/custody/").content
    # a decided withdrawal cannot be proposed again
    again = maker.post("/proposals/new/withdrawal.refuse/", {"id": "w-1", "reason": "late"})
    assert (
        again.status_code == 200 and not Proposal.objects.filter(kind="withdrawal.refuse").exists()
    )


def test_a_refusal_approved_by_a_second_officer_voids_the_hold(held, officers):
    from console import maker_checker

    carla, cody = officers
    proposal = maker_checker.propose(
        kind="withdrawal.refuse", payload={"id": "w-1"}, reason="no licence", maker=carla
    )
    with pytest.raises(maker_checker.MakerCannotApprove):
        maker_checker.approve(proposal_id=proposal.pk, checker=carla)
    done = maker_checker.approve(proposal_id=proposal.pk, checker=cody)
    assert done.status == "executed", done.result
    hold = HeldWithdrawal.objects.get(pk="w-1")
    assert (hold.status, hold.decided_by, hold.decision_note) == (
        "refused",
        "officer:cody",
        "no licence",
    )
    assert _available("acc-ir") == 1_000_000_000


def test_the_custody_page_shows_a_pending_decision_then_the_decision(held, officers):
    """Issue 18: a held withdrawal whose release awaits its checker says so (rather than
    offering a second proposal), and a decided one is listed with who proposed, who
    approved and why."""
    from console import maker_checker

    carla, cody = officers
    proposal = maker_checker.propose(
        kind="withdrawal.release", payload={"id": "w-1"}, reason="residence verified", maker=carla
    )
    html = signed_in_client(cody).get("/custody/").content.decode()
    row = html[html.index('data-testid="held-w-1"') :].split("</tr>")[0]
    assert "awaiting a checker" in row and "withdrawal.release by officer:carla" in row
    assert "Propose release" not in row
    maker_checker.approve(proposal_id=proposal.pk, checker=cody)
    html = signed_in_client(cody).get("/custody/").content.decode()
    row = html[html.index('data-testid="decided-withdrawal-w-1"') :].split("</tr>")[0]
    assert "400.000000 USDC" in row and "released" in row
    assert "officer:carla" in row and "officer:cody" in row and "residence verified" in row
