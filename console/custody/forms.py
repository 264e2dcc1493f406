"""The manual ledger adjustment's proposal form."""

from __future__ import annotations

from django import forms


class LedgerAdjustmentForm(forms.Form):
    """An ``adjustment`` transfer in the asset's minor units; the ledger's wall
    (``custody.ledger.WALL``) decides which pairs of accounts it may join."""

    id = forms.SlugField(
        max_length=100, label="Transfer id", help_text="Unique; replays are idempotent."
    )
    debit_account_id = forms.CharField(max_length=200)
    credit_account_id = forms.CharField(max_length=200)
    asset = forms.CharField(max_length=20)
    amount = forms.IntegerField(min_value=1, help_text="In the asset's minor units.")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class HeldWithdrawalForm(forms.Form):
    """Release or refuse a withdrawal held for review (custody.withdrawals)."""

    id = forms.CharField(max_length=100, label="Withdrawal id")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class ReconciliationBreakForm(forms.Form):
    """Close a reconciliation break by the adjustment that makes the ledger agree."""

    id = forms.IntegerField(min_value=1, max_value=2**62, label="Break id")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class BreakResolutionForm(forms.Form):
    """Close a reconciliation break with an explanation alone (nothing is booked)."""

    resolution = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="What explains the difference, for the auditor.",
    )
