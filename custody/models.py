"""Custody ledger tables (the rules they enforce are in custody/ledger.py and posting.py).

Amounts are integer minor units in 64-bit columns (``custody.money.AMOUNT_MAX``), so sums and
CHECK constraints are exact on SQLite and PostgreSQL alike. A balance flag is enforced by the
write itself: the CHECK constraints on :class:`LedgerAccount` refuse an overdraft whatever
code issues the UPDATE; the writer checks first only to answer with a precise reason.

:class:`Transfer` rows are never updated or deleted: each carries the SHA-256 chain link
``hash = H(prev_hash, canonical fields)`` (custody/chain.py), and ``verify_ledger`` replays
them through the specification. The account counters and :class:`OpenPending` are derived
state kept in the same transaction as the transfers, and checked against them.
"""

from django.db import models
from django.db.models import F, Q

from custody.ledger import AccountKind, TransferCode

_CLAIM_FLAGGED = [
    AccountKind.CLIENT_LIABILITY,
    AccountKind.CLEARING,
    AccountKind.BLOCKED_PROPERTY,
    AccountKind.INSURANCE_FUND,
]
_WALLETS = [AccountKind.CUSTODY_WALLET, AccountKind.HOUSE_WALLET]


class Asset(models.Model):
    """A bookable asset; rows mirror ``custody.money.ASSETS`` (seeded by a migration)."""

    code = models.CharField(max_length=12, primary_key=True)
    scale = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class LedgerAccount(models.Model):
    """One owner's account of one kind in one asset, with TigerBeetle's four counters."""

    id = models.CharField(primary_key=True, max_length=140, help_text="kind:owner:asset")
    kind = models.CharField(
        max_length=20, choices=[(kind.value, kind.value) for kind in AccountKind]
    )
    owner = models.CharField(max_length=100)
    asset = models.ForeignKey(Asset, models.PROTECT, db_column="asset", related_name="+")
    debits_must_not_exceed_credits = models.BooleanField()
    credits_must_not_exceed_debits = models.BooleanField()
    debits_pending = models.BigIntegerField(default=0)
    debits_posted = models.BigIntegerField(default=0)
    credits_pending = models.BigIntegerField(default=0)
    credits_posted = models.BigIntegerField(default=0)
    opened_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "asset", "owner"], name="custody_account_kind_asset_owner"
            ),
            models.CheckConstraint(
                condition=Q(debits_pending__gte=0)
                & Q(debits_posted__gte=0)
                & Q(credits_pending__gte=0)
                & Q(credits_posted__gte=0),
                name="custody_account_counters_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(debits_must_not_exceed_credits=False)
                | Q(credits_posted__gte=F("debits_posted") + F("debits_pending")),
                name="custody_account_debits_must_not_exceed_credits",
            ),
            models.CheckConstraint(
                condition=Q(credits_must_not_exceed_debits=False)
                | Q(debits_posted__gte=F("credits_posted") + F("credits_pending")),
                name="custody_account_credits_must_not_exceed_debits",
            ),
            models.CheckConstraint(
                condition=~Q(
                    debits_must_not_exceed_credits=True, credits_must_not_exceed_debits=True
                ),
                name="custody_account_flags_exclusive",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=_CLAIM_FLAGGED) | Q(debits_must_not_exceed_credits=True),
                name="custody_account_claims_never_negative",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=_WALLETS) | Q(credits_must_not_exceed_debits=True),
                name="custody_account_wallets_never_overdrawn",
            ),
        ]

    def __str__(self) -> str:
        return self.id


class Transfer(models.Model):
    """An accepted transfer, one link of the hash chain; ``seq`` is the acceptance order.

    For a post, void or expiry the accounts, asset, code and amount are the resolved ones
    (as ``custody.ledger_state.AcceptedTransfer`` stores them); ``inherits`` remembers which of them
    the request left empty, so a replay is compared with the request as it was sent.
    """

    INHERITS_DEBIT, INHERITS_CREDIT, INHERITS_ASSET, INHERITS_CODE, INHERITS_AMOUNT = (
        1,
        2,
        4,
        8,
        16,
    )

    seq = models.BigIntegerField(primary_key=True)
    transfer_id = models.CharField(max_length=120, unique=True)
    debit_account = models.ForeignKey(
        LedgerAccount, models.PROTECT, related_name="+", db_index=False
    )
    credit_account = models.ForeignKey(
        LedgerAccount, models.PROTECT, related_name="+", db_index=False
    )
    asset = models.ForeignKey(
        Asset, models.PROTECT, db_column="asset", related_name="+", db_index=False
    )
    code = models.CharField(
        max_length=24, choices=[(code.value, code.value) for code in TransferCode]
    )
    amount = models.BigIntegerField()
    flags = models.PositiveSmallIntegerField(default=0)
    # NULL, not '': the one-resolution-per-pending unique index must skip non-resolutions.
    pending_id = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001
    timeout = models.BigIntegerField(default=0)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    inherits = models.PositiveSmallIntegerField(default=0)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]
        constraints = [
            models.UniqueConstraint(
                fields=["pending_id"],
                condition=Q(pending_id__isnull=False),
                name="custody_transfer_one_resolution_per_pending",
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="custody_transfer_amount_positive"
            ),
            models.CheckConstraint(
                condition=~Q(debit_account=F("credit_account")),
                name="custody_transfer_accounts_differ",
            ),
        ]
        indexes = [
            models.Index(fields=["debit_account", "created_at"], name="custody_transfer_debit_at"),
            models.Index(
                fields=["credit_account", "created_at"], name="custody_transfer_credit_at"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.transfer_id}"


class OpenPending(models.Model):
    """A pending transfer not yet posted, voided or expired: the expiry sweep's index.

    Derived from the chain (a pending transfer without a resolution row) and kept in the same
    transaction; ``verify_ledger`` checks that it lists exactly the open ones.
    """

    pending_id = models.CharField(max_length=100, primary_key=True)
    debit_account = models.ForeignKey(LedgerAccount, models.PROTECT, related_name="+")
    credit_account = models.ForeignKey(
        LedgerAccount, models.PROTECT, related_name="+", db_index=False
    )
    asset = models.ForeignKey(Asset, models.PROTECT, db_column="asset", related_name="+")
    amount = models.BigIntegerField()
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["pending_id"]

    def __str__(self) -> str:
        return self.pending_id


class TransferRefusal(models.Model):
    """The first answer to a refused request, so a repeat gets the same refusal (API.md:
    same id and body → the first result) and a different body under that id is a conflict."""

    transfer_id = models.CharField(max_length=120, primary_key=True)
    request = models.JSONField()
    result = models.CharField(max_length=60)
    message = models.TextField()
    refused_at = models.DateTimeField()

    class Meta:
        ordering = ["refused_at", "transfer_id"]

    def __str__(self) -> str:
        return f"{self.transfer_id}: {self.result}"


class LedgerCheckpoint(models.Model):
    """An Ed25519 signature over the chain head (``custody.chain.checkpoint_message``)."""

    seq = models.BigIntegerField(unique=True)
    head_hash = models.CharField(max_length=64)
    signed_at = models.DateTimeField()
    key_id = models.CharField(max_length=32)
    signature = models.CharField(max_length=128)

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"ledger checkpoint #{self.seq} ({self.key_id})"


class CustodianStatement(models.Model):
    """A custodian's or chain indexer's balances at ``as_of``; one per custodian and instant."""

    custodian = models.CharField(max_length=100)
    as_of = models.DateTimeField()
    body_sha256 = models.CharField(max_length=64)
    received_at = models.DateTimeField()
    received_by = models.CharField(max_length=200)

    class Meta:
        ordering = ["-as_of", "custodian"]
        constraints = [
            models.UniqueConstraint(
                fields=["custodian", "as_of"], name="custody_statement_custodian_as_of"
            )
        ]

    def __str__(self) -> str:
        return f"{self.custodian} @ {self.as_of:%Y-%m-%dT%H:%M:%SZ}"


class StatementLine(models.Model):
    """One wallet and asset of a statement, next to the ledger's holding at ``as_of``."""

    statement = models.ForeignKey(CustodianStatement, models.CASCADE, related_name="lines")
    wallet = models.CharField(max_length=100)
    asset = models.ForeignKey(Asset, models.PROTECT, db_column="asset", related_name="+")
    ledger_account_id = models.CharField(max_length=140, null=True, blank=True)  # noqa: DJ001
    amount = models.BigIntegerField()
    ledger_amount = models.BigIntegerField()

    class Meta:
        ordering = ["statement", "wallet", "asset"]
        constraints = [
            models.UniqueConstraint(
                fields=["statement", "wallet", "asset"], name="custody_line_wallet_asset"
            )
        ]

    def __str__(self) -> str:
        return f"{self.wallet} {self.asset_id} {self.amount}"

    @property
    def difference(self) -> int:
        return self.amount - self.ledger_amount


class ReconciliationBreak(models.Model):
    """A line where the custodian and the ledger disagree; open until an officer resolves it.

    ``amount`` is statement minus ledger: positive when the custodian holds more than the
    ledger says, negative when assets the ledger counts are missing.
    """

    OPEN, RESOLVED = "open", "resolved"

    line = models.OneToOneField(StatementLine, models.CASCADE, related_name="reconciliation_break")
    custodian = models.CharField(max_length=100)
    wallet = models.CharField(max_length=100)
    asset = models.ForeignKey(Asset, models.PROTECT, db_column="asset", related_name="+")
    as_of = models.DateTimeField()
    statement_amount = models.BigIntegerField()
    ledger_amount = models.BigIntegerField()
    amount = models.BigIntegerField()
    status = models.CharField(
        max_length=10, choices=[(OPEN, "open"), (RESOLVED, "resolved")], default=OPEN
    )
    opened_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.CharField(max_length=200, blank=True)
    resolution = models.TextField(blank=True)

    class Meta:
        ordering = ["-opened_at", "wallet"]
        indexes = [models.Index(fields=["status", "asset"], name="custody_break_status_asset")]

    def __str__(self) -> str:
        return f"break {self.wallet} {self.asset_id} {self.amount} ({self.status})"


class PorPublication(models.Model):
    """A signed Merkle sum tree root over client balances of one asset.

    The leaves are stored in chunks of ``2**chunk_level`` (:class:`PorChunk`) with each
    chunk's subtree root, so a proof is rebuilt from one chunk and the chunk roots, and is
    checked against the signed root before it is served.
    """

    publication_id = models.CharField(max_length=80, unique=True)
    asset = models.ForeignKey(Asset, models.PROTECT, db_column="asset", related_name="+")
    root_hash = models.CharField(max_length=64)
    total = models.CharField(max_length=40, help_text="sum of client balances, minor units")
    leaf_count = models.PositiveIntegerField()
    chunk_level = models.PositiveSmallIntegerField()
    ledger_seq = models.BigIntegerField(help_text="chain head when the balances were read")
    published_at = models.DateTimeField()
    published_by = models.CharField(max_length=200)
    key_id = models.CharField(max_length=32)
    signature = models.CharField(max_length=128)

    class Meta:
        ordering = ["-published_at"]
        indexes = [models.Index(fields=["asset", "-published_at"], name="custody_por_latest")]

    def __str__(self) -> str:
        return self.publication_id


class PorChunk(models.Model):
    """Consecutive leaves (by account id) of a publication and their subtree's root."""

    publication = models.ForeignKey(PorPublication, models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    first_account_id = models.CharField(max_length=100)
    leaf_count = models.PositiveIntegerField()
    root_hash = models.CharField(max_length=64)
    root_sum = models.CharField(max_length=40)
    leaves = models.BinaryField(help_text="orjson [[account ids], [balances]]")

    class Meta:
        ordering = ["publication", "index"]
        constraints = [
            models.UniqueConstraint(fields=["publication", "index"], name="custody_por_chunk_index")
        ]
        indexes = [
            models.Index(fields=["publication", "first_account_id"], name="custody_por_chunk_first")
        ]

    def __str__(self) -> str:
        return f"{self.publication_id} chunk {self.index}"


class HeldWithdrawal(models.Model):
    """A withdrawal the gate sent to review (API.md, "Custody"): its amount is reserved by
    the pending ``withdrawal`` transfer of the same id until an officer releases it (the
    transfer is posted) or refuses it (voided), under maker-checker.

    The ledger holds the money; this row holds why it is held (the gate's reasons and its
    decision id) and who decided. It is written in the same transaction as the pending
    transfer, and its decision in the same transaction as the post or void.
    """

    HELD, RELEASED, REFUSED = "held", "released", "refused"

    id = models.CharField(primary_key=True, max_length=100, help_text="the withdrawal's id")
    account_id = models.CharField(max_length=100)
    asset = models.ForeignKey(Asset, models.PROTECT, db_column="asset", related_name="+")
    amount = models.BigIntegerField()
    custody_wallet = models.CharField(max_length=100)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    status = models.CharField(
        max_length=10,
        choices=[(HELD, "held"), (RELEASED, "released"), (REFUSED, "refused")],
        default=HELD,
    )
    reasons = models.JSONField(default=list)
    gate_decision_id = models.CharField(max_length=64, blank=True)
    policy_version = models.CharField(max_length=80, blank=True)
    requested_by = models.CharField(max_length=200)
    held_at = models.DateTimeField()
    proposed_by = models.CharField(max_length=200, blank=True)
    decided_by = models.CharField(max_length=200, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    decision_transfer_id = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["held_at", "id"]
        indexes = [models.Index(fields=["status", "held_at"], name="custody_held_status_age")]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="custody_held_withdrawal_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(status="held", decided_at__isnull=True, decided_by="")
                | (
                    Q(status__in=["released", "refused"], decided_at__isnull=False)
                    & ~Q(decided_by="")
                    & ~Q(decision_transfer_id="")
                ),
                name="custody_held_withdrawal_decided_when_closed",
            ),
        ]

    def __str__(self) -> str:
        return f"withdrawal {self.id} {self.amount} {self.asset_id} ({self.status})"
