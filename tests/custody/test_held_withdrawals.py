"""The gate's verdict binds custody (issue 14 §4, API.md "Custody"), through the real API:
the seeded rulebook, real Redis for the decision log, the ledger on the test database.

- an IR resident's withdrawal is ``review`` under ``ofac-withdraw``: 202 ``held``, the amount
  reserved by a pending transfer; released by an officer (posted) or refused (voided);
- a CN resident's withdrawal completes: the PRC product bans name ``open``/``deposit``, and
  no seeded rule reaches ``withdraw`` for CN;
- a rule that denies ``withdraw`` is 422 ``JURISDICTION_BLOCKED`` and moves nothing; no gate,
  or a gate that fails, is 422 ``DEGRADED_FAIL_CLOSED``;
- deposits are always booked; a flagged one raises an alert naming the rule.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from compliance import services as compliance_services
from core import registry
from core.clock import ManualClock, use_clock
from core.clock import now as clock_now
from core.errors import Conflict
from core.models import AuditEntry
from core.registry import MovementVerdict
from custody import selectors, services, withdrawals
from custody.models import HeldWithdrawal, OpenPending, Transfer
from custody.verification import verify_ledger
from oversight.models import Alert
from oversight.monitors.custody import run_held_withdrawal_monitor
from tests.conftest import auth

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 24, 21, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def manual_clock():
    with use_clock(ManualClock(T0)) as clock:
        yield clock


@pytest.fixture
def key(make_key):
    return make_key("custody", "reference")


def profile(country: str) -> dict:
    return {
        "residence_country": country,
        "residence_subdivision": "",
        "nationalities": [country],
        "entity_type": "individual",
        "controlling_countries": [],
        "investor_category": "retail",
        "status": "active",
    }


@pytest.fixture
def residents(api, key, redis_conn, django_capture_on_commit_callbacks):
    """acc-ir (Iran), acc-cn (mainland China), acc-sg (Singapore), each with 1000 USDC."""
    with django_capture_on_commit_callbacks(execute=True):
        for account, country in [("acc-ir", "IR"), ("acc-cn", "CN"), ("acc-sg", "SG")]:
            response = api.put(
                f"/api/v1/accounts/{account}", profile(country), format="json", **auth(key)
            )
            assert response.status_code in (200, 201), response.content
    for account in ("acc-ir", "acc-cn", "acc-sg"):
        services.deposit(
            id=f"seed-{account}",
            account_id=account,
            asset="USDC",
            amount=1_000_000_000,
            custody_wallet="wallet-a",
        )


def post(api, key, path, body):
    return api.post(f"/api/v1/custody/{path}", body, format="json", **auth(key))


def withdrawal(account: str, id: str = "w-1", amount: str = "400.00", **extra) -> dict:
    return {
        "id": id,
        "account_id": account,
        "asset": "USDC",
        "amount": amount,
        "custody_wallet": "wallet-a",
        **extra,
    }


def usdc(api, key, account: str) -> dict:
    body = api.get(f"/api/v1/custody/accounts/{account}/balances", **auth(key)).json()
    found = {item["asset"]: item for item in body["balances"]}["USDC"]
    return {name: found[name] for name in ("total", "reserved", "available")}


def status_of(api, key, id: str) -> dict:
    response = api.get(f"/api/v1/custody/withdrawals/{id}", **auth(key))
    assert response.status_code == 200, response.content
    return response.json()


def test_an_iranian_residents_withdrawal_is_held_and_reserved(api, key, residents):
    response = post(api, key, "withdrawals", withdrawal("acc-ir"))
    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["id"], body["status"]) == ("w-1", "held")
    assert body["reasons"][0]["code"] == "JURISDICTION_REVIEW"
    assert body["reasons"][0]["detail"]["rule"] == "ofac-withdraw"
    assert usdc(api, key, "acc-ir") == {
        "total": "1000.000000",
        "reserved": "400.000000",
        "available": "600.000000",
    }
    pending = Transfer.objects.get(transfer_id="w-1")
    assert pending.flags != 0 and OpenPending.objects.filter(pending_id="w-1").exists()
    audit = AuditEntry.objects.get(action="custody.withdrawal_held", object_id="w-1")
    assert set(audit.after["reasons"]) == {"JURISDICTION_REVIEW"}  # residence, nationality
    shown = status_of(api, key, "w-1")
    assert shown["status"] == "held" and shown["decided_by"] is None
    assert shown["gate_decision_id"] and shown["reasons"] == body["reasons"]


def test_a_retried_held_withdrawal_gets_the_same_held_answer(api, key, residents):
    first = post(api, key, "withdrawals", withdrawal("acc-ir"))
    again = post(api, key, "withdrawals", withdrawal("acc-ir", client_ip="8.8.8.8"))
    assert again.status_code == 202 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert usdc(api, key, "acc-ir")["reserved"] == "400.000000"
    other = post(api, key, "withdrawals", withdrawal("acc-ir", amount="1.00"))
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "IDEMPOTENCY_CONFLICT"


def test_released_by_an_officer_the_withdrawal_is_posted(api, key, residents):
    post(api, key, "withdrawals", withdrawal("acc-ir"))
    with pytest.raises(services.FourEyesRequired):
        withdrawals.release_withdrawal(id="w-1", maker="officer:a", approver="officer:a")
    hold = withdrawals.release_withdrawal(
        id="w-1", maker="officer:a", approver="officer:b", note="licence checked"
    )
    assert hold.status == "released"
    assert usdc(api, key, "acc-ir") == {
        "total": "600.000000",
        "reserved": "0.000000",
        "available": "600.000000",
    }
    shown = status_of(api, key, "w-1")
    assert (shown["status"], shown["proposed_by"], shown["decided_by"]) == (
        "released",
        "officer:a",
        "officer:b",
    )
    assert shown["decision_note"] == "licence checked" and shown["decided_at"]
    audit = AuditEntry.objects.get(action="custody.withdrawal_released", object_id="w-1")
    assert audit.actor == "officer:b" and audit.after["transfer"] == "w-1#release"
    # carried out again (an approval re-run after a crash) it changes nothing
    assert withdrawals.release_withdrawal(id="w-1", maker="officer:a", approver="officer:b")
    with pytest.raises(Conflict):
        withdrawals.refuse_withdrawal(id="w-1", maker="officer:a", approver="officer:b")
    assert usdc(api, key, "acc-ir")["total"] == "600.000000"


def test_refused_by_an_officer_the_money_is_available_again(api, key, residents):
    post(api, key, "withdrawals", withdrawal("acc-ir"))
    hold = withdrawals.refuse_withdrawal(
        id="w-1", maker="officer:a", approver="officer:b", note="no licence"
    )
    assert hold.status == "refused"
    assert usdc(api, key, "acc-ir") == {
        "total": "1000.000000",
        "reserved": "0.000000",
        "available": "1000.000000",
    }
    shown = status_of(api, key, "w-1")
    assert (shown["status"], shown["decided_by"]) == ("refused", "officer:b")
    assert AuditEntry.objects.filter(action="custody.withdrawal_refused").count() == 1
    again = post(api, key, "withdrawals", withdrawal("acc-ir"))
    assert again.status_code == 202 and again.json()["status"] == "refused"


def test_a_held_withdrawal_beyond_the_free_balance_is_insufficient_funds(api, key, residents):
    response = post(api, key, "withdrawals", withdrawal("acc-ir", amount="1000.01"))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "INSUFFICIENT_FUNDS"
    assert not HeldWithdrawal.objects.exists()
    again = post(api, key, "withdrawals", withdrawal("acc-ir", amount="1000.01"))
    assert again.status_code == 422 and again.json() == response.json()
    assert again["Idempotent-Replayed"] == "true"


def test_a_cn_residents_withdrawal_completes(api, key, residents):
    """No seeded rule reaches withdraw for CN: the product bans trap no money."""
    response = post(api, key, "withdrawals", withdrawal("acc-cn", client_ip="114.114.114.114"))
    assert response.status_code == 201, response.content
    assert usdc(api, key, "acc-cn")["total"] == "600.000000"
    shown = status_of(api, key, "w-1")
    assert (shown["status"], shown["reasons"], shown["decided_by"]) == ("completed", [], None)


def test_a_withdrawal_a_rule_denies_moves_nothing(api, key, residents):
    draft = compliance_services.draft_rule(
        rule_id="sg-test-withdraw",
        fields={
            "jurisdictions": ["SG"],
            "product_classes": "all",
            "actions": ["withdraw"],
            "effect": "deny",
            "citation_text": "test citation",
            "citation_ref": "Test Act §1",
        },
        actor="user:maker",
    )
    compliance_services.activate_rule(
        rule_id="sg-test-withdraw", revision=draft.revision, actor="user:checker"
    )
    response = post(api, key, "withdrawals", withdrawal("acc-sg"))
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "JURISDICTION_BLOCKED"
    assert usdc(api, key, "acc-sg")["total"] == "1000.000000"
    assert not Transfer.objects.filter(transfer_id="w-1").exists()
    assert api.get("/api/v1/custody/withdrawals/w-1", **auth(key)).status_code == 404


@pytest.fixture
def only_gate():
    """Replace the registered gates for one test."""
    saved = registry.movement_gates.items()
    for name in saved:
        registry.movement_gates.remove(name)

    def install(name, gate):
        registry.movement_gates.add(name, gate)

    yield install
    for name in registry.movement_gates.items():
        registry.movement_gates.remove(name)
    for name, gate in saved.items():
        registry.movement_gates.add(name, gate)


def _broken(check):
    raise RuntimeError("gate down")


@pytest.mark.parametrize(
    "gate", [None, _broken, lambda check: "allow"], ids=["none", "raises", "junk"]
)
def test_without_a_working_gate_a_withdrawal_fails_closed(api, key, residents, only_gate, gate):
    if gate is not None:
        only_gate("test", gate)
    response = post(api, key, "withdrawals", withdrawal("acc-sg"))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "DEGRADED_FAIL_CLOSED"
    assert usdc(api, key, "acc-sg")["total"] == "1000.000000"


def test_the_most_restrictive_gate_decides(api, key, residents, only_gate):
    only_gate("a", lambda check: MovementVerdict(effect="close_only"))
    only_gate(
        "b",
        lambda check: MovementVerdict(
            effect="review", reasons=({"code": "SANCTIONS_REVIEW", "message": "potential"},)
        ),
    )
    response = post(api, key, "withdrawals", withdrawal("acc-sg"))
    assert response.status_code == 202
    assert [r["code"] for r in response.json()["reasons"]] == ["SANCTIONS_REVIEW"]


def test_deposits_are_always_booked_and_a_flagged_one_raises_an_alert(api, key, residents):
    response = post(
        api,
        key,
        "deposits",
        {
            "id": "d-ir",
            "account_id": "acc-ir",
            "asset": "USDC",
            "amount": "5.00",
            "custody_wallet": "wallet-a",
        },
    )
    assert response.status_code == 201, response.content
    assert usdc(api, key, "acc-ir")["total"] == "1005.000000"
    alert = Alert.objects.get(kind="flagged_deposit")
    assert alert.detail["effect"] == "deny" and "ofac-comprehensive" in alert.detail["rules"]
    assert "ofac-comprehensive" in alert.title and alert.severity == "critical"
    again = post(
        api,
        key,
        "deposits",
        {
            "id": "d-ir",
            "account_id": "acc-ir",
            "asset": "USDC",
            "amount": "5.00",
            "custody_wallet": "wallet-a",
        },
    )
    assert again.status_code == 201 and Alert.objects.filter(kind="flagged_deposit").count() == 1
    sg = post(
        api,
        key,
        "deposits",
        {
            "id": "d-sg",
            "account_id": "acc-sg",
            "asset": "USDC",
            "amount": "5.00",
            "custody_wallet": "wallet-a",
        },
    )
    assert sg.status_code == 201 and Alert.objects.filter(kind="flagged_deposit").count() == 1


def test_a_withdrawal_held_too_long_raises_one_alert(api, key, residents, manual_clock, settings):
    settings.HELD_WITHDRAWAL_ALERT_MINUTES = 60
    post(api, key, "withdrawals", withdrawal("acc-ir"))
    manual_clock.advance(timedelta(minutes=59))
    assert run_held_withdrawal_monitor(now=manual_clock.now()) == 0
    manual_clock.advance(timedelta(minutes=2))
    assert run_held_withdrawal_monitor(now=manual_clock.now()) == 1
    manual_clock.advance(timedelta(hours=3))
    assert run_held_withdrawal_monitor(now=manual_clock.now()) == 0
    alert = Alert.objects.get(kind="held_withdrawal_overdue")
    assert alert.detail["withdrawal_id"] == "w-1" and alert.detail["rules"] == ["ofac-withdraw"]
    assert alert.detail["amount"] == "400.000000"  # at USDC's scale, as every alert says it
    withdrawals.refuse_withdrawal(id="w-1", maker="officer:a", approver="officer:b")
    post(api, key, "withdrawals", withdrawal("acc-ir", id="w-2"))
    manual_clock.advance(timedelta(hours=2))
    assert run_held_withdrawal_monitor(now=manual_clock.now()) == 1


def test_the_monitor_is_scheduled():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="oversight.tasks.monitor_held_withdrawals")
    assert task.enabled and task.interval.every == 1


_OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("withdraw"), st.integers(1, 600), st.booleans()),
        st.tuples(st.sampled_from(["release", "refuse"]), st.integers(0, 20)),
    ),
    max_size=12,
)


def test_client_money_is_conserved_across_holds_releases_and_refusals(db, only_gate):
    """Whatever sequence of withdrawals (booked or held), releases and refusals: the client's
    total is what was deposited less what left, ``reserved`` is exactly what is held, a
    withdrawal beyond what is free is refused, and the ledger verifies afterwards."""
    verdicts = {}
    only_gate("test", lambda check: MovementVerdict(effect=verdicts["next"]))
    runs = iter(range(10_000))

    @hypothesis_settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
    @given(_OPERATIONS)
    def run(operations):
        account = f"acc-h{next(runs)}"
        services.deposit(
            id=f"{account}-d", account_id=account, asset="USDC", amount=1000, custody_wallet="w"
        )
        total, held, left, count = 1000, {}, 0, 0
        for operation in operations:
            if operation[0] == "withdraw":
                _, amount, review = operation
                count += 1
                verdicts["next"] = "review" if review else "allow"
                try:
                    answer = withdrawals.request_withdrawal(
                        id=f"{account}-w{count}",
                        account_id=account,
                        asset="USDC",
                        amount=amount,
                        custody_wallet="w",
                        client_ip=None,
                        requested_by="test",
                    )
                except services.TransferRefused as refused:
                    assert refused.code == "INSUFFICIENT_FUNDS"
                    assert amount > total - sum(held.values())
                    continue
                if review:
                    assert answer.status == "held"
                    held[answer.hold.id] = amount
                else:
                    total, left = total - amount, left + amount
            elif held:
                decide, index = operation
                id = sorted(held)[index % len(held)]
                decision = (
                    withdrawals.release_withdrawal
                    if decide == "release"
                    else (withdrawals.refuse_withdrawal)
                )
                decision(id=id, maker="officer:a", approver="officer:b")
                amount = held.pop(id)
                if decide == "release":
                    total, left = total - amount, left + amount
            view = {
                b.asset: b.view
                for b in selectors.client_balances(account_id=account, now=clock_now())
            }["USDC"]
            assert (view.total, view.reserved) == (total, sum(held.values()))
            assert view.available == total - sum(held.values()) >= 0
            assert total + left == 1000

    run()
    report = verify_ledger()
    assert report.ok, report.problem
