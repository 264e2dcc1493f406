"""The pre-trade decision log as a source the jurisdiction gate replays (issue 18, a rule's
impact; ``risk.pretrade.decision_source``).

Two things: the verdict that decided an order, as the impact reads it, is the one the
check itself acted on (every combination, against the real ``checks.assess`` and the
atomic step's rule for ``UNLESS_REDUCING``); and real orders through the real check,
drained into the log, are replayed through a draft: the address located again (counted as
approximate), an unknown instrument never asked."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from compliance import services
from compliance.impact import measure
from compliance.rulebook import ALLOW, CLOSE_ONLY, DENY, REVIEW
from risk.models import PretradeDecision
from risk.pretrade import checks, decisions
from risk.pretrade.decision_source import deciding_action
from tests.risk.pretrade.test_check_api import CN_IP, check, key, order, venue
from tests.risk.pretrade.test_checks import assess
from tests.risk.pretrade.test_checks import order as stateless_order

__all__ = ["key", "venue"]  # fixtures, used by name

EFFECTS = (ALLOW, REVIEW, CLOSE_ONLY, DENY)
CODES = {
    REVIEW: "JURISDICTION_REVIEW",
    CLOSE_ONLY: "JURISDICTION_CLOSE_ONLY",
    DENY: "JURISDICTION_BLOCKED",
}


def reasons(effect):
    if effect == ALLOW:
        return ()
    return ({"code": CODES[effect], "check": "jurisdiction", "message": "m", "detail": {}},)


@pytest.mark.parametrize(
    ("opening", "reducing", "reduce_only", "reduces"),
    list(itertools.product(EFFECTS, EFFECTS, (False, True), (False, True))),
)
def test_the_deciding_verdict_is_the_one_the_check_acts_on(opening, reducing, reduce_only, reduces):
    verdicts = checks.AccessVerdicts(opening, reasons(opening), reducing, reasons(reducing))
    out = assess(stateless_order(reduce_only=reduce_only), access=verdicts)
    refused = bool(out.jurisdiction_reasons) or (out.must_reduce and not reduces)
    action = deciding_action(reduce_only, reduces, {"open": opening, "reduce": reducing})
    effect = {"open": opening, "reduce": reducing}[action]
    permitted = effect == ALLOW or (effect == CLOSE_ONLY and action == "reduce")
    assert permitted is not refused


HK_REVIEW = {
    "jurisdictions": ["HK"],
    "product_classes": ["equity_perp"],
    "actions": ["open"],
    "effect": "review",
    "signals": ["ip_geolocation"],
    "citation_text": "Venue policy: orders from Hong Kong addresses are reviewed.",
    "citation_ref": "Venue policy (test)",
}


def test_real_orders_are_replayed_through_a_draft(api, key, venue):
    for changes in (
        dict(order_id="hk-1"),  # acc-sg from a Hong Kong address (SG_IP): accepted
        dict(order_id="hk-2", reduce_only=True),  # reducing is outside the draft
        dict(order_id="cn-1", account_id="acc-cn", client_ip=CN_IP),
        dict(order_id="no-ip", client_ip=None),  # already reviewed: no location
        dict(order_id="gme", instrument="GME-PERP"),  # never reached the gate
    ):
        assert check(api, key, order(**changes)).status_code == 200
    assert decisions.drain() == 5
    venue.advance(timedelta(hours=1))
    draft = services.draft_rule(rule_id="hk-orders-review", fields=HK_REVIEW, actor="officer:a")
    impact, _ = measure.request_measurement(
        rule_id=draft.rule_id, revision=draft.revision, actor="officer:b"
    )
    while not measure.measure_chunk(impact.pk, chunk=2)[1]:
        pass
    impact.refresh_from_db()

    assert impact.totals == {"access": 0, "pretrade": 5} and impact.processed == 5
    result = impact.result
    assert result["skipped"] == {"not_asked": 1}
    assert result["replayed"] == {"pretrade": 4}
    assert result["approximate"] == {"pretrade": 3}  # the three with an address
    assert result["flips"] == 1 and result["approximate_flips"] == 1
    (bucket,) = result["buckets"]["source"].values()
    assert set(result["buckets"]["source"]) == {"pretrade|allow|review"}
    hk = PretradeDecision.objects.get(order_id="hk-1")
    assert [example["key"] for example in bucket["examples"]] == [str(hk.pk)]
    assert set(result["buckets"]["jurisdiction"]) == {"HK|allow|review"}
    assert set(result["buckets"]["product"]) == {"equity_perp|allow|review"}
    assert set(result["buckets"]["action"]) == {"open|allow|review"}


def test_an_orders_product_class_is_its_instruments_at_the_time(db):
    """From the instrument's version history; an instant before its first version reads
    the first (the check knew the instrument, so it existed)."""
    from datetime import UTC, datetime

    from risk.models import InstrumentVersion
    from risk.pretrade.decision_source import _ProductClasses

    start = datetime(2026, 1, 1, tzinfo=UTC)
    for version, (days, product) in enumerate([(0, "equity_perp"), (10, "rwa_token")], 1):
        InstrumentVersion.objects.create(
            symbol="XYZ-PERP",
            version=version,
            fields={"product_class": product},
            changed_at=start + timedelta(days=days),
            changed_by="test",
        )
    products = _ProductClasses({"XYZ-PERP", "NOPE"})
    assert products.at("XYZ-PERP", start - timedelta(days=1)) == "equity_perp"
    assert products.at("XYZ-PERP", start + timedelta(days=9)) == "equity_perp"
    assert products.at("XYZ-PERP", start + timedelta(days=10)) == "rwa_token"
    assert products.at("NOPE", start) is None
