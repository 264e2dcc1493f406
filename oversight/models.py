"""Tables of oversight: alerts with their history and deliveries, and the signed
regulatory reports with their files. They were compliance's until the restructuring; the
tables keep their names, so an existing database moves forward with no data change."""

from django.db import models


def _choices(values):
    return [(value, value) for value in values]


ALERT_SEVERITIES = ("info", "warning", "critical")
ALERT_STATUSES = ("open", "acknowledged", "resolved")
ALERT_CHANNELS = ("email", "webhook")
DELIVERY_STATUSES = ("pending", "delivered", "failed")


class Incident(models.Model):
    """What an officer works: the alerts of one kind and cause that arrived together (ten
    markets going stale in the same minutes are one incident, not ten alerts). An alert
    joins the unresolved incident of its kind and cause last seen within
    ``ALERT_FOLD_MINUTES``, else opens a new one (``oversight.incidents``).

    Its alerts stay the record (their history, audit entries and notifications); the
    figures here — status, severity, counts, instruments, assignee, last action — are
    recomputed from them in the same transaction as every change (``incidents.refresh``), so
    the console can filter, count and page incidents without aggregating alerts."""

    kind = models.CharField(max_length=60)
    cause = models.CharField(
        max_length=200, help_text="What the alerts have in common; the alert's key by default."
    )
    title = models.CharField(max_length=300)
    severity = models.CharField(max_length=10, choices=_choices(ALERT_SEVERITIES))
    status = models.CharField(
        max_length=14, choices=_choices(ALERT_STATUSES), default="open", db_index=True
    )
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField(db_index=True)
    alert_count = models.PositiveIntegerField(default=1)
    occurrences = models.PositiveIntegerField(default=1)
    instruments = models.JSONField(default=list, blank=True)
    assigned_to = models.CharField(max_length=200, blank=True, default="")
    last_action = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        ordering = ["-last_seen", "-id"]
        indexes = [models.Index(fields=["kind", "cause", "status"], name="incident_kind_cause")]

    def __str__(self) -> str:
        return f"incident {self.pk} {self.severity} {self.kind}/{self.cause} ({self.status})"


class Alert(models.Model):
    """Something an officer must look at. One row per de-duplication key and window: a
    repeat inside the window is counted here (``occurrences``, ``last_seen``) instead of
    becoming a second alert, and the unique constraint keeps two workers that see the same
    event at the same moment from both creating it. A repeat after the window is folded
    into the key's unresolved alert when it was last seen within ``ALERT_FOLD_MINUTES``
    (an instrument that flips again and again is one alert)."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="alerts")
    instrument = models.CharField(
        max_length=40,
        blank=True,
        default="",
        db_index=True,
        help_text="The instrument the alert is about (its detail's ``instrument``), if any.",
    )
    notify = models.BooleanField(
        default=True,
        help_text="Told to the channels: the alert that opened its incident or raised the "
        "incident's severity. One that joins an incident at its severity is not.",
    )
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
        db_table = "compliance_alert"  # kept from when compliance owned it
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
        db_table = "compliance_alertevent"  # kept from when compliance owned it
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
        db_table = "compliance_alertdelivery"  # kept from when compliance owned it
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
        db_table = "compliance_report"  # kept from when compliance owned it
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
        db_table = "compliance_reportfile"  # kept from when compliance owned it
        ordering = ["report", "name"]
        constraints = [
            models.UniqueConstraint(fields=["report", "name"], name="report_file_name_once")
        ]

    def __str__(self) -> str:
        return f"{self.report} {self.name}"
