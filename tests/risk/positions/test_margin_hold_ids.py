"""Margin holds and their voids are ledger transfers, whose ids are at most 100 characters.
A reducing fill named its void ``<hold id>:void:<fill id>``: with order and fill ids of about
thirty characters (the demo feed's ``demo-20261205T215428-1796507873-1``) that passed 100, the
ledger refused the void after the position had moved, the fill answered 400 and the hold was
never released (seen in the demo's first live run)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custody.identifiers import is_client_id
from risk.positions.margin import MAX_LEDGER_ID, VOID_PREFIX, ledger_id
from tests.conftest import auth
from tests.risk.pretrade import test_check_api as check_api
from tests.risk.pretrade.test_check_api import check, order

# the pre-trade API tests' venue (demo instruments, accounts, collateral) and key fixtures
_venue, _key = check_api.venue, check_api.key
ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.", min_size=1, max_size=100)


@settings(max_examples=300, deadline=None)
@given(fill=ids, earlier=ids)
def test_a_void_id_always_fits_the_ledger_and_is_the_same_on_a_retry(fill, earlier):
    hold = ledger_id(f"margin:acc-sg:NVDA-PERP:{earlier}", "margin:acc-sg:NVDA-PERP:")
    void = ledger_id(f"{hold}:void:{fill}", VOID_PREFIX)
    for made in (hold, void):
        assert len(made) <= MAX_LEDGER_ID and is_client_id(made)
    assert void == ledger_id(f"{hold}:void:{fill}", VOID_PREFIX)
    assert hold.startswith("margin:acc-sg:NVDA-PERP:")  # holds are found by this prefix
    if len(f"{hold}:void:{fill}") > MAX_LEDGER_ID:
        assert void.startswith(VOID_PREFIX)


def test_an_id_that_fits_keeps_its_readable_name():
    assert ledger_id("margin:acc-sg:AAPL-PERP:mf-1", "margin:acc-sg:AAPL-PERP:") == (
        "margin:acc-sg:AAPL-PERP:mf-1"
    )


@pytest.mark.django_db
def test_reducing_fills_with_thirty_character_ids_release_their_holds(
    api, _venue, _key, django_capture_on_commit_callbacks
):
    """Open 10, reduce 4 (the hold is voided and the rest held again as
    ``margin:acc-sg:AAPL-PERP:<fill>:rest``), reduce 6: that void's readable id is 101 long."""
    from custody import services as custody
    from custody.selectors import margin_holds

    with django_capture_on_commit_callbacks(execute=True):
        custody.deposit(
            id="dep-sg",
            account_id="acc-sg",
            asset="USDC",
            amount=10_000 * 10**6,
            custody_wallet="wallet-a",
        )
    run = "demo-20261205T215428-17965077"
    trades = [("46", "buy", "10", False), ("53", "sell", "4", True), ("60", "sell", "6", True)]
    holds = [115_000_000, 69_000_000, None]
    for (step, side, quantity, reducing), held in zip(trades, holds, strict=True):
        order_id = f"{run}{step}"
        body = order(order_id=order_id, side=side, quantity=quantity, reduce_only=reducing)
        assert check(api, _key, body).json()["decision"] == "accept"
        fill = {"fill_id": f"{order_id}-1", "account_id": "acc-sg", "quantity": quantity}
        with django_capture_on_commit_callbacks(execute=True):
            response = api.post(
                f"/api/v1/orders/{order_id}/fills",
                {**fill, "price": "230"},
                format="json",
                **auth(_key),
            )
        assert response.status_code == 200, response.content  # the last was a 400
        expected = {} if held is None else {("acc-sg", "AAPL-PERP"): held}
        assert margin_holds(asset="USDC", account_id="acc-sg") == expected
    assert response.json()["position"] == "0"
