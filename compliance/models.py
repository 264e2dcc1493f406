"""Tables of the jurisdiction gate: KYC facts with history, the rulebook with revisions and
the versions it was published in, and the durable record of every access decision."""

from django.db import models

ENTITY_TYPES = ("individual", "entity")
INVESTOR_CATEGORIES = ("retail", "professional")
ACCOUNT_STATUSES = ("active", "suspended", "closed")
RULE_STATUSES = ("draft", "active", "superseded", "retired", "rejected")


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


# --- Alerts ------------------------------------------------------------------------------
