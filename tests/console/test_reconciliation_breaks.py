"""Resolving reconciliation breaks from the console (issue 18): by the adjustment that makes
the ledger agree with the custodian, under four eyes (booked and resolved together), or
with an explanation alone by one compliance officer; every step audited."""

from __future__ import annotations

from datetime import timedelta

import pytest

from console import maker_checker
from console.models import Proposal
from core import clock
from core.errors import Conflict
from core.models import AuditEntry
from custody import reconciliation, services
from custody.models import ReconciliationBreak, Transfer
from custody.verification import verify_ledger
from tests.console.conftest import signed_in_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def officers(make_officer):
    return {
        "maker": make_officer("mia", "compliance_officer"),
        "checker": make_officer("chen", "compliance_officer"),
        "risk": make_officer("rafa", "risk_officer"),
        "auditor": make_officer("audrey", "auditor"),
    }


def statement(*lines: tuple[str, str, int], custodian: str = "anchorage", ago: float = 1):
    reconciliation.record_statement(
        custodian=custodian,
        as_of=clock.now() - timedelta(seconds=ago),
        balances=[reconciliation.StatementBalance(*line) for line in lines],
        actor="key:custodian",
    )


@pytest.fixture
def breaks():
    """w-1 holds 1.5 BTC in the ledger; the custodian says one satoshi less (a negative
    break), w-2 holds 100 USDC and the custodian says 100.000002; w-9 is not in the ledger."""
    past = clock.now() - timedelta(minutes=5)
    services.deposit(
        id="d-1",
        account_id="acc-1",
        asset="BTC",
        amount=150_000_000,
        custody_wallet="w-1",
        now=past,
    )
    services.deposit(
        id="d-2",
        account_id="acc-1",
        asset="USDC",
        amount=100_000_000,
        custody_wallet="w-2",
        now=past,
    )
    statement(("w-1", "BTC", 149_999_999), ("w-2", "USDC", 100_000_002), ("w-9", "ETH", 5))
    return {b.wallet: b for b in ReconciliationBreak.objects.all()}


def client(officers, who):
    return signed_in_client(officers[who])


def test_the_break_page_shows_both_sides_and_the_adjustment_that_closes_it(officers, breaks):
    found = breaks["w-1"]
    html = client(officers, "maker").get(f"/custody/breaks/{found.pk}/").content.decode()
    assert "1.49999999 BTC" in html and "1.50000000 BTC" in html
    assert 'data-testid="break-difference"><strong>-0.00000001 BTC' in html
    assert 'suspense:venue:BTC</span> to <span class="mono">custody_wallet:w-1:BTC' in html
    assert "Propose this adjustment" in html and "Resolve it with an explanation" in html
    other = breaks["w-9"]
    html = client(officers, "maker").get(f"/custody/breaks/{other.pk}/").content.decode()
    assert "No adjustment can close it here" in html
    custody = client(officers, "maker").get("/custody/").content.decode()
    assert f'href="/custody/breaks/{found.pk}/"' in custody
    assert client(officers, "maker").get("/custody/breaks/999999/").status_code == 404


@pytest.mark.parametrize(("wallet", "booked"), [("w-1", 1), ("w-2", 2)])
def test_an_adjustment_proposed_by_one_officer_and_approved_by_another_closes_the_break(
    officers, breaks, wallet, booked
):
    found = breaks[wallet]
    response = client(officers, "maker").post(
        "/proposals/new/reconciliation_break.adjust/",
        {"id": str(found.pk), "reason": "custodian fee not yet booked"},
    )
    assert response.status_code == 302
    proposal = Proposal.objects.get(kind="reconciliation_break.adjust")
    assert proposal.payload["amount"] == str(booked)
    assert proposal.target == f"reconciliation_break:{found.pk}"
    with pytest.raises(maker_checker.MakerCannotApprove):
        maker_checker.approve(proposal_id=proposal.pk, checker=officers["maker"])
    decided = maker_checker.approve(proposal_id=proposal.pk, checker=officers["checker"])
    assert decided.status == "executed", decided.result
    found.refresh_from_db()
    assert found.status == "resolved" and found.resolved_by == "officer:chen"
    transfer_id = reconciliation.adjustment_id(found.pk)
    assert found.resolution == f"adjusted by transfer {transfer_id}: custodian fee not yet booked"
    transfer = Transfer.objects.get(transfer_id=transfer_id)
    assert (transfer.amount, transfer.code) == (booked, "adjustment")
    adjustment = AuditEntry.objects.get(action="custody.adjustment", object_id=transfer_id)
    assert adjustment.actor == "officer:mia" and adjustment.after["approved_by"] == "officer:chen"
    assert AuditEntry.objects.filter(
        action="custody.break_resolve", object_id=str(found.pk), actor="officer:chen"
    ).exists()
    assert verify_ledger().ok
    # the ledger now holds what the custodian stated: the same statement later agrees
    before = ReconciliationBreak.objects.count()
    asset = found.asset_id
    statement((wallet, asset, found.statement_amount), ago=0)
    assert ReconciliationBreak.objects.count() == before


def test_closing_by_adjustment_again_changes_nothing(officers, breaks):
    found = breaks["w-2"]
    first, adjustment = reconciliation.resolve_by_adjustment(
        break_id=found.pk, reason="fee", maker="officer:mia", approver="officer:chen"
    )
    again, _ = reconciliation.resolve_by_adjustment(
        break_id=found.pk, reason="fee", maker="officer:mia", approver="officer:chen"
    )
    assert again.resolved_at == first.resolved_at
    assert Transfer.objects.filter(transfer_id=adjustment.transfer_id).count() == 1


def test_nothing_is_booked_for_a_break_no_longer_open(officers, breaks):
    found = breaks["w-2"]
    proposal = maker_checker.propose(
        kind="reconciliation_break.adjust",
        payload={"id": found.pk},
        reason="fee",
        maker=officers["maker"],
    )
    # resolved behind the proposal's back (over the custody API, say)
    reconciliation.resolve_break(break_id=found.pk, actor="key:ops", resolution="late statement")
    decided = maker_checker.approve(proposal_id=proposal.pk, checker=officers["checker"])
    assert decided.status == "failed" and "already resolved" in decided.result["message"]
    assert not Transfer.objects.filter(transfer_id=reconciliation.adjustment_id(found.pk)).exists()


def test_an_adjustment_cannot_be_proposed_twice_or_for_a_wallet_the_ledger_does_not_know(
    officers, breaks
):
    maker_checker.propose(
        kind="reconciliation_break.adjust",
        payload={"id": breaks["w-1"].pk},
        reason="x",
        maker=officers["maker"],
    )
    with pytest.raises(Conflict, match="awaits its checker"):
        maker_checker.propose(
            kind="reconciliation_break.adjust",
            payload={"id": breaks["w-1"].pk},
            reason="y",
            maker=officers["checker"],
        )
    response = client(officers, "maker").post(
        "/proposals/new/reconciliation_break.adjust/",
        {"id": str(breaks["w-9"].pk), "reason": "x"},
    )
    assert response.status_code == 200 and b"No adjustment can close" not in response.content
    assert b"no adjustment can close reconciliation break" in response.content
    bad = client(officers, "maker").post(
        "/proposals/new/reconciliation_break.adjust/", {"id": "99999999999999999999", "reason": "x"}
    )
    assert bad.status_code == 200  # the form says why; never a 500
    assert Proposal.objects.count() == 1


def test_one_compliance_officer_resolves_with_an_explanation(officers, breaks):
    found = breaks["w-9"]
    path = f"/custody/breaks/{found.pk}/resolve"
    empty = client(officers, "maker").post(path, {"resolution": " "}, follow=True)
    assert b"Say what explains the difference." in empty.content
    for who in ("risk", "auditor"):
        assert client(officers, who).post(path, {"resolution": "x"}).status_code == 403
    page = client(officers, "auditor").get(f"/custody/breaks/{found.pk}/").content.decode()
    assert "A compliance officer resolves breaks." in page and "Propose this" not in page
    response = client(officers, "maker").post(path, {"resolution": "test wallet, not ours"})
    assert response["Location"] == f"/custody/breaks/{found.pk}/"
    found.refresh_from_db()
    assert (found.status, found.resolved_by) == ("resolved", "officer:mia")
    entry = AuditEntry.objects.get(action="custody.break_resolve", object_id=str(found.pk))
    assert entry.actor == "officer:mia" and entry.after["resolution"] == "test wallet, not ours"
    again = client(officers, "maker").post(path, {"resolution": "again"}, follow=True)
    assert b"already resolved" in again.content
    custody = client(officers, "maker").get("/custody/").content.decode()
    assert f'data-testid="resolved-break-{found.pk}"' in custody


def test_an_explanation_waits_for_a_pending_adjustment(officers, breaks):
    found = breaks["w-1"]
    proposal = maker_checker.propose(
        kind="reconciliation_break.adjust",
        payload={"id": found.pk},
        reason="x",
        maker=officers["maker"],
    )
    response = client(officers, "checker").post(
        f"/custody/breaks/{found.pk}/resolve", {"resolution": "late"}, follow=True
    )
    assert f"Proposal {proposal.pk} to close this break by adjustment".encode() in response.content
    found.refresh_from_db()
    assert found.status == "open"


def test_a_breaks_page_lists_its_own_proposals_only(officers, breaks):
    """Break 1's page listed break 10's proposals too (its target was matched as a prefix)."""
    short = max(ReconciliationBreak.objects.values_list("pk", flat=True)) + 1
    long = short * 10  # its id's text starts with the other's
    ReconciliationBreak.objects.filter(pk=breaks["w-1"].pk).update(id=short)
    ReconciliationBreak.objects.filter(pk=breaks["w-2"].pk).update(id=long)
    maker_checker.propose(
        kind="reconciliation_break.adjust",
        payload={"id": long},
        reason="x",
        maker=officers["maker"],
    )
    html = client(officers, "checker").get(f"/custody/breaks/{short}/").content.decode()
    assert "reconciliation_break.adjust</a>" not in html
    html = client(officers, "checker").get(f"/custody/breaks/{long}/").content.decode()
    assert "reconciliation_break.adjust</a>" in html
