"""Reads of the ledger for views, reports, the risk mirror and the writer's monitors.

Balances "now" come from the account counters the writer maintains; balances "as of" a past
instant are derived from the transfers booked up to it (only rows with a posted effect:
single-phase transfers and posts; ``custody.transfer_rows.POSTING_FLAG_VALUES``). Because the ledger
clock never runs backwards, "booked at or before ``as_of``" is a prefix of the chain.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Q, Sum

from custody.identifiers import client_ref, parse_ref
from custody.ledger import (
    DEBIT_NORMAL,
    Account,
    AccountKind,
    Balance,
    BalanceView,
    TransferCode,
    balance_view,
)
from custody.models import (
    HeldWithdrawal,
    LedgerAccount,
    OpenPending,
    PorPublication,
    ReconciliationBreak,
    Transfer,
)
from custody.money import ASSETS, from_minor
from custody.transfer_rows import POSTING_FLAG_VALUES

_K = AccountKind
CLAIM_KINDS = (_K.CLIENT_LIABILITY, _K.CLEARING)
"""Client claims; suspense counts too, but only where it holds money (see below)."""
_CLIENT_SIDE = (_K.CLIENT_LIABILITY, _K.CLEARING, _K.CUSTODY_WALLET, _K.SUSPENSE)


@dataclass(frozen=True, slots=True)
class ClientBalance:
    asset: str
    view: BalanceView


def client_balances(*, account_id: str, now: datetime) -> list[ClientBalance]:
    """A client's balances per asset: ``total``, ``reserved`` (open pending debits) and
    ``available``. A reservation whose deadline has passed is not counted even if the expiry
    sweep has not recorded it yet: it can no longer be posted (custody.posting)."""
    accounts = list(
        LedgerAccount.objects.filter(kind=_K.CLIENT_LIABILITY, owner=account_id).order_by("asset")
    )
    lapsed = dict(
        OpenPending.objects.filter(
            debit_account_id__in=[a.id for a in accounts], expires_at__lte=now
        )
        .values("debit_account_id")
        .annotate(total=Sum("amount"))
        .values_list("debit_account_id", "total")
    )
    return [
        ClientBalance(
            asset=account.asset_id,
            view=balance_view(
                Account.open(account.id, account.asset_id, _K.CLIENT_LIABILITY),
                Balance(
                    account.debits_pending - (lapsed.get(account.id) or 0),
                    account.debits_posted,
                    account.credits_pending,
                    account.credits_posted,
                ),
            ),
        )
        for account in accounts
    ]


def posted_balance_as_of(*, account_id: str, kind: AccountKind, as_of: datetime) -> int:
    """An account's posted balance on its normal side from the transfers up to ``as_of``."""
    posted = Transfer.objects.filter(created_at__lte=as_of, flags__in=POSTING_FLAG_VALUES)
    debits = posted.filter(debit_account_id=account_id).aggregate(s=Sum("amount"))["s"] or 0
    credits = posted.filter(credit_account_id=account_id).aggregate(s=Sum("amount"))["s"] or 0
    return debits - credits if kind in DEBIT_NORMAL else credits - debits


@dataclass(frozen=True, slots=True)
class SegregationStatement:
    """Client claims against segregated holdings in one asset, minor units (ledger_state.py's rule:
    claims are client liabilities, clearing, and suspense accounts holding money)."""

    asset: str
    as_of: datetime
    client_liabilities: int
    segregated_assets: int
    sweepable: int | None
    """Excess that survives every open pending transfer; only known for "now"."""

    @property
    def excess(self) -> int:
        return self.segregated_assets - self.client_liabilities


def segregation_statement(
    *, asset: str, now: datetime, as_of: datetime | None = None
) -> SegregationStatement:
    if as_of is None or as_of >= now:
        return _segregation_now(asset, now)
    return _segregation_as_of(asset, as_of)


def _segregation_now(asset: str, now: datetime) -> SegregationStatement:
    accounts = LedgerAccount.objects.filter(asset_id=asset)
    claims = accounts.filter(kind__in=CLAIM_KINDS).aggregate(
        c=Sum("credits_posted"), d=Sum("debits_posted")
    )
    liabilities = (claims["c"] or 0) - (claims["d"] or 0)
    for credits, debits in accounts.filter(kind=_K.SUSPENSE).values_list(
        "credits_posted", "debits_posted"
    ):
        liabilities += max(0, credits - debits)
    wallets = accounts.filter(kind=_K.CUSTODY_WALLET).aggregate(
        c=Sum("credits_posted"), d=Sum("debits_posted")
    )
    holdings = (wallets["d"] or 0) - (wallets["c"] or 0)
    at_risk = (
        OpenPending.objects.filter(asset_id=asset)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .exclude(debit_account__kind__in=_CLIENT_SIDE)
        .filter(credit_account__kind__in=_CLIENT_SIDE)
        .aggregate(s=Sum("amount"))["s"]
        or 0
    )
    return SegregationStatement(
        asset=asset,
        as_of=now,
        client_liabilities=liabilities,
        segregated_assets=holdings,
        sweepable=holdings - liabilities - at_risk,
    )


def _segregation_as_of(asset: str, as_of: datetime) -> SegregationStatement:
    posted = Transfer.objects.filter(
        asset_id=asset, created_at__lte=as_of, flags__in=POSTING_FLAG_VALUES
    )
    credits = dict(
        posted.values("credit_account__kind")
        .annotate(s=Sum("amount"))
        .values_list("credit_account__kind", "s")
    )
    debits = dict(
        posted.values("debit_account__kind")
        .annotate(s=Sum("amount"))
        .values_list("debit_account__kind", "s")
    )
    liabilities = sum((credits.get(k) or 0) - (debits.get(k) or 0) for k in CLAIM_KINDS)
    holdings = (debits.get(_K.CUSTODY_WALLET) or 0) - (credits.get(_K.CUSTODY_WALLET) or 0)
    suspense: dict[str, int] = {}
    for account_id, amount in (
        posted.filter(credit_account__kind=_K.SUSPENSE)
        .values("credit_account_id")
        .annotate(s=Sum("amount"))
        .values_list("credit_account_id", "s")
    ):
        suspense[account_id] = suspense.get(account_id, 0) + amount
    for account_id, amount in (
        posted.filter(debit_account__kind=_K.SUSPENSE)
        .values("debit_account_id")
        .annotate(s=Sum("amount"))
        .values_list("debit_account_id", "s")
    ):
        suspense[account_id] = suspense.get(account_id, 0) - amount
    liabilities += sum(max(0, value) for value in suspense.values())
    return SegregationStatement(
        asset=asset,
        as_of=as_of,
        client_liabilities=liabilities,
        segregated_assets=holdings,
        sweepable=None,
    )


def excess_from_house_side(asset: str) -> int:
    """Segregated holdings minus client claims, from the venue's few accounts only.

    Per asset every account's ``credits_posted - debits_posted`` sums to zero (double entry),
    so holdings minus claims equals house revenue plus insurance fund minus house wallets
    plus the negative part of suspense: the same number as :func:`segregation_statement`
    without summing a million client accounts. The writer uses it to notice a shortfall.
    """
    excess = 0
    for kind, credits, debits in LedgerAccount.objects.filter(
        asset_id=asset,
        kind__in=(_K.HOUSE_REVENUE, _K.INSURANCE_FUND, _K.HOUSE_WALLET, _K.SUSPENSE),
    ).values_list("kind", "credits_posted", "debits_posted"):
        signed = credits - debits
        excess += min(0, signed) if kind == _K.SUSPENSE else signed
    return excess


def reconciliation_breaks(
    *, status: str | None = ReconciliationBreak.OPEN, asset: str | None = None
):
    breaks = ReconciliationBreak.objects.all()
    if status:
        breaks = breaks.filter(status=status)
    if asset:
        breaks = breaks.filter(asset_id=asset)
    return breaks.order_by("-opened_at", "wallet", "id")


def latest_publication(*, asset: str) -> PorPublication | None:
    return PorPublication.objects.filter(asset_id=asset).order_by("-published_at", "-id").first()


def segregation_report_rows(period_start: datetime, period_end: datetime):
    """The segregation statement of every asset with client accounts, as of the end of a
    report period: a report section ``(columns, rows)`` for the compliance reports (the
    section registry lives in compliance, which custody must not import)."""
    assets = sorted(
        set(
            LedgerAccount.objects.filter(kind=_K.CLIENT_LIABILITY)
            .values_list("asset_id", flat=True)
            .distinct()
        )
    )
    columns = ["asset", "as_of", "client_liabilities", "segregated_assets", "excess"]
    rows = []
    for asset in assets:
        statement = _segregation_as_of(asset, period_end - timedelta(microseconds=1))
        rows.append(
            (
                asset,
                period_end,
                from_minor(asset, statement.client_liabilities),
                from_minor(asset, statement.segregated_assets),
                from_minor(asset, statement.excess),
            )
        )
    return columns, rows


def available_client_balances(*, asset: str) -> dict[str, Decimal]:
    """Every client's available balance in ``asset`` (posted credits less posted and pending
    debits), as decimals: what the pre-trade check counts as collateral."""
    scale = Decimal(10) ** ASSETS[asset].scale
    rows = LedgerAccount.objects.filter(kind=_K.CLIENT_LIABILITY, asset_id=asset).values_list(
        "owner", "credits_posted", "debits_posted", "debits_pending"
    )
    return {
        owner: Decimal(credits - debits - pending) / scale
        for owner, credits, debits, pending in rows
    }


MARGIN_HOLD_PREFIX = "margin:"
"""Ids of the venue's margin holds: ``margin:<account>:<instrument>:<fill>`` (pending
``margin_reservation`` transfers client → clearing, kept while the position is open)."""


def margin_holds(*, asset: str, account_id: str | None = None) -> dict[tuple[str, str], int]:
    """Open margin holds in ``asset`` per (account, instrument), in minor units."""
    prefix = MARGIN_HOLD_PREFIX + (f"{account_id}:" if account_id else "")
    holds: dict[tuple[str, str], int] = {}
    rows = OpenPending.objects.filter(asset_id=asset, pending_id__startswith=prefix)
    for pending_id, amount in rows.values_list("pending_id", "amount"):
        _, account, instrument, _ = pending_id.split(":", 3)
        holds[account, instrument] = holds.get((account, instrument), 0) + amount
    return holds


def margin_held(*, asset: str, account_ids: Iterable[str]) -> dict[str, int]:
    """Open margin holds in ``asset`` per account, in minor units: one query for a batch."""
    refs = [client_ref(account_id, asset) for account_id in account_ids]
    rows = (
        OpenPending.objects.filter(
            asset_id=asset, debit_account_id__in=refs, pending_id__startswith=MARGIN_HOLD_PREFIX
        )
        .values("debit_account_id")
        .annotate(total=Sum("amount"))
        .values_list("debit_account_id", "total")
    )
    return {parse_ref(ref)[1]: int(total) for ref, total in rows}


def margin_hold_rows(*, asset: str, account_id: str, instrument: str) -> list[tuple[str, int]]:
    prefix = f"{MARGIN_HOLD_PREFIX}{account_id}:{instrument}:"
    return list(
        OpenPending.objects.filter(asset_id=asset, pending_id__startswith=prefix)
        .order_by("amount", "pending_id")
        .values_list("pending_id", "amount")
    )


def held_withdrawal(*, id: str) -> HeldWithdrawal | None:
    return HeldWithdrawal.objects.filter(pk=id).first()


def booked_withdrawal(*, id: str):
    """The single (not two-phase) ``withdrawal`` transfer of this id, if booked."""
    return Transfer.objects.filter(transfer_id=id, code=TransferCode.WITHDRAWAL, flags=0).first()


def held_withdrawals(*, older_than: datetime | None = None) -> list[HeldWithdrawal]:
    """Withdrawals still waiting for an officer, oldest first (the console, the monitor)."""
    found = HeldWithdrawal.objects.filter(status=HeldWithdrawal.HELD)
    if older_than is not None:
        found = found.filter(held_at__lte=older_than)
    return list(found.order_by("held_at", "id"))
