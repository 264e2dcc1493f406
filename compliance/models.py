"""Tables of the jurisdiction gate: KYC facts with history, the rulebook with revisions and
the versions it was published in, and the durable record of every access decision."""

from django.db import models

ENTITY_TYPES = ("individual", "entity")
INVESTOR_CATEGORIES = ("retail", "professional")
ACCOUNT_STATUSES = ("active", "suspended", "closed")
RULE_STATUSES = ("draft", "active", "superseded", "retired", "rejected")


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

ALERT_SEVERITIES = ("info", "warning", "critical")
ALERT_STATUSES = ("open", "acknowledged", "resolved")
ALERT_CHANNELS = ("email", "webhook")
DELIVERY_STATUSES = ("pending", "delivered", "failed")


class Alert(models.Model):
    """Something an officer must look at. One row per de-duplication key and window: a
    repeat inside the window is counted here (``occurrences``, ``last_seen``) instead of
    becoming a second alert, and the unique constraint keeps two workers that see the same
    event at the same moment from both creating it."""

    dedup_key = models.CharField(max_length=200)
    window_start = models.DateTimeField()
    kind = models.CharField(max_length=60, db_index=True)
    severity = models.CharField(max_length=10, choices=_choices(ALERT_SEVERITIES))
    title = models.CharField(max_length=300)
    detail = models.JSONField(default=dict)
    status = models.CharField(
        max_length=14, choices=_choices(ALERT_STATUSES), default="open", db_index=True
    )
    occurrences = models.PositiveIntegerField(default=1)
    first_seen = models.DateTimeField(db_index=True)
    last_seen = models.DateTimeField()
    assigned_to = models.CharField(max_length=200, blank=True, default="")
    acknowledged_by = models.CharField(max_length=200, blank=True, default="")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.CharField(max_length=200, blank=True, default="")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-first_seen", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dedup_key", "window_start"], name="alert_once_per_key_and_window"
            )
        ]

    def __str__(self) -> str:
        return f"alert {self.pk} {self.severity} {self.dedup_key} ({self.status})"


class AlertEvent(models.Model):
    """The history of one alert (raised, assigned, acknowledged, resolved), never updated:
    reports state an alert's status as of the end of their period from these rows."""

    alert = models.ForeignKey(Alert, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField()
    actor = models.CharField(max_length=200)
    action = models.CharField(max_length=20)
    status_after = models.CharField(max_length=14, choices=_choices(ALERT_STATUSES))
    note = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["alert", "at", "id"]

    def __str__(self) -> str:
        return f"alert {self.alert_id} {self.action} by {self.actor}"


class AlertDelivery(models.Model):
    """One alert told through one channel. Unique per (alert, channel), so a notification
    task that runs twice finds the row and does not send twice; ``claimed_until`` is the
    lease of the worker sending it right now."""

    alert = models.ForeignKey(Alert, on_delete=models.PROTECT, related_name="deliveries")
    channel = models.CharField(max_length=10, choices=_choices(ALERT_CHANNELS))
    target = models.TextField(help_text="Where it goes: the webhook URL or the recipients.")
    status = models.CharField(
        max_length=10, choices=_choices(DELIVERY_STATUSES), default="pending", db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["alert", "channel"]
        verbose_name_plural = "alert deliveries"
        constraints = [
            models.UniqueConstraint(fields=["alert", "channel"], name="alert_told_once_per_channel")
        ]

    def __str__(self) -> str:
        return f"alert {self.alert_id} via {self.channel} ({self.status})"


# --- Regulatory reports ------------------------------------------------------------------

REPORT_KINDS = ("daily",)


class Report(models.Model):
    """One generated, signed report for one period. Regenerating a period adds a version and
    keeps the old ones; (kind, period, version) is unique so two generators racing for the
    same period cannot both write version 1. ``directory`` is relative to the reports root
    (``VAR_DIR/reports``)."""

    kind = models.CharField(max_length=20, choices=_choices(REPORT_KINDS))
    period = models.DateField()
    version = models.PositiveIntegerField()
    generated_at = models.DateTimeField(db_index=True)
    generated_by = models.CharField(max_length=200)
    directory = models.CharField(max_length=300)
    manifest_sha256 = models.CharField(max_length=64)
    key_id = models.CharField(max_length=32)
    signature = models.CharField(max_length=128)

    class Meta:
        ordering = ["-generated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "period", "version"], name="report_version_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} report {self.period} v{self.version}"


class ReportFile(models.Model):
    """A file of a report as generated: its digest and size, so the API can answer without
    reading the disk and ``verify_report`` can tell a changed file from a changed record."""

    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="files")
    name = models.CharField(max_length=120)
    section = models.CharField(max_length=80, blank=True, default="")
    media_type = models.CharField(max_length=60)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()

    class Meta:
        ordering = ["report", "name"]
        constraints = [
            models.UniqueConstraint(fields=["report", "name"], name="report_file_name_once")
        ]

    def __str__(self) -> str:
        return f"{self.report} {self.name}"
