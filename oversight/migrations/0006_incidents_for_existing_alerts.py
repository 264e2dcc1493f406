"""Every existing alert becomes its own incident (cause: its key), with the figures the
service keeps (``oversight.incidents.refresh``) computed from the alert alone, and its
``instrument`` taken from its detail. Existing alerts keep their status, history and
deliveries; only alerts raised from now on are grouped and folded."""

from django.db import migrations

CHUNK = 1000


def _instrument(detail) -> str:
    value = detail.get("instrument") if isinstance(detail, dict) else None
    return value if isinstance(value, str) and len(value) <= 40 else ""


def _last_action(alert) -> str:
    if alert.status == "resolved":
        return f"resolved by {alert.resolved_by}: {alert.resolution}"[:500]
    if alert.status == "acknowledged":
        return f"acknowledged by {alert.acknowledged_by}"[:500]
    return ""


def forwards(apps, schema_editor):
    Alert = apps.get_model("oversight", "Alert")
    Incident = apps.get_model("oversight", "Incident")
    pending = Alert.objects.filter(incident__isnull=True).order_by("pk")
    while True:
        alerts = list(pending[:CHUNK])
        if not alerts:
            return
        for alert in alerts:
            instrument = _instrument(alert.detail)
            alert.instrument = instrument
            alert.incident = Incident.objects.create(
                kind=alert.kind,
                cause=alert.dedup_key,
                title=alert.title,
                severity=alert.severity,
                status=alert.status,
                first_seen=alert.first_seen,
                last_seen=alert.last_seen,
                alert_count=1,
                occurrences=alert.occurrences,
                instruments=[instrument] if instrument else [],
                assigned_to="" if alert.status == "resolved" else alert.assigned_to,
                last_action=_last_action(alert),
            )
        Alert.objects.bulk_update(alerts, ["incident", "instrument"])


def backwards(apps, schema_editor):
    Alert = apps.get_model("oversight", "Alert")
    Incident = apps.get_model("oversight", "Incident")
    Alert.objects.update(incident=None, instrument="")
    Incident.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("oversight", "0005_incidents")]

    operations = [migrations.RunPython(forwards, backwards)]
