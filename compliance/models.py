"""Tables of the jurisdiction gate: KYC facts with history, the rulebook with revisions and
the versions it was published in, and the durable record of every access decision."""

from django.db import models

ENTITY_TYPES = ("individual", "entity")
INVESTOR_CATEGORIES = ("retail", "professional")
ACCOUNT_STATUSES = ("active", "suspended", "closed")
RULE_STATUSES = ("draft", "active", "superseded", "retired", "rejected")
SANCTIONS_STATUSES = ("clear", "review", "match")
CASE_STATUSES = ("open", "cleared", "confirmed")


RULE_SIGNALS = ("ip_geolocation", "residence", "nationality", "controlling_country")


def every_signal() -> list[str]:
    """A rule's scope before scopes existed: it reached every signal."""
    return list(RULE_SIGNALS)


def _choices(values):
    return [(value, value) for value in values]


class AccountProfile(models.Model):
    """What onboarding holds about an account: residence, nationalities, and for entities the
    countries of controlling persons (the 2026 PRC notice, §(十四), reaches overseas entities
    that mainland subjects control). ``change_seq`` is the id of the history row that wrote
    the current facts, so the policy snapshot can load only what changed since it was built.
    """

    account_id = models.CharField(max_length=100, unique=True)
    residence_country = models.CharField(max_length=2)
    residence_subdivision = models.CharField(max_length=10, blank=True, default="")
    nationalities = models.JSONField(default=list)
    entity_type = models.CharField(max_length=12, choices=_choices(ENTITY_TYPES))
    controlling_countries = models.JSONField(default=list)
    controlling_subdivisions = models.JSONField(default=list, blank=True)
    investor_category = models.CharField(max_length=14, choices=_choices(INVESTOR_CATEGORIES))
    status = models.CharField(max_length=10, choices=_choices(ACCOUNT_STATUSES))
    version = models.PositiveIntegerField(default=1)
    change_seq = models.PositiveBigIntegerField(default=0, db_index=True)
    updated_at = models.DateTimeField()
    updated_by = models.CharField(max_length=200)
    full_name = models.CharField(max_length=300, blank=True, default="")
    date_of_birth = models.CharField(max_length=10, blank=True, default="")
    controlling_persons = models.JSONField(default=list, blank=True)
    wallet_addresses = models.JSONField(default=list, blank=True)
    sanctions_status = models.CharField(
        max_length=8,
        choices=_choices(SANCTIONS_STATUSES),
        default="clear",
        help_text="What screening decided: clear, review (a case is open) or match.",
    )
    sanctions_basis = models.JSONField(
        default=dict,
        blank=True,
        help_text="What the status rests on: the deciding case, its list version and entry.",
    )

    class Meta:
        ordering = ["account_id"]

    def __str__(self) -> str:
        return self.account_id


class AccountProfileVersion(models.Model):
    """Every version of every profile, never updated or deleted."""

    account_id = models.CharField(max_length=100, db_index=True)
    version = models.PositiveIntegerField()
    facts = models.JSONField()
    changed_at = models.DateTimeField()
    changed_by = models.CharField(max_length=200)

    class Meta:
        ordering = ["account_id", "version"]
        constraints = [
            models.UniqueConstraint(fields=["account_id", "version"], name="profile_version_once")
        ]

    def __str__(self) -> str:
        return f"{self.account_id} v{self.version}"


class RuleRevision(models.Model):
    """One revision of one rule. A change is a new revision drafted by one person and
    activated by another (four eyes); the revision it replaces becomes ``superseded``.
    Revisions are never deleted, so any past rulebook can be rebuilt exactly."""

    rule_id = models.SlugField(max_length=80)
    revision = models.PositiveIntegerField()
    jurisdictions = models.JSONField()
    product_classes = models.JSONField()
    actions = models.JSONField()
    effect = models.CharField(max_length=12)
    investor_category = models.CharField(max_length=14, blank=True, default="")
    citation_text = models.TextField()
    citation_ref = models.TextField()
    effective_from = models.DateTimeField(null=True, blank=True)
    effective_until = models.DateTimeField(null=True, blank=True)
    signals = models.JSONField(
        default=every_signal, help_text="The signals the rule reaches (its scope)."
    )
    signal_effects = models.JSONField(
        default=dict, blank=True, help_text="Signal -> effect, where it differs from effect."
    )
    carve_out = models.BooleanField(
        default=False, help_text="A subdivision rule that may be less strict than its country's."
    )
    awaits_confirmation = models.BooleanField(
        default=False, help_text="Seeded in force; an officer has yet to confirm it."
    )
    retires_rule = models.BooleanField(
        default=False, help_text="Activating this revision retires the rule."
    )
    status = models.CharField(max_length=12, choices=_choices(RULE_STATUSES), db_index=True)
    created_by = models.CharField(max_length=200)
    created_at = models.DateTimeField()
    approved_by = models.CharField(max_length=200, blank=True, default="")
    approved_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["rule_id", "revision"]
        constraints = [
            models.UniqueConstraint(fields=["rule_id", "revision"], name="rule_revision_once"),
            models.UniqueConstraint(
                fields=["rule_id"],
                condition=models.Q(status="active"),
                name="one_active_revision_per_rule",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} r{self.revision} ({self.status})"


class RulebookVersion(models.Model):
    """The set of revisions in force after each activation: decisions name the version they
    used, so a past decision is explained by exactly the rules it saw."""

    version = models.PositiveIntegerField(unique=True)
    revisions = models.ManyToManyField(RuleRevision, related_name="rulebook_versions")
    published_at = models.DateTimeField()
    published_by = models.CharField(max_length=200)

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"rulebook v{self.version}"


IMPACT_STATUSES = ("running", "done", "failed")


class RuleImpact(models.Model):
    """One measurement of what a rule draft would have changed (``compliance.impact``):
    the access and pre-trade decisions of ``[window_start, window_end)`` replayed through
    the rulebook each was decided with and through it with the draft applied.

    The result is stored with the draft; ``draft_digest`` and ``rulebook_version`` say what
    it was measured against, so a draft or rulebook changed since shows it as stale. The
    cursor (a source and a position in it) is saved with every chunk: a worker that dies
    resumes after the last chunk it committed, and a chunk is counted once however often
    it is run (the save is conditional on the cursor it started from)."""

    draft = models.ForeignKey(RuleRevision, on_delete=models.PROTECT, related_name="impacts")
    draft_digest = models.CharField(max_length=64)
    rulebook_version = models.PositiveIntegerField()
    window_days = models.PositiveSmallIntegerField()
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    status = models.CharField(max_length=8, choices=_choices(IMPACT_STATUSES), db_index=True)
    totals = models.JSONField(
        default=dict, blank=True, help_text="Decisions in the window per source (counted first)."
    )
    total = models.PositiveBigIntegerField(null=True, blank=True)
    processed = models.PositiveBigIntegerField(default=0)
    cursor_source = models.CharField(max_length=40, blank=True, default="")
    cursor_after = models.BigIntegerField(default=0)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True, default="")
    requested_by = models.CharField(max_length=200)
    requested_at = models.DateTimeField()
    progressed_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"impact {self.pk} of {self.draft_id} ({self.status})"


class AccessDecision(models.Model):
    """The durable record of one access decision (drained from the Redis decision stream)."""

    decision_id = models.CharField(max_length=40, unique=True)
    decided_at = models.DateTimeField(db_index=True)
    account_id = models.CharField(max_length=100, blank=True, default="", db_index=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    product_class = models.CharField(max_length=20)
    action = models.CharField(max_length=10)
    effect = models.CharField(max_length=12, db_index=True)
    deciding_rule = models.CharField(max_length=80, blank=True, default="", db_index=True)
    deciding_jurisdiction = models.CharField(max_length=10, blank=True, default="")
    deciding_signal = models.CharField(max_length=30, blank=True, default="")
    reasons = models.JSONField(default=list)
    signals = models.JSONField(default=dict)
    policy_version = models.CharField(max_length=40)
    requested_by = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-decided_at"]

    def __str__(self) -> str:
        return f"{self.decision_id} {self.effect}"


class SanctionsListVersion(models.Model):
    """One load of a sanctions list: the files exactly as loaded (zlib-compressed JSON of
    file name -> text, with their SHA-256), so every process builds the same index from the
    database and a past decision is explained by the version it used. Never updated but
    for the re-screen's progress."""

    source = models.CharField(max_length=40)
    version = models.PositiveIntegerField()
    published_on = models.DateField()
    addresses_as_of = models.DateField(null=True, blank=True)
    loaded_at = models.DateTimeField()
    loaded_by = models.CharField(max_length=200)
    digest = models.CharField(max_length=64)
    entry_count = models.PositiveIntegerField()
    alias_count = models.PositiveIntegerField()
    address_count = models.PositiveIntegerField()
    files = models.BinaryField()
    file_digests = models.JSONField(default=dict)
    changes_summary = models.JSONField(default=dict)
    rescreen_cursor = models.CharField(max_length=100, blank=True, default="")
    rescreen_done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["source", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["source", "version"], name="sanctions_version_once")
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return f"{self.source}@{self.published_on.isoformat()}.v{self.version}"


class SanctionsListChange(models.Model):
    """A difference between a list version and the one before it: an entry added, removed
    or changed, an address added or removed (a delisting stops matching from this version)."""

    list_version = models.ForeignKey(
        SanctionsListVersion, on_delete=models.PROTECT, related_name="changes"
    )
    kind = models.CharField(max_length=20)
    entry_id = models.PositiveIntegerField(null=True, blank=True)
    name = models.CharField(max_length=400, blank=True, default="")
    asset = models.CharField(max_length=12, blank=True, default="")
    address = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["list_version", "kind", "entry_id", "address"]

    def __str__(self) -> str:
        return f"{self.kind} {self.entry_id or self.address}"


class ScreeningCase(models.Model):
    """A possible list match of one account's subject (its holder, a controlling person or
    a wallet address) against one list entry, and the officer's decision on it. A cleared
    case keeps the same entry from re-flagging the account until the entry or the screened
    name changes (``subject_text`` and ``entry_digest`` are what was cleared)."""

    account_id = models.CharField(max_length=100, db_index=True)
    subject = models.CharField(max_length=40)
    subject_text = models.CharField(max_length=400)
    list_version = models.ForeignKey(
        SanctionsListVersion, on_delete=models.PROTECT, related_name="cases"
    )
    entry_id = models.PositiveIntegerField(null=True, blank=True)
    entry_name = models.CharField(max_length=400)
    entry_digest = models.CharField(max_length=64, blank=True, default="")
    matched_on = models.CharField(max_length=8)
    score = models.DecimalField(max_digits=4, decimal_places=3)
    result = models.CharField(max_length=16)
    status = models.CharField(max_length=10, choices=_choices(CASE_STATUSES), db_index=True)
    opened_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=200, blank=True, default="")
    proposed_by = models.CharField(max_length=200, blank=True, default="")
    note = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-opened_at", "-id"]

    def __str__(self) -> str:
        return f"case {self.pk} {self.account_id} {self.status}"


# --- Alerts ------------------------------------------------------------------------------
