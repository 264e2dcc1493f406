"""KYC facts of accounts (the jurisdiction gate's account-side signals)."""

from django.db import models

ENTITY_TYPES = ("individual", "entity")
INVESTOR_CATEGORIES = ("retail", "professional")
ACCOUNT_STATUSES = ("active", "suspended", "closed")


class AccountProfile(models.Model):
    """What onboarding holds about an account: residence, nationalities, and for entities the
    countries of controlling persons (the 2026 PRC notice reaches overseas entities that
    mainland subjects control)."""

    account_id = models.CharField(max_length=100, unique=True)
    residence_country = models.CharField(max_length=2)
    residence_subdivision = models.CharField(max_length=10, blank=True, default="")
    nationalities = models.JSONField(default=list)
    entity_type = models.CharField(max_length=12, choices=[(c, c) for c in ENTITY_TYPES])
    controlling_countries = models.JSONField(default=list)
    investor_category = models.CharField(
        max_length=14, choices=[(c, c) for c in INVESTOR_CATEGORIES]
    )
    status = models.CharField(max_length=10, choices=[(c, c) for c in ACCOUNT_STATUSES])
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField()
    updated_by = models.CharField(max_length=200)

    class Meta:
        ordering = ["account_id"]

    def __str__(self) -> str:
        return self.account_id
