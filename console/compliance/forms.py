"""Forms of the compliance pages: a proposed rule change, the explain form, decision
filters. They only parse; the rulebook's own checks run in ``compliance.services``."""

from __future__ import annotations

from django import forms

from compliance.models import INVESTOR_CATEGORIES
from compliance.rulebook import ACTIONS, EFFECTS, PRODUCT_CLASSES, RESTRICTIVENESS
from compliance.signals import SCOPES
from oversight.models import ALERT_SEVERITIES, ALERT_STATUSES

PRODUCT_CHOICES = [(p, p) for p in sorted(PRODUCT_CLASSES)]
ACTION_CHOICES = [(a, a) for a in ("open", "reduce", "deposit", "withdraw", "view") if a in ACTIONS]
EFFECT_CHOICES = [(e, e) for e in sorted(EFFECTS, key=RESTRICTIVENESS.get)]
SCOPE_CHOICES = [(signal, signal.replace("_", " ")) for signal in SCOPES]


def _effect_on_field(signal: str) -> str:
    return f"effect_on_{signal}"


def _when(label: str) -> forms.DateTimeField:
    return forms.DateTimeField(
        required=False,
        label=label,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
    )


class RuleChangeForm(forms.Form):
    rule_id = forms.SlugField(max_length=80, label="Rule id")
    jurisdictions = forms.CharField(
        max_length=2000, help_text="ISO 3166 codes separated by commas or spaces: CN, UA-43"
    )
    product_classes = forms.MultipleChoiceField(
        choices=PRODUCT_CHOICES, widget=forms.CheckboxSelectMultiple, label="Product classes"
    )
    actions = forms.MultipleChoiceField(choices=ACTION_CHOICES, widget=forms.CheckboxSelectMultiple)
    effect = forms.ChoiceField(choices=EFFECT_CHOICES)
    signals = forms.MultipleChoiceField(
        choices=SCOPE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        label="Signals it reaches",
        help_text="The facts of a request the rule looks at; a signal left out is not judged.",
    )
    investor_category = forms.ChoiceField(
        required=False,
        label="Only for investors who are",
        choices=[("", "any investor")] + [(c, c) for c in INVESTOR_CATEGORIES],
    )
    carve_out = forms.BooleanField(
        required=False,
        label="Carve-out",
        help_text="A subdivision rule that may be less strict than its country's rule; "
        "without it the stricter of the two applies.",
    )
    citation_ref = forms.CharField(max_length=2000, label="Citation reference")
    citation_text = forms.CharField(
        label="Citation text", widget=forms.Textarea(attrs={"rows": 3}), max_length=20000
    )
    effective_from = _when("In force from (UTC)")
    effective_until = _when("In force until (UTC)")
    retires = forms.BooleanField(required=False, label="Retire this rule instead")
    reason = forms.CharField(
        label="Why (for the approver and the audit log)",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        fields = list(self.fields.items())
        at = [name for name, _ in fields].index("signals") + 1
        per_signal = [
            (
                _effect_on_field(signal),
                forms.ChoiceField(
                    required=False,
                    choices=[("", "the rule's effect"), *EFFECT_CHOICES],
                    label=f"Effect on {label}",
                ),
            )
            for signal, label in SCOPE_CHOICES
        ]
        self.fields = dict(fields[:at] + per_signal + fields[at:])

    def clean(self) -> dict:
        data = super().clean()
        scope = set(data.get("signals") or ())
        for signal in SCOPES:
            if data.get(_effect_on_field(signal)) and signal not in scope:
                self.add_error(_effect_on_field(signal), "The rule does not reach this signal.")
        return data

    def clean_jurisdictions(self) -> list[str]:
        codes = self.cleaned_data["jurisdictions"].replace(",", " ").split()
        return sorted({code.strip().upper() for code in codes if code.strip()})

    def payload(self) -> dict:
        data = self.cleaned_data
        fields = {
            name: data[name] for name in ("jurisdictions", "product_classes", "actions", "effect")
        }
        fields["signals"] = [signal for signal in SCOPES if signal in data["signals"]]
        fields["signal_effects"] = {
            signal: data[_effect_on_field(signal)]
            for signal in fields["signals"]
            if data.get(_effect_on_field(signal))
        }
        fields["carve_out"] = bool(data.get("carve_out"))
        fields |= {
            "investor_category": data.get("investor_category") or "",
            "citation_ref": data["citation_ref"],
            "citation_text": data["citation_text"],
            "effective_from": data["effective_from"].isoformat()
            if data["effective_from"]
            else None,
            "effective_until": (
                data["effective_until"].isoformat() if data["effective_until"] else None
            ),
        }
        return {
            "rule_id": data["rule_id"],
            "retires": bool(data.get("retires")),
            "note": data["reason"],
            "fields": fields,
        }

    @classmethod
    def initial_from(cls, revision) -> dict:
        return {
            "rule_id": revision.rule_id,
            "jurisdictions": ", ".join(revision.jurisdictions),
            "product_classes": list(revision.product_classes),
            "actions": list(revision.actions),
            "effect": revision.effect,
            "signals": list(revision.signals),
            **{
                _effect_on_field(signal): effect
                for signal, effect in (revision.signal_effects or {}).items()
            },
            "carve_out": revision.carve_out,
            "investor_category": revision.investor_category,
            "citation_ref": revision.citation_ref,
            "citation_text": revision.citation_text,
            "effective_from": revision.effective_from,
            "effective_until": revision.effective_until,
        }


class ExplainForm(forms.Form):
    client_ip = forms.GenericIPAddressField(required=False, label="Client IP")
    account_id = forms.CharField(required=False, max_length=100, label="Account id")
    product_class = forms.ChoiceField(choices=PRODUCT_CHOICES, label="Product class")
    action = forms.ChoiceField(choices=ACTION_CHOICES)
    at = _when("At (UTC; empty: now)")


class DecisionFilterForm(forms.Form):
    account_id = forms.CharField(required=False, max_length=100, label="Account id")
    client_ip = forms.GenericIPAddressField(required=False, label="Client IP")
    rule = forms.CharField(required=False, max_length=80, label="Deciding rule")
    effect = forms.ChoiceField(required=False, choices=[("", "any"), *EFFECT_CHOICES])
    since = _when("From (UTC)")
    until = _when("To (UTC)")


class AccountSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, label="Account id contains")


class AlertFilterForm(forms.Form):
    severity = forms.ChoiceField(
        required=False, choices=[("", "any"), *((s, s) for s in ALERT_SEVERITIES)]
    )
    status = forms.ChoiceField(
        required=False, choices=[("", "any"), *((s, s) for s in ALERT_STATUSES)]
    )
    kind = forms.ChoiceField(required=False, choices=[("", "any")])
    instrument = forms.CharField(
        required=False, max_length=40, help_text="An alert of the incident is about it."
    )

    def __init__(self, *args, kinds: list[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", "any"), *((k, k) for k in kinds)]

    def clean_instrument(self) -> str:
        return self.cleaned_data["instrument"].strip().upper()


class BulkAcknowledgeForm(forms.Form):
    """Incidents chosen on the alerts page (checkboxes), acknowledged together."""

    incident = forms.TypedMultipleChoiceField(coerce=int, choices=())
    note = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        chosen = self.data.getlist("incident") if hasattr(self.data, "getlist") else []
        # Any whole number is a choice; whether the incident exists is the service's to say.
        self.fields["incident"].choices = [
            (value, value)
            for value in chosen
            if value.isascii() and value.isdigit() and len(value) <= 18
        ]


class AlertAssignForm(forms.Form):
    assignee = forms.CharField(
        required=False,
        max_length=150,
        label="Assign to (officer username)",
        help_text="Empty takes the alert back.",
    )


class AlertResolveForm(forms.Form):
    resolution = forms.CharField(
        label="Resolution", max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
