"""The risk and custody kinds of maker-checker change: the maker cannot approve; a second
officer with the kind's role approves and the owning service really runs (a market halted
in Redis, a kill switch engaged, a session's parameters changed, a ledger transfer posted)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from console import maker_checker
from console.models import Proposal
from core import clock
from core.errors import ValidationFailed
from core.models import AuditEntry
from tests.console.conftest import make_instrument, signed_in_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def risk_officers(make_officer):
    return make_officer("rita", "risk_officer"), make_officer("rob", "risk_officer")


@pytest.fixture
def compliance_officers(make_officer):
    return make_officer("carla", "compliance_officer"), make_officer("cody", "compliance_officer")


def _state(symbol: str) -> str:
    from risk.markets.live import market_view

    return market_view(symbol, clock.now()).state.value


def test_a_halt_is_approved_by_a_second_risk_officer_and_halts_the_market(risk_officers):
    rita, rob = risk_officers
    make_instrument("AAPL-PERP")
    proposal = maker_checker.propose(
        kind="market.halt", payload={"symbol": "AAPL-PERP"}, reason="news pending", maker=rita
    )
    assert proposal.target == "market:AAPL-PERP" and _state("AAPL-PERP") != "halted"
    with pytest.raises(maker_checker.MakerCannotApprove):
        maker_checker.approve(proposal_id=proposal.pk, checker=rita)
    approved = maker_checker.approve(proposal_id=proposal.pk, checker=rob)
    assert approved.status == "executed", approved.result
    assert _state("AAPL-PERP") == "halted"
    halt = AuditEntry.objects.get(action="market.halt", object_id="AAPL-PERP")
    assert halt.actor == "officer:rob" and halt.after["reason"] == "news pending"

    resume = maker_checker.propose(
        kind="market.resume", payload={"symbol": "AAPL-PERP"}, reason="news out", maker=rob
    )
    with pytest.raises(maker_checker.MakerCannotApprove):
        maker_checker.approve(proposal_id=resume.pk, checker=rob)
    assert maker_checker.approve(proposal_id=resume.pk, checker=rita).status == "executed"
    assert _state("AAPL-PERP") != "halted"


def test_a_halt_the_service_refuses_is_marked_failed(risk_officers):
    rita, rob = risk_officers
    proposal = maker_checker.propose(
        kind="market.halt", payload={"symbol": "NOPE-PERP"}, reason="r", maker=rita
    )
    failed = maker_checker.approve(proposal_id=proposal.pk, checker=rob)
    assert failed.status == "failed" and failed.result["error"] == "NOT_FOUND"


def test_other_roles_can_neither_propose_nor_approve_risk_kinds(risk_officers, make_officer):
    rita, _ = risk_officers
    carla = make_officer("carla", "compliance_officer", "administrator", "auditor")
    make_instrument("AAPL-PERP")
    for kind in ("market.halt", "market.resume", "kill_switch.engage", "kill_switch.release"):
        with pytest.raises(maker_checker.RoleRequired):
            maker_checker.propose(
                kind=kind, payload={"symbol": "AAPL-PERP"}, reason="r", maker=carla
            )
    proposal = maker_checker.propose(
        kind="market.halt", payload={"symbol": "AAPL-PERP"}, reason="r", maker=rita
    )
    with pytest.raises(maker_checker.RoleRequired):
        maker_checker.approve(proposal_id=proposal.pk, checker=carla)
    assert Proposal.objects.get(pk=proposal.pk).status == "proposed"


def test_a_kill_switch_engage_waits_for_a_second_officer_and_release_too(risk_officers):
    from risk.markets.kill_switches import engaged_scopes
    from risk.models import KillSwitch

    rita, rob = risk_officers
    payload = {"scope": "account", "target": "acc-9"}
    proposal = maker_checker.propose(
        kind="kill_switch.engage", payload=payload, reason="runaway algo", maker=rita
    )
    assert not KillSwitch.objects.filter(engaged=True).exists()
    with pytest.raises(maker_checker.MakerCannotApprove):
        maker_checker.approve(proposal_id=proposal.pk, checker=rita)
    assert maker_checker.approve(proposal_id=proposal.pk, checker=rob).status == "executed"
    switch = KillSwitch.objects.get(scope="account", target="acc-9")
    assert switch.engaged and switch.updated_by == "officer:rob"
    assert engaged_scopes(account_id="acc-9")

    release = maker_checker.propose(
        kind="kill_switch.release", payload=payload, reason="algo fixed", maker=rob
    )
    with pytest.raises(ValidationFailed):
        maker_checker.propose(
            kind="kill_switch.release", payload=payload, reason="x", maker=rob, emergency=True
        )
    assert maker_checker.approve(proposal_id=release.pk, checker=rita).status == "executed"
    assert not KillSwitch.objects.get(scope="account", target="acc-9").engaged
    assert not engaged_scopes(account_id="acc-9")


def test_an_emergency_engage_takes_effect_at_once_and_is_reviewed_after(risk_officers):
    from risk.models import KillSwitch

    rita, rob = risk_officers
    proposal = maker_checker.propose(
        kind="kill_switch.engage",
        payload={"scope": "global", "target": ""},
        reason="exchange-wide incident",
        maker=rita,
        emergency=True,
    )
    assert proposal.status == "executed"
    switch = KillSwitch.objects.get(scope="global")
    assert switch.engaged and switch.updated_by == "officer:rita"
    with pytest.raises(maker_checker.MakerCannotApprove):
        maker_checker.review(proposal_id=proposal.pk, reviewer=rita, note="fine")
    assert maker_checker.review(proposal_id=proposal.pk, reviewer=rob, note="ok").checker == (
        "officer:rob"
    )


def test_a_session_parameter_change_is_applied_by_the_approver(risk_officers):
    from risk.models import SessionParameter

    rita, rob = risk_officers
    values = {
        "session": "overnight",
        "band_multiplier": Decimal("2.5"),
        "leverage_cap_fraction": Decimal("0.5"),
        "position_limit_fraction": Decimal("0.25"),
        "reference_time_constant_seconds": Decimal("60"),
        "oracle_max_age_seconds": None,
    }
    proposal = maker_checker.propose(
        kind="session_parameters.change", payload=values, reason="thin book", maker=rita
    )
    with pytest.raises(maker_checker.MakerCannotApprove):
        maker_checker.approve(proposal_id=proposal.pk, checker=rita)
    assert maker_checker.approve(proposal_id=proposal.pk, checker=rob).status == "executed"
    row = SessionParameter.objects.get(session="overnight")
    assert row.band_multiplier == Decimal("2.5") and row.oracle_max_age_seconds is None
    assert row.updated_by == "officer:rob"


def test_a_ledger_adjustment_names_maker_and_approver(compliance_officers, make_officer):
    from custody import services
    from custody.identifiers import client_ref, venue_ref
    from custody.ledger import AccountKind
    from custody.models import Transfer

    carla, cody = compliance_officers
    services.deposit(id="d-1", account_id="acc-1", asset="USDC", amount=1000, custody_wallet="w")
    payload = {
        "id": "adj-console-1",
        "debit_account_id": client_ref("acc-1", "USDC"),
        "credit_account_id": venue_ref(AccountKind.SUSPENSE, "USDC"),
        "asset": "USDC",
        "amount": 100,
    }
    rita = make_officer("rita", "risk_officer", "administrator")
    with pytest.raises(maker_checker.RoleRequired):
        maker_checker.propose(kind="ledger.adjustment", payload=payload, reason="r", maker=rita)
    proposal = maker_checker.propose(
        kind="ledger.adjustment", payload=payload, reason="deposit credited twice", maker=carla
    )
    assert proposal.payload["maker"] == "officer:carla"
    with pytest.raises(maker_checker.MakerCannotApprove):
        maker_checker.approve(proposal_id=proposal.pk, checker=carla)
    assert not Transfer.objects.filter(transfer_id="adj-console-1").exists()
    assert maker_checker.approve(proposal_id=proposal.pk, checker=cody).status == "executed"
    assert Transfer.objects.get(transfer_id="adj-console-1").code == "adjustment"
    entry = AuditEntry.objects.get(action="custody.adjustment")
    assert entry.actor == "officer:carla" and entry.after["approved_by"] == "officer:cody"


def test_risk_kinds_have_proposal_forms_for_risk_officers_only(make_officer):
    make_instrument("AAPL-PERP")
    rita = signed_in_client(make_officer("rita", "risk_officer"))
    carla = signed_in_client(make_officer("carla", "compliance_officer"))
    page = rita.get("/proposals/new/market.halt/?symbol=AAPL-PERP")
    assert page.status_code == 200 and b"AAPL-PERP" in page.content
    assert carla.get("/proposals/new/market.halt/").status_code == 403
    assert rita.get("/proposals/new/ledger.adjustment/").status_code == 403
    assert carla.get("/proposals/new/ledger.adjustment/").status_code == 200
    response = rita.post(
        "/proposals/new/kill_switch.engage/",
        {"scope": "instrument", "target": "AAPL-PERP", "reason": "bad prints", "emergency": "on"},
    )
    assert response.status_code == 302
    proposal = Proposal.objects.get(kind="kill_switch.engage")
    assert proposal.emergency and proposal.status == "executed"
    assert proposal.payload == {
        "scope": "instrument",
        "target": "AAPL-PERP",
        "reason": "bad prints",
    }


def test_an_instrument_limit_change_is_applied_by_the_approver(risk_officers, redis_conn):
    from risk.models import Instrument, InstrumentVersion

    rita, rob = risk_officers
    make_instrument("AAPL-PERP")
    before = Instrument.objects.get(symbol="AAPL-PERP")
    payload = {"symbol": "AAPL-PERP", "max_position_notional": "1000000", "reason": "earnings"}
    proposal = maker_checker.propose(
        kind="instrument_limits.change", payload=payload, reason="earnings", maker=rita
    )
    with pytest.raises(maker_checker.MakerCannotApprove):
        maker_checker.approve(proposal_id=proposal.pk, checker=rita)
    assert maker_checker.approve(proposal_id=proposal.pk, checker=rob).status == "executed"
    after = Instrument.objects.get(symbol="AAPL-PERP")
    assert after.max_position_notional == Decimal("1000000")
    assert after.max_order_quantity == before.max_order_quantity  # left blank: kept
    assert after.version == before.version + 1 and after.updated_by == "officer:rob"
    assert InstrumentVersion.objects.filter(symbol="AAPL-PERP", version=after.version).exists()
