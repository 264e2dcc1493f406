"""Proof-of-reserves publication and inclusion proofs (the rules are in custody/reserves.py).

**Publishing** reads every client liability balance of one asset in one streaming query,
ordered by account id, inside a single transaction (repeatable read on PostgreSQL, so the
balances and the recorded chain head are one snapshot), builds the Merkle sum tree, signs
the root message with the service's Ed25519 key and stores the root, the total and the
signature, audited.

**Proofs without storing a million paths.** A path is ~20 siblings of 48 bytes; storing one
per account per publication would be a gigabyte a day at a million accounts. Instead the
leaves are stored in chunks of ``2**chunk_level`` consecutive accounts (``POR_CHUNK_LEAVES``,
default 1024), each with its subtree's root, which is exactly the tree's node at level
``chunk_level`` (the padding rule makes a chunk a complete subtree, the last one padded up
to that level). A proof is rebuilt from one chunk (about a thousand hashes) and the chunk
roots (about a thousand at a million accounts), then checked against the signed root before
it is served: a stored chunk altered after publication is refused, never proven.

Salts are derived from ``POR_SALT_SECRET`` (HMAC, custody/reserves.py) and never stored.
"""

import bisect
import hmac
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from django.conf import settings
from django.db import connection, transaction

from core import audit, clock, signing
from core.errors import GatehouseError, NotFound
from custody.ledger import AccountKind
from custody.models import LedgerAccount, PorChunk, PorPublication, Transfer
from custody.money import ASSETS, from_minor
from custody.reserves import (
    EMPTY_HASH,
    Proof,
    ProofStep,
    build_tree_for_balances,
    derive_salt,
    leaf_hash,
    node_hash,
    proof_document,
    root_message,
    verify_proof,
)
from custody.selectors import latest_publication

_STREAM_CHUNK = 20_000


class ProofDataCorrupt(GatehouseError):
    """Stored publication data no longer leads to the signed root: refuse to serve it."""

    status = 500
    code = "PROOF_DATA_CORRUPT"


def salt_secret() -> bytes:
    """``POR_SALT_SECRET``, or one derived from ``SECRET_KEY`` when it is not set."""
    configured = getattr(settings, "POR_SALT_SECRET", "")
    if configured:
        return configured.encode() if isinstance(configured, str) else bytes(configured)
    return hmac.digest(settings.SECRET_KEY.encode(), b"gatehouse/por/salt-secret", "sha256")


def chunk_level() -> int:
    leaves = int(getattr(settings, "POR_CHUNK_LEAVES", 1024))
    if leaves < 1 or leaves & (leaves - 1):
        raise ValueError("POR_CHUNK_LEAVES must be a power of two")
    return leaves.bit_length() - 1


def published_at_text(moment: datetime) -> str:
    """The signed form of ``published_at`` (RFC 3339, UTC, microseconds)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def publish(*, asset: str, actor: str, now: datetime | None = None) -> PorPublication:
    """Build, sign and store the proof-of-reserves tree of ``asset``'s client balances."""
    if asset not in ASSETS:
        raise NotFound(f"unknown asset {asset}")
    moment = now or clock.now()
    publication_id = f"por-{asset}-{moment:%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        ledger_seq = Transfer.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
        tree = build_tree_for_balances(
            salt_secret(), asset, publication_id, _client_balances(asset)
        )
    signature = signing.get_signer().sign(
        root_message(asset, tree.total, tree.root_hash, published_at_text(moment), publication_id)
    )
    level = min(chunk_level(), len(tree.hashes) - 1)
    with transaction.atomic():
        published = PorPublication.objects.create(
            publication_id=publication_id,
            asset_id=asset,
            root_hash=tree.root_hash.hex(),
            total=str(tree.total),
            leaf_count=tree.size,
            chunk_level=level,
            ledger_seq=ledger_seq,
            published_at=moment,
            published_by=actor,
            key_id=signature.key_id,
            signature=signature.signature_hex,
        )
        PorChunk.objects.bulk_create(_chunks(published, tree, level), batch_size=500)
        audit.record(
            actor=actor,
            action="custody.por_publish",
            object_type="por_publication",
            object_id=publication_id,
            after={
                "asset": asset,
                "root_hash": published.root_hash,
                "total": published.total,
                "leaf_count": published.leaf_count,
                "ledger_seq": ledger_seq,
                "key_id": signature.key_id,
            },
            at=moment,
        )
    return published


def _chunks(published: PorPublication, tree, level: int) -> Iterator[PorChunk]:
    """The stored chunks of ``tree``: the subtrees at ``level``, each with its leaves."""
    size = 1 << level
    for index, start in enumerate(range(0, tree.size, size)):
        yield PorChunk(
            publication=published,
            index=index,
            first_account_id=tree.account_ids[start],
            leaf_count=min(size, tree.size - start),
            root_hash=tree.hashes[level][index].hex(),
            root_sum=str(tree.sums[level][index]),
            leaves=orjson.dumps(
                [
                    tree.account_ids[start : start + size],
                    tree.sums[0][start : min(start + size, tree.size)],
                ]
            ),
        )


def client_assets() -> list[str]:
    """The assets that have client accounts: what a publication of every asset covers."""
    return sorted(
        set(
            LedgerAccount.objects.filter(kind=AccountKind.CLIENT_LIABILITY)
            .values_list("asset_id", flat=True)
            .distinct()
        )
    )


def publish_all(*, assets: list[str] | None = None, actor: str) -> list[PorPublication]:
    """Publish every asset that has client accounts (or the ones named)."""
    if assets is None:
        assets = client_assets()
    return [publish(asset=asset, actor=actor) for asset in assets]


def _client_balances(asset: str) -> Iterator[tuple[str, int]]:
    """``(account id, posted balance)`` of every client of ``asset`` in account-id order,
    streamed (a server-side cursor on PostgreSQL) so a million rows never sit in a list."""
    table = connection.ops.quote_name(LedgerAccount._meta.db_table)
    sql = (
        f"SELECT owner, credits_posted - debits_posted FROM {table} "  # noqa: S608 (names from the model)
        "WHERE kind = %s AND asset = %s ORDER BY owner"
    )
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, [AccountKind.CLIENT_LIABILITY.value, asset])
        while rows := cursor.fetchmany(_STREAM_CHUNK):
            yield from rows


@dataclass(frozen=True, slots=True)
class AccountProof:
    """An account's proof in the latest publication, and the document to verify offline."""

    publication: PorPublication
    proof: Proof
    document: dict[str, object]

    @property
    def balance(self) -> str:
        return from_minor(self.publication.asset_id, self.proof.balance)

    @property
    def total(self) -> str:
        return from_minor(self.publication.asset_id, int(self.publication.total))


def account_proof(*, account_id: str, asset: str) -> AccountProof:
    """The inclusion proof of ``account_id`` in ``asset``'s latest publication."""
    published = latest_publication(asset=asset)
    if published is None:
        raise NotFound(f"no proof of reserves has been published for {asset}")
    chunk = (
        PorChunk.objects.filter(publication=published, first_account_id__lte=account_id)
        .order_by("-first_account_id")
        .first()
    )
    account_ids, balances = orjson.loads(bytes(chunk.leaves)) if chunk else ([], [])
    position = bisect.bisect_left(account_ids, account_id)
    if position == len(account_ids) or account_ids[position] != account_id:
        raise NotFound(
            f"account {account_id} has no {asset} balance in publication {published.publication_id}"
        )
    secret, level = salt_secret(), published.chunk_level
    salts = [derive_salt(secret, a, asset, published.publication_id) for a in account_ids]
    hashes = [leaf_hash(s, a, b) for s, a, b in zip(salts, account_ids, balances, strict=True)]
    path = _path(hashes, list(balances), position, rounds=level)
    roots = list(
        PorChunk.objects.filter(publication=published)
        .order_by("index")
        .values_list("root_hash", "root_sum")
    )
    path += _path(
        [bytes.fromhex(h) for h, _ in roots], [int(s) for _, s in roots], chunk.index, rounds=None
    )
    proof = Proof(
        account_id=account_id, balance=balances[position], salt=salts[position], path=tuple(path)
    )
    root_hash, total = bytes.fromhex(published.root_hash), int(published.total)
    message = root_message(
        asset, total, root_hash, published_at_text(published.published_at), published.publication_id
    )
    signer = signing.get_signer()
    signed = published.key_id == signer.key_id and signing.verify(
        signer.public_key, message, published.signature
    )
    if not verify_proof(proof, root_hash, total) or not signed:
        raise ProofDataCorrupt(
            f"publication {published.publication_id}: the stored leaves no longer lead to the "
            "signed root; the proof is withheld"
        )
    document = proof_document(
        proof,
        asset=asset,
        publication_id=published.publication_id,
        published_at_iso=published_at_text(published.published_at),
        root_hash=root_hash,
        total=total,
        signature=bytes.fromhex(published.signature),
    )
    return AccountProof(publication=published, proof=proof, document=document)


def _path(hashes: list[bytes], sums: list[int], position: int, *, rounds: int | None) -> list:
    """Siblings from ``position`` up: ``rounds`` pairings (padding odd levels with the empty
    node, as custody.reserves does), or until one node is left when ``rounds`` is None."""
    steps = []
    done = 0
    while (rounds is None and len(hashes) > 1) or (rounds is not None and done < rounds):
        if len(hashes) % 2:
            hashes.append(EMPTY_HASH)
            sums.append(0)
        sibling = position ^ 1
        steps.append(
            ProofStep(
                side="left" if sibling < position else "right",
                hash=hashes[sibling],
                sum=sums[sibling],
            )
        )
        hashes = [
            node_hash(hashes[i], sums[i], hashes[i + 1], sums[i + 1])
            for i in range(0, len(hashes), 2)
        ]
        sums = [sums[i] + sums[i + 1] for i in range(0, len(sums), 2)]
        position //= 2
        done += 1
    return steps
