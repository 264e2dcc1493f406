"""The console's own records: maker-checker proposals and sign-in throttles. Their tables
were created by core (migrations 0002, 0003) and keep their names; console 0001 takes them
over without touching the database."""

from django.db import models

PROPOSAL_STATUSES = ("proposed", "approved", "rejected", "executed", "failed")


class Proposal(models.Model):
    """A change one officer (the maker) asks for and a second officer (the checker) decides:
    DESIGN.md, "Console" — rules, halts, kill switches, limits, schedules and manual ledger
    adjustments follow maker-checker. ``kind`` names the registered action
    (``console.maker_checker``) that carries it out on approval; ``payload`` is its
    input. An emergency proposal was carried out at once by its maker and waits for a
    second officer's review (``checker`` empty until then)."""

    kind = models.CharField(max_length=80, db_index=True)
    target = models.CharField(max_length=200, db_index=True)
    payload = models.JSONField(default=dict)
    reason = models.TextField()
    maker = models.CharField(max_length=150)
    created_at = models.DateTimeField(db_index=True)
    status = models.CharField(
        max_length=12,
        choices=[(status, status) for status in PROPOSAL_STATUSES],
        default="proposed",
        db_index=True,
    )
    emergency = models.BooleanField(default=False)
    checker = models.CharField(max_length=150, blank=True, default="")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True, default="")
    result = models.JSONField(null=True, blank=True)

    class Meta:
        db_table = "core_proposal"  # created by core 0002; the table keeps its name
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(checker=models.F("maker")) | models.Q(checker=""),
                name="proposal_checker_is_not_maker",
            )
        ]

    def __str__(self) -> str:
        return f"proposal {self.pk} {self.kind} {self.target} ({self.status})"


class SignInThrottle(models.Model):
    """Failed console sign-ins of one username (wrong password or wrong code) and the lock
    they put on it. Kept in the database, so every web worker sees the same count."""

    username = models.CharField(max_length=150, unique=True)
    failures = models.PositiveIntegerField(default=0)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "core_signinthrottle"

    def __str__(self) -> str:
        return f"{self.username}: {self.failures} failures"


JOB_STATUSES = ("queued", "running", "done", "failed")


class BackgroundJob(models.Model):
    """Long work an officer started from the console (a report, a proof-of-reserves
    publication, a sanctions re-screen): who asked for what, and how far it has got, so the
    page can show its progress and result without a reload (``console.jobs``). The work
    itself is the owning part's service, which records what it does; this row records the
    request and its outcome, and ``heartbeat_at`` tells a live worker from a lost one."""

    kind = models.CharField(max_length=40, db_index=True)
    params = models.JSONField(default=dict)
    status = models.CharField(
        max_length=10, choices=[(s, s) for s in JOB_STATUSES], default="queued", db_index=True
    )
    started_by = models.CharField(max_length=150)
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    progress_done = models.PositiveBigIntegerField(default=0)
    progress_total = models.PositiveBigIntegerField(null=True, blank=True)
    stage = models.CharField(max_length=200, blank=True, default="")
    cursor = models.CharField(
        max_length=200, blank=True, default="", help_text="Where a resumed run carries on."
    )
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"job {self.pk} {self.kind} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")

    @property
    def percent(self) -> int | None:
        if not self.progress_total:
            return None
        return min(100, self.progress_done * 100 // self.progress_total)
