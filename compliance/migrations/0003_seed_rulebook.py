"""Seed the starting rulebook (shared/reference/RULES.md §7) as revision 1 of each rule and
publish it as rulebook version 1, and schedule the decision-log drain every second."""

from django.db import migrations
from django.utils import timezone

SEEDED_BY = "seed:RULES.md §7"
APPROVED_BY = "seed:migration compliance.0003"


def seed(apps, schema_editor):
    from compliance.rules_seed import seed_rules

    RuleRevision = apps.get_model("compliance", "RuleRevision")
    RulebookVersion = apps.get_model("compliance", "RulebookVersion")
    now = timezone.now()
    revisions = []
    for rule in seed_rules():
        revisions.append(
            RuleRevision.objects.create(
                rule_id=rule.rule_id,
                revision=1,
                jurisdictions=sorted(rule.jurisdictions),
                product_classes=sorted(rule.product_classes),
                actions=sorted(rule.actions),
                effect=rule.effect,
                investor_category=rule.investor_category or "",
                citation_text=rule.citation_text,
                citation_ref=rule.citation_ref,
                effective_from=rule.effective_from,
                effective_until=rule.effective_until,
                status="active",
                created_by=SEEDED_BY,
                created_at=now,
                approved_by=APPROVED_BY,
                approved_at=now,
            )
        )
    version = RulebookVersion.objects.create(version=1, published_at=now, published_by=APPROVED_BY)
    version.revisions.set(revisions)


def schedule_drain(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period="seconds")
    PeriodicTask.objects.update_or_create(
        name="drain access decisions into the database",
        defaults={
            "task": "compliance.tasks.realtime_drain_access_decisions",
            "interval": every_second,
            "queue": "realtime",
            "expires": None,
            "enabled": True,
        },
    )


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0002_accessdecision_accountprofile_change_seq_and_more"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
        migrations.RunPython(schedule_drain, migrations.RunPython.noop),
    ]
