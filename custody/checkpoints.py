"""Signed checkpoints of the ledger's hash chain.

The head of the chain is signed with the service's Ed25519 key (``core.signing``) every
``LEDGER_CHECKPOINT_EVERY`` transfers, inside the transaction that crosses the boundary, and
on a schedule (``custody.tasks.checkpoint_ledger``), so the unsigned tail is bounded in both
count and time. Whoever rewrites transfers and recomputes every hash still cannot produce a
checkpoint the trusted public key accepts; only a tail after the last checkpoint can be
deleted unseen, which is why the schedule exists.
"""

from datetime import datetime

from django.conf import settings
from django.db import transaction

from core import clock, locks, signing
from custody.chain import checkpoint_message
from custody.models import LedgerCheckpoint, Transfer

CHAIN_LOCK = "ledger-chain"


def checkpoint_every() -> int:
    return max(1, int(getattr(settings, "LEDGER_CHECKPOINT_EVERY", 1000)))


def sign_head(*, seq: int, head_hash: str, signed_at: datetime) -> LedgerCheckpoint:
    """Sign ``head_hash`` as the chain head at ``seq`` (inside the caller's transaction)."""
    signature = signing.get_signer().sign(
        checkpoint_message(seq, bytes.fromhex(head_hash), signed_at)
    )
    checkpoint, _ = LedgerCheckpoint.objects.get_or_create(
        seq=seq,
        defaults={
            "head_hash": head_hash,
            "signed_at": signed_at,
            "key_id": signature.key_id,
            "signature": signature.signature_hex,
        },
    )
    return checkpoint


def crosses_boundary(first_seq: int, last_seq: int) -> bool:
    """Whether appending ``first_seq..last_seq`` passes a multiple of the checkpoint interval."""
    every = checkpoint_every()
    return last_seq >= first_seq and (first_seq - 1) // every != last_seq // every


def checkpoint_ledger(*, now: datetime | None = None) -> LedgerCheckpoint | None:
    """Sign the current head unless it is already signed (the scheduled checkpoint)."""
    with transaction.atomic(durable=True):
        locks.serialise(CHAIN_LOCK)
        head = Transfer.objects.order_by("-seq").values_list("seq", "hash").first()
        if head is None:
            return None
        existing = LedgerCheckpoint.objects.filter(seq=head[0]).first()
        if existing is not None:
            return existing
        return sign_head(seq=head[0], head_hash=head[1], signed_at=now or clock.now())


def verify_checkpoint(checkpoint: LedgerCheckpoint, public_keys: dict) -> bool:
    """Whether a trusted key (``{key_id: public_key}``) signed this checkpoint's message."""
    key = public_keys.get(checkpoint.key_id)
    if key is None:
        return False
    try:
        message = checkpoint_message(
            checkpoint.seq, bytes.fromhex(checkpoint.head_hash), checkpoint.signed_at
        )
    except ValueError:
        return False
    return signing.verify(key, message, checkpoint.signature)
