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
