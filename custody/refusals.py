"""Refusals: the words shown to the client, and the record that answers a repeat.

The specification does not record a refused transfer (TigerBeetle does not either); the
contract does (API.md: the same id and body get the first answer). :class:`RefusalRecord`
is that record as one batch sees it: a refusal is kept with its message and the request, and
a later request under that id is answered from it: the same refusal when the request is
identical, ``exists_with_different_fields`` when it is not. ``linked_event_failed`` and
``linked_event_chain_open`` are answers about the batch, not the transfer, and are not
recorded, so a chain can be retried after fixing its failing member. The writer reads the
record under the chain lock and stores what a batch added (``TransferRefusal`` rows).

The numbers that decided a refusal (what was available, what the wall allows) are read from
the batch's ledger at the moment of the refusal (:func:`explain`) and stored with it, so a
repeated request gets exactly the first answer even after the balances have moved on.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from custody.errors import SegregationViolation
from custody.identifiers import parse_ref
from custody.ledger import (
    DEBIT_NORMAL,
    Account,
    AccountKind,
    TransferCode,
    balance_view,
    check_segregation,
)
from custody.ledger_state import Ledger
from custody.money import ASSETS, from_minor
from custody.posting import apply_transfers
from custody.transfer_rows import request_from_json
from custody.transfers import SUCCESSFUL, Transfer, TransferFlags, TransferResult

_R = TransferResult
_UNRECORDED = frozenset(
    {_R.LINKED_EVENT_FAILED, _R.LINKED_EVENT_CHAIN_OPEN, _R.EXISTS_WITH_DIFFERENT_FIELDS}
)


@dataclass(frozen=True, slots=True)
class Refusal:
    """A refused request as first answered."""

    request: Transfer
    result: TransferResult
    message: str


@dataclass(slots=True)
class RefusalRecord:
    """The refusals a batch knows of (``known``: read under the chain lock, plus its own) and
    those it adds (``added``, for the writer to store)."""

    known: dict[str, Refusal] = field(default_factory=dict)
    added: dict[str, Refusal] = field(default_factory=dict)

    @classmethod
    def of_rows(cls, rows: Iterable[tuple[str, dict, str, str]]) -> "RefusalRecord":
        """From stored ``(transfer_id, request as JSON, result, message)`` rows."""
        return cls(
            known={
                transfer_id: Refusal(request_from_json(request), _R(result), message)
                for transfer_id, request, result, message in rows
            }
        )

    def earlier_refusal(self, chain: list[Transfer]) -> tuple[int, TransferResult] | None:
        """The first member of a closed chain refused before, and what it is answered now:
        its first result when the request is the same, else ``exists_with_different_fields``."""
        for index, transfer in enumerate(chain):
            refusal = self.known.get(transfer.id)
            if refusal is not None:
                same = refusal.request == transfer
                return index, refusal.result if same else _R.EXISTS_WITH_DIFFERENT_FIELDS
        return None

    def replay(
        self, ledger: Ledger, chain: list[Transfer], index: int, result: TransferResult, now
    ) -> list[TransferResult]:
        """Answer a chain whose member ``index`` was refused before: members ahead of it
        still take precedence, so they are tried on a copy of the ledger first."""
        results = [_R.LINKED_EVENT_FAILED] * len(chain)
        if index:
            trial = ledger.copy()
            prefix = list(chain[:index])
            prefix[-1] = replace(prefix[-1], flags=prefix[-1].flags & ~TransferFlags.LINKED)
            for position, outcome in enumerate(apply_transfers(trial, prefix, now)):
                if outcome not in SUCCESSFUL:
                    results[position] = outcome
                    return results
        results[index] = result
        return results

    def answer(
        self,
        ledger: Ledger,
        chain: list[Transfer],
        results: list[TransferResult],
        replay: tuple[int, TransferResult] | None,
    ) -> list[tuple[str, bool]]:
        """``(message, replayed)`` for each member of a chain just answered, recording each
        new refusal of a transfer (not of its batch). ``replayed``: the answer repeats an
        earlier one (``exists``, or a refusal read from its record)."""
        failed = next(
            (
                (i, r)
                for i, r in enumerate(results)
                if r not in SUCCESSFUL and r is not _R.LINKED_EVENT_FAILED
            ),
            None,
        )
        answers = []
        for offset, (transfer, result) in enumerate(zip(chain, results, strict=True)):
            if result in SUCCESSFUL:
                answers.append(("", result is _R.EXISTS))
                continue
            recorded = self.known.get(transfer.id)
            if replay is not None and offset == replay[0] and recorded is not None:
                if result is recorded.result and recorded.request == transfer:
                    answers.append((recorded.message, True))
                    continue
            if result is _R.LINKED_EVENT_FAILED and failed is not None:
                culprit = chain[failed[0]].id or "(no id)"
                message = (
                    f"transfer {transfer.id or '(no id)'} was not applied: transfer {culprit} "
                    f"of its linked chain was refused ({failed[1]})"
                )
            else:
                message = explain(ledger, transfer, result)
            answers.append((message, False))
            if result not in _UNRECORDED and transfer.id and transfer.id not in self.known:
                refusal = Refusal(transfer, result, message)
                self.known[transfer.id] = refusal
                self.added[transfer.id] = refusal
        return answers


def explain(ledger: Ledger, transfer: Transfer, result: TransferResult) -> str:
    """A refusal in words, with the numbers that decided it (stored with the refusal)."""
    asset = transfer.asset if transfer.asset in ASSETS else None
    amount = from_minor(asset, transfer.amount) if asset and transfer.amount >= 0 else None
    if result is _R.EXCEEDS_CREDITS:
        account = ledger.accounts[transfer.debit_account_id]
        view = balance_view(account, ledger.balances[account.id])
        return (
            f"{_name(account)} has {from_minor(account.asset, view.available)} {account.asset} "
            f"available ({from_minor(account.asset, view.total)} total, "
            f"{from_minor(account.asset, view.reserved)} reserved); {amount} requested"
        )
    if result is _R.EXCEEDS_DEBITS:
        account = ledger.accounts[transfer.credit_account_id]
        view = balance_view(account, ledger.balances[account.id])
        return (
            f"{_name(account)} holds {from_minor(account.asset, view.available)} "
            f"{account.asset} free of pending transfers; {amount} requested"
        )
    if result is _R.SEGREGATION_VIOLATION:
        debit = ledger.accounts[transfer.debit_account_id]
        credit = ledger.accounts[transfer.credit_account_id]
        try:
            check_segregation(debit.kind, credit.kind, TransferCode(transfer.code))
        except SegregationViolation as refusal:  # the wall's own words (custody.ledger)
            return str(refusal)
    if result is _R.EXCEEDS_SEGREGATION_EXCESS:
        return (
            "a sweep may take only the segregation excess that survives every open pending "
            f"transfer; {amount} requested"
        )
    if result is _R.EXISTS_WITH_DIFFERENT_FIELDS:
        return f"transfer id {transfer.id!r} was already used with a different request"
    if result in (_R.DEBIT_ACCOUNT_NOT_FOUND, _R.CREDIT_ACCOUNT_NOT_FOUND):
        ref = (
            transfer.debit_account_id
            if result is _R.DEBIT_ACCOUNT_NOT_FOUND
            else transfer.credit_account_id
        )
        return f"no ledger account {ref}"
    if result is _R.PENDING_TRANSFER_NOT_FOUND:
        return f"no pending transfer {transfer.pending_id}"
    return f"transfer {transfer.id or '(no id)'} refused: {result.value.replace('_', ' ')}"


def _name(account: Account) -> str:
    kind, owner, _ = parse_ref(account.id)
    if kind is AccountKind.CLIENT_LIABILITY:
        return f"account {owner}"
    if account.kind in DEBIT_NORMAL:
        return f"{kind.value.replace('_', ' ')} {owner}"
    return account.id
