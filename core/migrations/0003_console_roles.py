"""Seed the console's roles as groups (DESIGN.md, "Console"). Rights are checked in code by
group name (``console.roles``), so the groups carry no model permissions."""

from django.db import migrations

ROLES = ("compliance_officer", "risk_officer", "auditor", "administrator")


def seed_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_console"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(seed_roles, remove_roles)]
