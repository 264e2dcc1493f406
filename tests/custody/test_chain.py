"""The hash chain: one canonical encoding, and every kind of tampering caught."""

import hashlib
from datetime import timedelta, timezone
from decimal import Decimal

import pytest

from custody.chain import (
    GENESIS_HASH,
    TRANSFER_FIELDS,
    canonical_transfer_bytes,
    chain_hash,
    chain_hash_of_values,
    checkpoint_message,
    first_break,
    record_fields,
)
from custody.ledger import TransferCode
from custody.posting import apply_transfers
from custody.transfers import Transfer
from tests.custody.books import NOW, book, pending, single

C = TransferCode

FIELDS = {
    "sequence": 1,
    "id": "d-1",
    "debit_account_id": "wallet-a",
    "credit_account_id": "acc-1",
    "asset": "USDC",
    "code": "deposit",
    "amount": 1_000_000_000,
    "flags": "",
    "pending_id": None,
    "timeout": 0,
    "created_at": NOW,
}

GOLDEN = "a953ee19964771277f146ddb27edd3779be267ba9883ec3c31774c458836bf47"
"""The hash of ``FIELDS`` over the genesis hash. If this test fails the
encoding changed: every stored chain would break, so bump ``CHAIN_VERSION`` instead."""


def test_the_encoding_is_pinned():
    assert chain_hash(FIELDS, GENESIS_HASH).hex() == GOLDEN


def test_the_values_form_hashes_as_the_mapping():
    """The writer hashes its rows from the values in field order (custody.transfer_rows)."""
    assert chain_hash_of_values(list(FIELDS.values()), GENESIS_HASH).hex() == GOLDEN
    pending = {**FIELDS, "flags": "pending", "pending_id": "p-1", "timeout": 60}
    assert chain_hash_of_values(list(pending.values()), GENESIS_HASH) == chain_hash(
        pending, GENESIS_HASH
    )
    with pytest.raises(ValueError):
        chain_hash_of_values(list(FIELDS.values())[:-1], GENESIS_HASH)
    with pytest.raises(TypeError):
        chain_hash_of_values([True, *list(FIELDS.values())[1:]], GENESIS_HASH)


def test_field_order_is_fixed_whatever_the_mapping_order():
    shuffled = dict(reversed(list(FIELDS.items())))
    assert canonical_transfer_bytes(shuffled, GENESIS_HASH) == canonical_transfer_bytes(
        FIELDS, GENESIS_HASH
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("sequence", 2),
        ("id", "d-2"),
        ("debit_account_id", "wallet-b"),
        ("credit_account_id", "acc-2"),
        ("asset", "USDT"),
        ("code", "withdrawal"),
        ("amount", 1_000_000_001),
        ("flags", "pending"),
        ("pending_id", "p-1"),
        ("timeout", 1),
        ("created_at", NOW + timedelta(microseconds=1)),
    ],
)
def test_every_field_is_covered(name, value):
    assert chain_hash({**FIELDS, name: value}, GENESIS_HASH) != chain_hash(FIELDS, GENESIS_HASH)


def test_the_previous_hash_is_covered():
    other = hashlib.sha256(b"x").digest()
    assert chain_hash(FIELDS, other) != chain_hash(FIELDS, GENESIS_HASH)


def test_length_prefixes_make_shifted_boundaries_differ():
    shifted = {**FIELDS, "id": "d-1w", "debit_account_id": "allet-a"}
    assert canonical_transfer_bytes(shifted, GENESIS_HASH) != canonical_transfer_bytes(
        FIELDS, GENESIS_HASH
    )


def test_empty_string_and_none_differ():
    assert chain_hash({**FIELDS, "pending_id": ""}, GENESIS_HASH) != chain_hash(
        FIELDS, GENESIS_HASH
    )


def test_the_same_instant_in_another_offset_encodes_the_same():
    elsewhere = NOW.astimezone(timezone(timedelta(hours=8)))
    assert chain_hash({**FIELDS, "created_at": elsewhere}, GENESIS_HASH) == chain_hash(
        FIELDS, GENESIS_HASH
    )


@pytest.mark.parametrize(
    ("name", "value", "error"),
    [
        ("amount", 10.0, TypeError),
        ("amount", Decimal(10), TypeError),
        ("amount", "10", TypeError),
        ("sequence", True, TypeError),
        ("id", None, TypeError),
        ("created_at", NOW.replace(tzinfo=None), ValueError),
    ],
    ids=["float", "decimal", "string_amount", "bool", "none_id", "naive_time"],
)
def test_wrong_types_are_refused_not_coerced(name, value, error):
    with pytest.raises(error):
        chain_hash({**FIELDS, name: value}, GENESIS_HASH)


def test_missing_or_extra_fields_are_refused():
    with pytest.raises(ValueError, match="missing \\['timeout'\\]"):
        chain_hash({k: v for k, v in FIELDS.items() if k != "timeout"}, GENESIS_HASH)
    with pytest.raises(ValueError, match="unexpected \\['memo'\\]"):
        chain_hash({**FIELDS, "memo": "x"}, GENESIS_HASH)
    with pytest.raises(ValueError, match="32-byte"):
        chain_hash(FIELDS, b"short")


def test_transfer_fields_are_the_documented_ones():
    assert [name for name, _ in TRANSFER_FIELDS] == list(FIELDS)


def chained_rows():
    ledger = book()
    apply_transfers(
        ledger,
        [
            single("d1", "wallet-a", "alice", 500, C.DEPOSIT),
            single("d2", "wallet-b", "bob", 300, C.DEPOSIT),
            pending("h", "alice", "clearing", 50, C.MARGIN_RESERVATION, timeout=30),
            single("f", "alice", "fees", 5, C.FEE),
        ],
        NOW,
    )
    apply_transfers(ledger, [Transfer.post(id="p", pending_id="h", amount=20)], NOW)
    rows = []
    prev_hash = GENESIS_HASH
    for record in ledger.records.values():
        fields = record_fields(record)
        prev_hash = chain_hash(fields, prev_hash)
        rows.append((fields, prev_hash))
    return rows


def test_an_untouched_chain_verifies():
    rows = chained_rows()
    assert [fields["sequence"] for fields, _ in rows] == [1, 2, 3, 4, 5]
    assert rows[4][0]["flags"] == "post_pending_transfer"
    assert rows[4][0]["pending_id"] == "h"
    assert first_break(rows) is None


def edited(rows):
    fields, stored = rows[2]
    rows[2] = ({**fields, "amount": fields["amount"] + 1}, stored)
    return rows


def rehashed_edit(rows):
    fields, _ = rows[2]
    fields = {**fields, "amount": fields["amount"] + 1}
    rows[2] = (fields, chain_hash(fields, rows[1][1]))
    return rows


def deleted(rows):
    del rows[2]
    return rows


def inserted(rows):
    fields = {**rows[2][0], "id": "forged"}
    rows.insert(2, (fields, chain_hash(fields, rows[1][1])))
    return rows


def reordered(rows):
    rows[1], rows[2] = rows[2], rows[1]
    return rows


def resequenced_delete(rows):
    del rows[2]
    for position in range(2, len(rows)):
        fields, stored = rows[position]
        rows[position] = ({**fields, "sequence": position + 1}, stored)
    return rows


@pytest.mark.parametrize(
    ("tamper", "position", "reason"),
    [
        (edited, 2, "hash"),
        (rehashed_edit, 3, "hash"),
        (deleted, 2, "sequence"),
        (inserted, 3, "sequence"),
        (reordered, 1, "sequence"),
        (resequenced_delete, 2, "hash"),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_every_kind_of_tampering_names_the_first_bad_row(tamper, position, reason):
    found = first_break(tamper(chained_rows()))
    assert found is not None
    assert (found.position, reason in found.reason) == (position, True)


def test_checkpoint_message_binds_head_and_time():
    head = chained_rows()[-1][1]
    message = checkpoint_message(5, head, NOW)
    assert head.hex().encode() in message
    assert message != checkpoint_message(5, head, NOW + timedelta(seconds=1))
    assert message != checkpoint_message(4, head, NOW)
    with pytest.raises(ValueError, match="32-byte"):
        checkpoint_message(5, b"", NOW)
