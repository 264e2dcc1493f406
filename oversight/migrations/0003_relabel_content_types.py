"""The alert and report models moved from compliance to oversight (0001): their content
types follow them, keeping their ids, so permissions and admin log entries that point at
them still name the model that owns the table. A database where oversight's own content
types were already created keeps both (nothing is deleted)."""

from django.db import migrations

MOVED = ("alert", "alertevent", "alertdelivery", "report", "reportfile")


def relabel(apps, schema_editor, *, old="compliance", new="oversight"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if not ContentType.objects.filter(app_label=new, model=model).exists():
            ContentType.objects.filter(app_label=old, model=model).update(app_label=new)


def restore(apps, schema_editor):
    relabel(apps, schema_editor, old="oversight", new="compliance")


class Migration(migrations.Migration):

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("oversight", "0002_scheduled_task_names"),
    ]

    operations = [migrations.RunPython(relabel, restore)]
