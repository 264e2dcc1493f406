"""The audit chain: one append-only log of every change made by a person or a key.

Each entry stores the SHA-256 of the previous entry, and its own hash covers its sequence
number, time, actor, action, object and before/after values in a canonical encoding. Every
``AUDIT_CHECKPOINT_EVERY`` entries (and on a schedule) the head is signed with Ed25519.
``verify_chain`` recomputes everything and names the first entry that does not fit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.db import transaction

from core import clock, locks, signing
from core.models import AuditCheckpoint, AuditEntry

GENESIS_HASH = "0" * 64
ENCODING_VERSION = 1
CHECKPOINT_DOMAIN = b"gatehouse/audit-checkpoint/v1\x00"


def canonical_bytes(
    *,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    before: Any,
    after: Any,
) -> bytes:
    """Sorted keys, no whitespace, UTC microseconds: the same entry always encodes to the
    same bytes on SQLite and PostgreSQL (JSONB reorders keys; sorting makes that harmless)."""
    return orjson.dumps(
        {
            "v": ENCODING_VERSION,
            "seq": seq,
            "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor": actor,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "before": before,
            "after": after,
        },
        option=orjson.OPT_SORT_KEYS | orjson.OPT_UTC_Z,
    )


def entry_hash(prev_hash: str, payload: bytes) -> str:
    return hashlib.sha256(bytes.fromhex(prev_hash) + payload).hexdigest()


def _hash_of(entry: AuditEntry) -> str:
    payload = canonical_bytes(
        seq=entry.seq,
        at=entry.at,
        actor=entry.actor,
        action=entry.action,
        object_type=entry.object_type,
        object_id=entry.object_id,
        before=entry.before,
        after=entry.after,
    )
    return entry_hash(entry.prev_hash, payload)


def checkpoint_message(seq: int, head_hash: str) -> bytes:
    return CHECKPOINT_DOMAIN + str(seq).encode() + b"\x00" + head_hash.encode()


def _normalise(value: Any) -> Any:
    """Round-trip through JSON so the hash covers exactly what the database will return."""
    return orjson.loads(orjson.dumps(value, default=str)) if value is not None else None


def record(
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    before: Any = None,
    after: Any = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Append one entry. Runs inside the caller's transaction, so the change and its audit
    entry commit together or not at all."""
    with transaction.atomic():
        locks.serialise("audit-chain")
        head = AuditEntry.objects.order_by("-seq").only("seq", "entry_hash").first()
        seq = 1 if head is None else head.seq + 1
        prev = GENESIS_HASH if head is None else head.entry_hash
        moment = at or clock.now()
        entry = AuditEntry(
            seq=seq,
            at=moment,
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            before=_normalise(before),
            after=_normalise(after),
            prev_hash=prev,
        )
        entry.entry_hash = _hash_of(entry)
        entry.save(force_insert=True)
        if seq % settings.AUDIT_CHECKPOINT_EVERY == 0:
            _sign_head(seq, entry.entry_hash)
    return entry


def _sign_head(seq: int, head_hash: str) -> AuditCheckpoint:
    signature = signing.get_signer().sign(checkpoint_message(seq, head_hash))
    checkpoint, _ = AuditCheckpoint.objects.get_or_create(
        seq=seq,
        defaults={
            "entry_hash": head_hash,
            "signed_at": clock.now(),
            "key_id": signature.key_id,
            "signature": signature.signature_hex,
        },
    )
    return checkpoint


def checkpoint() -> AuditCheckpoint | None:
    """Sign the current head unless it is already signed (scheduled, and before reports)."""
    with transaction.atomic():
        locks.serialise("audit-chain")
        head = AuditEntry.objects.order_by("-seq").only("seq", "entry_hash").first()
        if head is None:
            return None
        return _sign_head(head.seq, head.entry_hash)


@dataclass(frozen=True, slots=True)
class ChainReport:
    ok: bool
    entries_checked: int
    checkpoints_checked: int
    head_seq: int
    problem: str | None = None
    first_bad_seq: int | None = None


def _walk(entries: Iterable[AuditEntry]) -> Iterator[tuple[AuditEntry, str | None]]:
    expected_seq, prev_hash = 1, GENESIS_HASH
    for entry in entries:
        if entry.seq != expected_seq:
            yield (
                entry,
                (
                    f"entry #{entry.seq} follows #{expected_seq - 1}: "
                    f"entry #{expected_seq} is missing or the chain was reordered"
                ),
            )
            return
        if entry.prev_hash != prev_hash:
            yield entry, f"entry #{entry.seq} does not link to entry #{entry.seq - 1}"
            return
        if _hash_of(entry) != entry.entry_hash:
            yield entry, f"entry #{entry.seq} was altered: its content does not match its hash"
            return
        yield entry, None
        expected_seq, prev_hash = entry.seq + 1, entry.entry_hash


def verify_chain(*, public_keys: list[Ed25519PublicKey] | None = None) -> ChainReport:
    """Recompute the chain and check every checkpoint signature against trusted keys (by
    default this service's own public key)."""
    trusted = {
        signing.key_id_for(key): key for key in (public_keys or [signing.get_signer().public_key])
    }
    checkpoints = list(AuditCheckpoint.objects.order_by("seq"))
    signed_seqs = {cp.seq for cp in checkpoints}
    hashes: dict[int, str] = {}
    count, head_seq = 0, 0
    for entry, problem in _walk(AuditEntry.objects.order_by("seq").iterator(chunk_size=2000)):
        if problem:
            return ChainReport(False, count, 0, head_seq, problem, entry.seq)
        if entry.seq in signed_seqs:
            hashes[entry.seq] = entry.entry_hash
        count, head_seq = count + 1, entry.seq

    checked = 0
    for cp in checkpoints:
        if cp.seq > head_seq:
            return ChainReport(
                False,
                count,
                checked,
                head_seq,
                f"checkpoint #{cp.seq} signs an entry that no longer exists "
                f"(chain ends at #{head_seq}): entries were deleted",
                head_seq + 1,
            )
        if hashes.get(cp.seq) != cp.entry_hash:
            return ChainReport(
                False,
                count,
                checked,
                head_seq,
                f"checkpoint #{cp.seq} signed a different head: the chain was rewritten",
                cp.seq,
            )
        key = trusted.get(cp.key_id)
        if key is None or not signing.verify(
            key, checkpoint_message(cp.seq, cp.entry_hash), cp.signature
        ):
            return ChainReport(
                False,
                count,
                checked,
                head_seq,
                f"checkpoint #{cp.seq} is not signed by a trusted key (key id {cp.key_id})",
                cp.seq,
            )
        checked += 1
    return ChainReport(True, count, checked, head_seq)
