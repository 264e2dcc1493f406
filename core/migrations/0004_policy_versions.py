from django.db import migrations, models

COMPONENTS = ("rules", "instruments", "sessions")


def seed(apps, schema_editor):
    PolicyVersion = apps.get_model("core", "PolicyVersion")
    for name in COMPONENTS:
        PolicyVersion.objects.get_or_create(name=name, defaults={"value": 1})


class Migration(migrations.Migration):
    dependencies = [("core", "0003_console_roles")]

    operations = [
        migrations.CreateModel(
            name="PolicyVersion",
            fields=[
                ("name", models.CharField(max_length=20, primary_key=True, serialize=False)),
                ("value", models.PositiveBigIntegerField(default=0)),
            ],
            options={"ordering": ["name"]},
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
