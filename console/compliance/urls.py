"""The compliance pages, inside the console's URL namespace (``console:rules``...)."""

from django.urls import path

from console.compliance import alerts, impact, reports, screening, views

urlpatterns = [
    path("rules/", views.rules, name="rules"),
    path("rules/propose/", views.propose_rule, name="rule-propose"),
    path("rules/explain/", views.explain_view, name="explain"),
    path("rules/<slug:rule_id>/", views.rule_detail, name="rule"),
    path("rules/<slug:rule_id>/r<int:revision>/", impact.rule_revision, name="rule-revision"),
    path("rules/<slug:rule_id>/r<int:revision>/impact", impact.impact_fragment, name="rule-impact"),
    path(
        "rules/<slug:rule_id>/r<int:revision>/impact/measure",
        impact.measure_impact,
        name="rule-impact-measure",
    ),
    path("rules/<slug:rule_id>/r<int:revision>/decide", views.decide_draft, name="rule-decide"),
    path("rules/<slug:rule_id>/r<int:revision>/confirm", views.confirm_seeded, name="rule-confirm"),
    path("decisions/", views.decisions, name="decisions"),
    path("decisions/<str:decision_id>/", views.decision_detail, name="decision"),
    path("alerts/", alerts.alerts, name="alerts"),
    path("alerts/acknowledge", alerts.acknowledge_incidents, name="incidents-acknowledge"),
    path("alerts/incidents/<int:incident_id>/", alerts.incident_detail, name="incident"),
    path(
        "alerts/incidents/<int:incident_id>/assign", alerts.assign_incident, name="incident-assign"
    ),
    path(
        "alerts/incidents/<int:incident_id>/resolve",
        alerts.resolve_incident,
        name="incident-resolve",
    ),
    path("alerts/<int:alert_id>/acknowledge", alerts.acknowledge, name="alert-acknowledge"),
    path("alerts/<int:alert_id>/assign", alerts.assign, name="alert-assign"),
    path("alerts/<int:alert_id>/resolve", alerts.resolve, name="alert-resolve"),
    path("screening/", screening.screening, name="screening"),
    path("reports/", reports.reports, name="reports"),
    path("reports/<int:report_id>/files/<str:name>", reports.report_file, name="report-file"),
]
