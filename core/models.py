"""Tables of the common infrastructure: API keys, the audit chain and policy versions."""

from django.db import models

SCOPES = ("pretrade", "marketdata", "reference", "custody", "reports", "operator")


class ApiKey(models.Model):
    """A machine client's key. Only the SHA-256 of the secret is stored: keys are 256-bit
    random strings, so a slow password hash adds nothing but latency to every request."""

    name = models.CharField(max_length=100, unique=True)
    prefix = models.CharField(max_length=12, help_text="First characters, to recognise a key.")
    secret_sha256 = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=200)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class AuditEntry(models.Model):
    """One change made by a person or a key. Append-only and hash-chained: ``entry_hash`` is
    SHA-256 over the previous entry's hash and this entry's canonical encoding, so editing,
    deleting or reordering any row breaks the chain (``manage.py verify_audit``)."""

    seq = models.PositiveBigIntegerField(unique=True)
    at = models.DateTimeField(db_index=True)
    actor = models.CharField(max_length=200, db_index=True)
    action = models.CharField(max_length=100, db_index=True)
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=200, db_index=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id} by {self.actor}"


class AuditCheckpoint(models.Model):
    """An Ed25519 signature over the chain head at ``seq``: whoever rewrites the chain (and
    recomputes every hash) still cannot produce this without the private key."""

    seq = models.PositiveBigIntegerField(unique=True)
    entry_hash = models.CharField(max_length=64)
    signed_at = models.DateTimeField()
    key_id = models.CharField(max_length=32)
    signature = models.CharField(max_length=128)

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"checkpoint #{self.seq} ({self.key_id})"


# --- Console: maker-checker proposals and sign-in lockout ---------------------------------


class PolicyVersion(models.Model):
    """The version of one global part of the policy (``rules``, ``instruments``,
    ``sessions``), raised in the same transaction as every change to it (``core.policy``).
    Kept in the database so versions follow commit order and survive a Redis that lost its
    data; Redis holds their announcements."""

    name = models.CharField(max_length=20, primary_key=True)
    value = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name}@{self.value}"
