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
"""

from __future__ import annotations

from types import MappingProxyType

from compliance import gate
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
