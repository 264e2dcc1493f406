"""What every console page's layout needs: the officer's roles and the navigation."""

from __future__ import annotations

from django.urls import reverse

from console.roles import ADMINISTRATOR, AUDITOR, ROLE_LABELS, is_signed_in, roles_of

NAVIGATION = (
    ("dashboard", "Dashboard", None),
    ("rules", "Rules", None),
    ("explain", "Explain", None),
    ("decisions", "Decisions", None),
    ("screening", "Screening", None),
    ("accounts", "Accounts", None),
    ("pretrade", "Pre-trade", None),
    ("kill-switches", "Kill switches", None),
    ("alerts", "Alerts", None),
    ("custody", "Custody", None),
    ("reports", "Reports", None),
    ("proposals", "Proposals", None),
    ("schedules", "Schedules", None),
    ("audit", "Audit log", None),
    ("officers", "Officers", {ADMINISTRATOR, AUDITOR}),
)


def console(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not is_signed_in(user):
        return {"console_signed_in": False}
    roles = roles_of(user)
    current = getattr(getattr(request, "resolver_match", None), "url_name", "")
    return {
        "console_signed_in": True,
        "console_roles": roles,
        "console_role_labels": [ROLE_LABELS[r] for r in sorted(roles)],
        "console_nav": [
            {"url": reverse(f"console:{name}"), "label": label, "current": name == current}
            for name, label, only in NAVIGATION
            if only is None or roles & only
        ],
    }
