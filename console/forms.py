"""Forms of the console's own pages: sign-in, decisions on proposals, filters, schedules."""

from __future__ import annotations

from django import forms

from console.schedules import CRONTAB_FIELDS, INTERVAL_PERIODS


class SignInForm(forms.Form):
    username = forms.CharField(
        max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    password = forms.CharField(
        max_length=4096,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Six-digit code",
        max_length=12,
        widget=forms.TextInput(
            attrs={
                "autofocus": True,
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": r"[0-9 ]*",
            }
        ),
    )


class DecisionNoteForm(forms.Form):
    note = forms.CharField(
        label="Note", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class RequiredNoteForm(forms.Form):
    note = forms.CharField(label="Why", max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class ProposalFilterForm(forms.Form):
    status = forms.ChoiceField(
        required=False,
        choices=[("", "any")] + [(s, s) for s in ("proposed", "executed", "rejected", "failed")],
    )
    kind = forms.CharField(required=False, max_length=80)


class AuditFilterForm(forms.Form):
    actor = forms.CharField(required=False, max_length=200)
    action = forms.CharField(required=False, max_length=100, help_text="prefix, e.g. rule.")
    object_type = forms.CharField(required=False, max_length=100, label="Object type")
    object_id = forms.CharField(required=False, max_length=200, label="Object id")
    since = forms.DateTimeField(
        required=False,
        label="From (UTC)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    until = forms.DateTimeField(
        required=False,
        label="To (UTC)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )


class ScheduleChangeForm(forms.Form):
    """One schedule, as an interval or a crontab; the proposal's payload is built from it."""

    enabled = forms.BooleanField(required=False, initial=True)
    kind = forms.ChoiceField(
        label="Runs", choices=[("interval", "on an interval"), ("crontab", "on a crontab")]
    )
    every = forms.IntegerField(required=False, min_value=1, label="Every")
    period = forms.ChoiceField(required=False, choices=[(p, p) for p in INTERVAL_PERIODS])
    minute = forms.CharField(required=False, max_length=60, initial="*")
    hour = forms.CharField(required=False, max_length=60, initial="*")
    day_of_week = forms.CharField(required=False, max_length=60, initial="*", label="Day of week")
    day_of_month = forms.CharField(required=False, max_length=60, initial="*", label="Day of month")
    month_of_year = forms.CharField(required=False, max_length=60, initial="*", label="Month")
    reason = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self):
        data = super().clean()
        if data.get("kind") == "interval":
            if not data.get("every") or not data.get("period"):
                raise forms.ValidationError("An interval needs a number and a period.")
        elif data.get("kind") == "crontab":
            missing = [name for name in CRONTAB_FIELDS if not (data.get(name) or "").strip()]
            if missing:
                raise forms.ValidationError(f"A crontab needs {', '.join(missing)}.")
        return data

    def change(self) -> dict:
        data = self.cleaned_data
        change: dict = {"enabled": bool(data.get("enabled"))}
        if data["kind"] == "interval":
            change["interval"] = {"every": data["every"], "period": data["period"]}
        else:
            change["crontab"] = {name: data[name].strip() for name in CRONTAB_FIELDS}
        return change


class OfficerRolesForm(forms.Form):
    roles = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, role_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["roles"].choices = role_choices
