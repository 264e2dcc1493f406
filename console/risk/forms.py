"""Proposal forms for the risk kinds. Their cleaned data is the proposal's payload (less
``reason`` and ``emergency``, which ``console.maker_checker`` takes itself)."""

from __future__ import annotations

from django import forms

from risk.markets.sessions import SessionName
from risk.models import KILL_SWITCH_SCOPES


class _Reasoned(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=500, help_text="Say why."
    )


class MarketForm(_Reasoned):
    """Halt or resume one market (the instrument's symbol)."""

    symbol = forms.CharField(max_length=40)
    field_order = ["symbol", "reason"]


class KillSwitchForm(_Reasoned):
    scope = forms.ChoiceField(choices=[(s, s) for s in KILL_SWITCH_SCOPES])
    target = forms.CharField(
        max_length=100,
        required=False,
        help_text="An account id or an instrument symbol; empty for the global switch.",
    )
    field_order = ["scope", "target", "reason"]


class EmergencyKillSwitchForm(KillSwitchForm):
    emergency = forms.BooleanField(
        required=False,
        help_text="Engage at once; a second officer reviews it afterwards.",
    )


class SessionParametersForm(_Reasoned):
    session = forms.ChoiceField(choices=[(s.value, s.value) for s in SessionName])
    band_multiplier = forms.DecimalField(min_value=0, max_digits=20, decimal_places=10)
    leverage_cap_fraction = forms.DecimalField(min_value=0, max_digits=20, decimal_places=10)
    position_limit_fraction = forms.DecimalField(min_value=0, max_digits=20, decimal_places=10)
    reference_time_constant_seconds = forms.DecimalField(
        min_value=0, max_digits=20, decimal_places=6, required=False
    )
    oracle_max_age_seconds = forms.DecimalField(
        min_value=0, max_digits=20, decimal_places=6, required=False
    )
    field_order = ["session"]


def _when(label: str) -> forms.DateTimeField:
    return forms.DateTimeField(
        required=False,
        label=label,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
    )


class PretradeFilterForm(forms.Form):
    account_id = forms.CharField(required=False, max_length=100, label="Account id")
    instrument = forms.CharField(required=False, max_length=40)
    decision = forms.ChoiceField(
        required=False, choices=[("", "any"), ("accept", "accept"), ("reject", "reject")]
    )
    reason = forms.CharField(required=False, max_length=60, label="Reason code contains")
    since = _when("From (UTC)")
    until = _when("To (UTC)")


class KillSwitchHistoryForm(forms.Form):
    scope = forms.ChoiceField(
        required=False, choices=[("", "any"), *((s, s) for s in KILL_SWITCH_SCOPES)]
    )
    target = forms.CharField(required=False, max_length=100, help_text="Account or symbol.")


class InstrumentLimitsForm(_Reasoned):
    """New per-order, position and open-interest limits of one instrument (blank: keep)."""

    symbol = forms.CharField(max_length=40)
    max_leverage = forms.DecimalField(min_value=0, max_digits=28, decimal_places=10, required=False)
    max_order_quantity = forms.DecimalField(
        min_value=0, max_digits=28, decimal_places=10, required=False
    )
    max_order_notional = forms.DecimalField(
        min_value=0, max_digits=28, decimal_places=10, required=False
    )
    max_position_notional = forms.DecimalField(
        min_value=0, max_digits=28, decimal_places=10, required=False
    )
    open_interest_cap = forms.DecimalField(
        min_value=0, max_digits=28, decimal_places=10, required=False
    )
    field_order = ["symbol"]
