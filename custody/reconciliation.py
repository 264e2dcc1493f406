"""Custodian statements reconciled against the ledger, and the breaks they reveal.

A custodian (or a chain indexer) states what each wallet held at ``as_of``. Each line is
compared with the ledger's posted holding of that wallet *as of the same instant*, derived
from the transfers booked up to it (custody.selectors), so a statement that arrives late is
compared with the right past, not with today's balance. A wallet is the custody wallet of
that name, else the house wallet of that name; a wallet the ledger does not know holds zero.
Every difference is stored as a :class:`~custody.models.ReconciliationBreak`, announced
(``custody.signals.reconciliation_break``; compliance turns it into an alert) and listed
until an officer resolves it: with an explanation alone (the statement was late, the
custodian corrected it), or by the adjustment that makes the ledger hold what the custodian
stated (``closing_adjustment``: a custody wallet against suspense, a house wallet against
house revenue), booked under four eyes and resolving the break (``resolve_by_adjustment``).

A statement is identified by its custodian and ``as_of``: sending the same one again returns
the first result; a different body for the same custodian and instant is a conflict.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import orjson
from django.db import IntegrityError, transaction

from core import audit, clock
from core.errors import Conflict, IdempotencyConflict, NotFound, ValidationFailed
from custody import services, signals
from custody.identifiers import account_ref, parse_ref, venue_ref
from custody.ledger import AccountKind
from custody.models import (
    CustodianStatement,
    LedgerAccount,
    ReconciliationBreak,
    StatementLine,
)
from custody.money import from_minor
from custody.selectors import posted_balance_as_of


@dataclass(frozen=True, slots=True)
class StatementBalance:
    wallet: str
    asset: str
    amount: int
    """Minor units of ``asset``."""


def record_statement(
    *,
    custodian: str,
    as_of: datetime,
    balances: Sequence[StatementBalance],
    actor: str,
    now: datetime | None = None,
) -> tuple[CustodianStatement, bool]:
    """Store and reconcile a statement; ``(statement, created)``."""
    moment = now or clock.now()
    if as_of > moment:
        raise ValidationFailed(
            "as_of is in the future: a statement can only be reconciled against booked history",
            fields={"as_of": ["Must not be in the future."]},
        )
    seen = set()
    for index, line in enumerate(balances):
        key = (line.wallet, line.asset)
        if key in seen:
            raise ValidationFailed(
                f"balances[{index}]: {line.wallet} {line.asset} is listed twice",
                fields={f"balances.{index}.wallet": ["Each wallet and asset at most once."]},
            )
        seen.add(key)
    digest = _digest(custodian, as_of, balances)
    try:
        return _record(custodian, as_of, balances, digest, actor, moment)
    except IntegrityError:
        # Another request stored the same custodian and instant first: answer as a replay.
        return _existing(custodian, as_of, digest), False


def _existing(custodian: str, as_of: datetime, digest: str) -> CustodianStatement:
    statement = CustodianStatement.objects.get(custodian=custodian, as_of=as_of)
    if statement.body_sha256 != digest:
        raise IdempotencyConflict(
            f"a different statement from {custodian} as of {as_of.isoformat()} was already received"
        )
    return statement


def _record(custodian, as_of, balances, digest, actor, moment):
    with transaction.atomic():
        if CustodianStatement.objects.filter(custodian=custodian, as_of=as_of).exists():
            return _existing(custodian, as_of, digest), False
        statement = CustodianStatement.objects.create(
            custodian=custodian,
            as_of=as_of,
            body_sha256=digest,
            received_at=moment,
            received_by=actor,
        )
        breaks = []
        for line in balances:
            account_id, kind = _wallet_account(line.wallet, line.asset)
            ledger_amount = (
                posted_balance_as_of(account_id=account_id, kind=kind, as_of=as_of)
                if account_id
                else 0
            )
            stored = StatementLine.objects.create(
                statement=statement,
                wallet=line.wallet,
                asset_id=line.asset,
                ledger_account_id=account_id,
                amount=line.amount,
                ledger_amount=ledger_amount,
            )
            if line.amount != ledger_amount:
                breaks.append(
                    ReconciliationBreak.objects.create(
                        line=stored,
                        custodian=custodian,
                        wallet=line.wallet,
                        asset_id=line.asset,
                        as_of=as_of,
                        statement_amount=line.amount,
                        ledger_amount=ledger_amount,
                        amount=line.amount - ledger_amount,
                        opened_at=moment,
                    )
                )
        audit.record(
            actor=actor,
            action="custody.statement",
            object_type="custodian_statement",
            object_id=str(statement.pk),
            after={
                "custodian": custodian,
                "as_of": as_of.isoformat(),
                "lines": len(balances),
                "breaks": [b.pk for b in breaks],
                "sha256": digest,
            },
            at=moment,
        )
        for found in breaks:
            transaction.on_commit(_announcer(found), robust=True)
    return statement, True


def _announcer(found: ReconciliationBreak):
    def announce() -> None:
        signals.reconciliation_break.send(
            sender=ReconciliationBreak,
            break_id=found.pk,
            custodian=found.custodian,
            wallet=found.wallet,
            asset=found.asset_id,
            amount=from_minor(found.asset_id, found.amount),
            statement_amount=from_minor(found.asset_id, found.statement_amount),
            ledger_amount=from_minor(found.asset_id, found.ledger_amount),
            as_of=found.as_of,
        )

    return announce


def _wallet_account(wallet: str, asset: str) -> tuple[str | None, AccountKind]:
    for kind in (AccountKind.CUSTODY_WALLET, AccountKind.HOUSE_WALLET):
        ref = account_ref(kind, wallet, asset)
        if LedgerAccount.objects.filter(id=ref).exists():
            return ref, kind
    return None, AccountKind.CUSTODY_WALLET


def _digest(custodian: str, as_of: datetime, balances: Sequence[StatementBalance]) -> str:
    body = {
        "custodian": custodian,
        "as_of": as_of.isoformat(timespec="microseconds"),
        "balances": sorted([line.wallet, line.asset, str(line.amount)] for line in balances),
    }
    return hashlib.sha256(orjson.dumps(body)).hexdigest()


def resolve_break(
    *, break_id: int, actor: str, resolution: str, now: datetime | None = None
) -> ReconciliationBreak:
    """Close a break with the officer's explanation (audited)."""
    if not resolution.strip():
        raise ValidationFailed(
            "a resolution must say what was done", fields={"resolution": ["Required."]}
        )
    with transaction.atomic():
        found = ReconciliationBreak.objects.select_for_update().filter(pk=break_id).first()
        if found is None:
            raise NotFound(f"no reconciliation break {break_id}")
        if found.status != ReconciliationBreak.OPEN:
            raise Conflict(f"reconciliation break {break_id} is already {found.status}")
        found.status = ReconciliationBreak.RESOLVED
        found.resolved_at = now or clock.now()
        found.resolved_by = actor
        found.resolution = resolution
        found.save(update_fields=["status", "resolved_at", "resolved_by", "resolution"])
        audit.record(
            actor=actor,
            action="custody.break_resolve",
            object_type="reconciliation_break",
            object_id=str(break_id),
            before={"status": ReconciliationBreak.OPEN},
            after={"status": found.status, "resolution": resolution},
        )
    return found


@dataclass(frozen=True, slots=True)
class ClosingAdjustment:
    """The ``adjustment`` transfer that makes the ledger's wallet hold what the custodian
    stated: the difference, between the wallet and where unexplained value waits (client
    side: suspense, which segregation counts; house side: the house's revenue). A positive
    break (the custodian holds more) debits the wallet, whose holdings rise."""

    transfer_id: str
    debit_account_id: str
    credit_account_id: str
    asset: str
    amount: int


_COUNTERPART = {
    AccountKind.CUSTODY_WALLET: AccountKind.SUSPENSE,
    AccountKind.HOUSE_WALLET: AccountKind.HOUSE_REVENUE,
}


def adjustment_id(break_id: int) -> str:
    """One per break, so booking it again is a replay. Should a client have taken the id
    first, the ledger refuses the adjustment (the same id with another body) and nothing
    is booked or resolved."""
    return f"reconciliation-break-{break_id}"


def closing_adjustment(found: ReconciliationBreak) -> ClosingAdjustment | None:
    """The adjustment that closes ``found``, or None when none can (a wallet the ledger
    does not know: there is no account to correct; a zero difference)."""
    ref = found.line.ledger_account_id
    if not ref or found.amount == 0:
        return None
    kind, _, asset = parse_ref(ref)
    counterpart = _COUNTERPART.get(kind)
    if counterpart is None:
        return None
    other = venue_ref(counterpart, asset)
    debit, credit = (ref, other) if found.amount > 0 else (other, ref)
    return ClosingAdjustment(adjustment_id(found.pk), debit, credit, asset, abs(found.amount))


def _break(break_id: int) -> ReconciliationBreak:
    found = ReconciliationBreak.objects.select_related("line").filter(pk=break_id).first()
    if found is None:
        raise NotFound(f"no reconciliation break {break_id}")
    return found


def resolve_by_adjustment(
    *, break_id: int, reason: str, maker: str, approver: str
) -> tuple[ReconciliationBreak, ClosingAdjustment]:
    """Book the closing adjustment (maker and approver named, ``manual_adjustment``: four
    eyes, audited with the transfer) and resolve the break naming it. Safe to run again
    after a crash between the two (the transfer id is the break's; a break this same
    adjustment resolved is answered as it is). Nothing is booked for a break no longer open."""
    found = _break(break_id)
    adjustment = closing_adjustment(found)
    if adjustment is None:
        raise Conflict(
            f"no adjustment can close reconciliation break {break_id}: the ledger has no "
            f"custody or house wallet {found.wallet} in {found.asset_id}"
        )
    resolution = f"adjusted by transfer {adjustment.transfer_id}: {reason.strip()}"
    if found.status != ReconciliationBreak.OPEN:
        if found.resolution == resolution:
            return found, adjustment
        raise Conflict(f"reconciliation break {break_id} is already {found.status}")
    services.manual_adjustment(
        id=adjustment.transfer_id,
        debit_account_id=adjustment.debit_account_id,
        credit_account_id=adjustment.credit_account_id,
        asset=adjustment.asset,
        amount=adjustment.amount,
        reason=f"reconciliation break {break_id}: {reason.strip()}",
        actor=maker,
        approved_by=approver,
    )
    try:
        return resolve_break(break_id=break_id, actor=approver, resolution=resolution), adjustment
    except Conflict:
        # Resolved by someone else while the transfer was booked: the transfer (audited
        # with its reason) stands, and the break's own resolution says what they did.
        return _break(break_id), adjustment
