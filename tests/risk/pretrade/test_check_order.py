"""The check order has one owner (``checks.CHECK_ORDER``): its closed set of codes is the
contract's, the account step's Lua answers the table's codes in the table's order, and a
reject lists its reasons in that order."""

import re
from dataclasses import replace
from decimal import Decimal as D
from pathlib import Path

import pytest

from risk.pretrade import checks as p
from risk.pretrade import steps
from tests.risk.pretrade.test_checks import OPEN_MARKET, TERMS, assess, order

ROOT = Path(__file__).resolve().parents[3]
# The external contract, kept in the repository (docs/contract/API.md is the team's
# ../shared/API.md, copied when it changes) so the suite reads it wherever it runs.
API_MD = ROOT / "docs" / "contract" / "API.md"


def api_md_codes(text: str) -> list[str]:
    """The codes after "Reason codes, at least:" in the "Pre-trade check" section."""
    section = text.split("## Pre-trade check", 1)[1].split("\n## ", 1)[0]
    listing = section.split("Reason codes, at least:", 1)[1].split("\n\n", 2)[1]
    return re.findall(r"`([A-Z_]+)`", listing)


def test_the_closed_set_of_codes_is_the_contract_s():
    listed = api_md_codes(API_MD.read_text())
    assert len(listed) > 20 and len(set(listed)) == len(listed)
    assert p.REASON_CODES == frozenset(listed)
    assert set(p.CHECK_OF) == p.REASON_CODES


def test_every_code_decided_here_has_one_message_per_kill_switch_scope():
    decided_here = [r for r in p.CHECK_ORDER if r.decided_by != p.ACCESS_GATE and r.check]
    assert all(rank.message for rank in decided_here)
    keys = [(rank.code, rank.scope) for rank in decided_here]
    assert len(keys) == len(set(keys))
    assert {r.scope for r in p.CHECK_ORDER if r.code == p.KILL_SWITCH} == {
        "global",
        "instrument",
        "account",
    }


def test_the_account_step_answers_the_table_s_codes_in_its_order():
    source = steps.script("account_step").source
    assert steps.answered_codes(source) == p.ACCOUNT_STEP_CODES
    assert p.ACCOUNT_STEP_CODES == (
        p.KILL_SWITCH,
        p.RATE_LIMIT,
        p.REDUCE_ONLY_VIOLATION,
        p.UNLESS_REDUCING,
        p.POSITION_LIMIT,
        p.OPEN_INTEREST_LIMIT,
        p.INSUFFICIENT_MARGIN,
    )


def test_a_step_that_answers_a_code_outside_the_table_is_refused():
    class Edited:
        name = "account_step"
        source = steps.script("account_step").source.replace("'RATE_LIMIT'", "'SLOW_DOWN'")

    with pytest.raises(steps.StepCodesMismatch):
        steps._verify_account_step(Edited)


def _rank(reason: p.Reason) -> int:
    detail = dict(reason.detail)
    return next(
        index
        for index, rank in enumerate(p.CHECK_ORDER)
        if rank.code == reason.code and rank.scope == detail.get("scope", rank.scope)
    )


def test_a_reject_lists_its_reasons_in_the_table_s_order():
    result = assess(
        order(price=D("250.005"), quantity=D("2000.001"), leverage=D("50")),
        global_kill=True,
        market=replace(OPEN_MARKET, kill_switch=True),
        account=p.AccountStanding(True, "suspended"),
    )
    ranks = [_rank(reason) for reason in result.reasons]
    assert len(ranks) >= 8 and ranks == sorted(ranks)


def test_an_instrument_kill_switch_is_reported_once():
    killed = replace(OPEN_MARKET, state="halted", reason="KILL_SWITCH", kill_switch=True)
    result = assess(market=killed)
    assert result.codes() == [p.KILL_SWITCH]
    assert dict(result.reasons[0].detail) == {"scope": "instrument", "target": "AAPL-PERP"}
    other_halt = replace(killed, reason="LULD")
    assert assess(market=other_halt).codes() == [p.KILL_SWITCH, p.MARKET_HALTED]


def test_the_lots_worked_out_before_the_instrument_step_are_used_as_given():
    given = p.assess(
        order(),
        terms=TERMS,
        account=p.AccountStanding(True),
        market=OPEN_MARKET,
        access=p.AccessVerdicts("allow"),
        global_kill=False,
        lots=TERMS.lots(D("10")),
    )
    assert given.quantity_lots == assess().quantity_lots == 1000
    assert given.open_interest_cap_lots == TERMS.open_interest_cap_lots == 10_000_000
