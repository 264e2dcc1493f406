"""The atomic Redis steps of the pre-trade check and the order lifecycle, and their keys.

Lua scripts live in ``lua/`` beside this module and run by SHA (``core.scripts``). The
account step's reason codes are ``checks.CHECK_ORDER``'s: the script is read at start-up
and refused unless the codes it can answer are exactly the table's account-step codes, in
the table's order (a check made once, when loading, so nothing is added per order).

Two ways to run a check. On a Redis Cluster, every key of the account step shares the
account's bucket tag and every key of the instrument step the instrument's, so each runs in
one slot: two round trips. On a standalone or Sentinel-watched Redis, ``order_step`` runs
both in one script (one round trip), with the same account decision (``lua/_account.lua``)
and the same open-interest rules (``lua/_open_interest.lua``).

Keys of one account (tag ``{acct:<bucket>}``): ``…:<account>:risk`` (positions,
reservations and margin per instrument, collateral, the rate limiter), ``…:o:<order>``
(one order's record, with a lifetime: open until it expires, then its idempotency window),
``…:open`` (open orders by expiry), ``…:f:<fill>`` (one fill's record, for its idempotency
window) and ``…:kill``. Of one bucket: ``synced``, ``decisions`` (the decision stream),
``policy`` (``core.policy``) and ``expiry`` (every open order of the bucket by expiry, for
the sweeper). Of one instrument (tag ``{inst:<symbol>}``): ``market``, ``oi`` (open
interest: filled, reserved, one field per reservation) and ``oi_expiry``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from core.redis_client import account_bucket, account_key, bucket_key, instrument_key
from core.scripts import Script, text
from risk.markets.view import PUBLICATION_FIELDS
from risk.pretrade.checks import ACCOUNT_STEP_CODES

LUA = Path(__file__).resolve().parent / "lua"
_ORDERS, _OPEN_INTEREST, _ACCOUNT = (
    LUA / f"_{name}.lua" for name in ("orders", "open_interest", "account")
)


def _publication_fields() -> str:
    """The market publication's fields as a Lua constant: ``order_step`` answers them when
    the caller's copy is out of date (``risk.markets.view.PUBLICATION_FIELDS``, defined once)."""
    names = ", ".join(f"'{name}'" for name in PUBLICATION_FIELDS)
    return f"local PUBLICATION_FIELDS = {{{names}}}"


SCRIPTS = {
    "account_step": Script(LUA / "account_step.lua", _ORDERS, _ACCOUNT),
    "order_step": Script(
        LUA / "order_step.lua", _ORDERS, _OPEN_INTEREST, _ACCOUNT, header=_publication_fields()
    ),
    "instrument_step": Script(LUA / "instrument_step.lua", _OPEN_INTEREST),
    "release_open_interest": Script(LUA / "release_open_interest.lua"),
    "fill_step": Script(LUA / "fill_step.lua", _ORDERS),
    "cancel_step": Script(LUA / "cancel_step.lua", _ORDERS),
    "expire_orders": Script(LUA / "expire_orders.lua", _ORDERS),
    "expire_open_interest": Script(LUA / "expire_open_interest.lua", _OPEN_INTEREST),
    "void_step": Script(LUA / "void_step.lua", _ORDERS),
}


_INSERTED_CODE = re.compile(r"table\.insert\(codes, '([A-Z_]+)'\)")


def answered_codes(source: str) -> tuple[str, ...]:
    """The codes a step's Lua source can answer, in the order it checks them."""
    return tuple(_INSERTED_CODE.findall(source))


class StepCodesMismatch(RuntimeError):
    """A step's Lua answers codes the check-order table does not list, or in another order."""


def _verify_account_step(step: Script) -> None:
    found = answered_codes(step.source)
    if found != ACCOUNT_STEP_CODES:
        raise StepCodesMismatch(
            f"{step.name}.lua answers {found}; checks.CHECK_ORDER lists {ACCOUNT_STEP_CODES}"
        )


_verify_account_step(SCRIPTS["account_step"])
_verify_account_step(SCRIPTS["order_step"])


def script(name: str) -> Script:
    return SCRIPTS[name]


@lru_cache(maxsize=65_536)
def account_prefix(account_id: str) -> str:
    """``gh:{acct:<bucket>}:<account>:``, the start of every key of one account."""
    return account_key(account_id, "")


def risk_key(account_id: str) -> str:
    return account_key(account_id, "risk")


def order_key(account_id: str, order_id: str) -> str:
    return account_key(account_id, f"o:{order_id}")


def fill_key(account_id: str, fill_id: str) -> str:
    return account_key(account_id, f"f:{fill_id}")


def open_orders_key(account_id: str) -> str:
    return account_key(account_id, "open")


def kill_key(account_id: str) -> str:
    return account_key(account_id, "kill")


def expiry_key(bucket: int) -> str:
    return bucket_key(bucket, "expiry")


def bucket_prefix(bucket: int) -> str:
    return bucket_key(bucket, "")


@lru_cache(maxsize=65_536)
def _account_keys(account_id: str) -> tuple[str, ...]:
    """The keys of ``account_step`` but the order's record, worked out once per account
    (each name hashes the account id for its bucket): risk, open orders, kill switch, and
    the bucket's synced flag, decision stream, policy hash and expiry index."""
    bucket = account_bucket(account_id)
    return (
        risk_key(account_id),
        open_orders_key(account_id),
        kill_key(account_id),
        bucket_key(bucket, "synced"),
        bucket_key(bucket, "decisions"),
        bucket_key(bucket, "policy"),
        expiry_key(bucket),
        bucket_key(bucket, "kill"),
        account_prefix(account_id),
    )


def account_step_keys(account_id: str, order_id: str) -> list[str]:
    risk, open_orders, kill, synced, decisions, policy, expiry, _, prefix = _account_keys(
        account_id
    )
    order = f"{prefix}o:{order_id}"
    return [risk, order, open_orders, kill, synced, decisions, policy, expiry]


def order_step_keys(account_id: str, order_id: str, symbol: str) -> list[str]:
    """The account step's keys, then the instrument's (market hash, open interest and its
    expiry index) and the bucket's copy of the global kill switch: ``order_step`` on a
    Redis without cluster slots."""
    risk, open_orders, kill, synced, decisions, policy, expiry, global_kill, prefix = _account_keys(
        account_id
    )
    return [
        risk,
        f"{prefix}o:{order_id}",
        open_orders,
        kill,
        synced,
        decisions,
        policy,
        expiry,
        *_instrument_keys(symbol),
        global_kill,
    ]


def cancel_keys(account_id: str, order_id: str) -> list[str]:
    return [
        risk_key(account_id),
        order_key(account_id, order_id),
        open_orders_key(account_id),
        expiry_key(account_bucket(account_id)),
    ]


def void_keys(account_id: str, order_id: str) -> list[str]:
    bucket = account_bucket(account_id)
    return [
        risk_key(account_id),
        order_key(account_id, order_id),
        open_orders_key(account_id),
        expiry_key(bucket),
        bucket_key(bucket, "decisions"),
    ]


def fill_keys(account_id: str, order_id: str, fill_id: str) -> list[str]:
    return [
        risk_key(account_id),
        order_key(account_id, order_id),
        open_orders_key(account_id),
        fill_key(account_id, fill_id),
        expiry_key(account_bucket(account_id)),
    ]


def instrument_keys(symbol: str) -> list[str]:
    return list(_instrument_keys(symbol))


@lru_cache(maxsize=4096)
def _instrument_keys(symbol: str) -> tuple[str, str, str]:
    return (instrument_key(symbol, "market"), *open_interest_keys(symbol))


def open_interest_keys(symbol: str) -> list[str]:
    return [instrument_key(symbol, "oi"), instrument_key(symbol, "oi_expiry")]


def reservation_id(account_id: str, order_id: str) -> str:
    return f"{account_id}|{order_id}"


@dataclass(frozen=True, slots=True)
class AccountStepResult:
    status: str  # new | duplicate | conflict | unsynced | unpublished | stale | market
    decision: str
    codes: tuple[str, ...]
    reduces: bool
    record: str
    announced: tuple = ()
    """For ``stale``: ``(field, version, ...)`` announced newer than what was used; for
    ``market``: ``(token, kill, field, value, ...)``, the market publication and the global
    kill switch as stored now."""

    @classmethod
    def parse(cls, raw: list) -> AccountStepResult:
        status, decision, codes, reduces = (text(item) for item in raw[:4])
        last = raw[4]
        announced = tuple(last) if isinstance(last, list) else ()
        record = "" if isinstance(last, list) else text(last)
        return cls(
            status,
            decision,
            tuple(filter(None, codes.split(","))),
            reduces == "1",
            record,
            announced,
        )
