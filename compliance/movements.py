"""The access gate as custody sees it: a deposit or a withdrawal put to the rulebook.

Custody must not import compliance (the layers, pyproject.toml), so this function is
registered with ``core.registry.movement_gates`` in ``ComplianceConfig.ready`` and custody
asks whatever is registered (``custody.gating``). The decision is made and recorded by
``compliance.gate.check_access`` like any other access check, so a held or refused
withdrawal names a decision id an officer can open.

The rulebook decides per product class (RULES.md §7); a ledger asset is mapped to the class
a rule about it would name. The rulebook has no fiat class: USD, the venue's cash leg, is
judged with the stablecoins that stand for it. Rules that reach ``withdraw`` name every
product class (``ofac-withdraw``), so the mapping only matters for deposits.

``screen_movement`` is the second gate: the movement's counterparty ``address`` against the
latest sanctions list version. A listed address is a ``deny`` with ``SANCTIONS_MATCH`` (a
withdrawal to it is refused and nothing moves; a deposit from it is booked and flagged);
an address given while no list is loaded cannot be screened and fails closed. The
account's own screening status is the access gate's (``ProfileFacts.sanctions``).
"""

from __future__ import annotations

from types import MappingProxyType

from compliance import gate, sanctions
from compliance.screening_sections import ADDRESS_FLAGGED, ADDRESS_REFUSED
from core import audit
from core.registry import MovementCheck, MovementVerdict

PRODUCT_CLASS_OF_ASSET = MappingProxyType(
    {
        "USDC": "stablecoin",
        "USDT": "stablecoin",
        "USD": "stablecoin",
        "BTC": "crypto_spot",
        "ETH": "crypto_spot",
        "USTB": "rwa_token",
    }
)


def check_movement(check: MovementCheck) -> MovementVerdict:
    """Ask the access gate about one movement. An asset with no product class fails closed:
    a new ledger asset needs its class named here before it can move."""
    product_class = PRODUCT_CLASS_OF_ASSET.get(check.asset)
    if product_class is None:
        answer = gate.fail_closed("product class", f"no product class for asset {check.asset}")
    else:
        answer = gate.check_access(
            account_id=check.account_id,
            client_ip=check.client_ip,
            product_class=product_class,
            action=check.action,
            requested_by=check.requested_by,
            now=check.now,
        )
    return MovementVerdict(
        effect=answer["effect"],
        reasons=tuple(answer["reasons"]),
        decision_id=answer.get("decision_id"),
        policy_version=answer.get("policy_version"),
    )


def screen_movement(check: MovementCheck) -> MovementVerdict:
    """The counterparty address of a movement against the sanctions list (see above)."""
    if not check.address:
        return MovementVerdict(effect="allow", reasons=())
    try:
        lists = sanctions.loaded()
    except sanctions.ScreeningUnavailable:
        answer = gate.fail_closed("sanctions list", "no sanctions list is loaded")
        return MovementVerdict(effect=answer["effect"], reasons=tuple(answer["reasons"]))
    try:
        found = sanctions.screen_address(lists, check.asset, check.address)
    except ValueError as error:
        answer = gate.fail_closed("address screening", f"unreadable address: {error}")
        return MovementVerdict(effect=answer["effect"], reasons=tuple(answer["reasons"]))
    if not found:
        return MovementVerdict(effect="allow", reasons=(), policy_version=lists.label)
    _record(check, found, lists)
    return MovementVerdict(
        effect="deny",
        reasons=tuple(_address_reason(match, lists) for match in found),
        policy_version=lists.label,
    )


def _record(check: MovementCheck, found, lists: sanctions.LoadedList) -> None:
    """Durably, before the answer: a refused withdrawal moves nothing and leaves no ledger
    row, so the audit chain is where the rejected transaction is recorded (and reported)."""
    audit.record(
        actor=check.requested_by,
        action=ADDRESS_REFUSED if check.action == "withdraw" else ADDRESS_FLAGGED,
        object_type="account",
        object_id=check.account_id,
        after={
            "movement": check.action,
            "asset": check.asset,
            "address": check.address,
            "entries": [match.entry_id for match in found],
            "list_version": lists.label,
        },
        at=check.now,
    )


def _address_reason(match: sanctions.Match, lists: sanctions.LoadedList) -> dict:
    return {
        "code": "SANCTIONS_MATCH",
        "check": "sanctions",
        "message": f"Blocked: the address is on the sanctions list ({match.name}).",
        "detail": {
            **match.as_contract(lists.source),
            "list_version": lists.label,
        },
    }
