"""The console takes over the proposal and sign-in throttle tables core created (migrations
0002, 0003): the models enter the console's state, the tables and their rows are not
touched; their content types are relabelled so nothing that points at them dangles."""

from django.db import migrations, models

MOVED = ("proposal", "signinthrottle")


def relabel_content_types(apps, schema_editor, *, old="core", new="console"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if not ContentType.objects.filter(app_label=new, model=model).exists():
            ContentType.objects.filter(app_label=old, model=model).update(app_label=new)


def restore_content_types(apps, schema_editor):
    relabel_content_types(apps, schema_editor, old="console", new="core")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("core", "0005_schedule_policy_reconcile"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='SignInThrottle',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('username', models.CharField(max_length=150, unique=True)),
                        ('failures', models.PositiveIntegerField(default=0)),
                        ('last_failure_at', models.DateTimeField(blank=True, null=True)),
                        ('locked_until', models.DateTimeField(blank=True, null=True)),
                    ],
                    options={
                        'db_table': 'core_signinthrottle',
                    },
                ),
                migrations.CreateModel(
                    name='Proposal',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(db_index=True, max_length=80)),
                        ('target', models.CharField(db_index=True, max_length=200)),
                        ('payload', models.JSONField(default=dict)),
                        ('reason', models.TextField()),
                        ('maker', models.CharField(max_length=150)),
                        ('created_at', models.DateTimeField(db_index=True)),
                        ('status', models.CharField(choices=[('proposed', 'proposed'), ('approved', 'approved'), ('rejected', 'rejected'), ('executed', 'executed'), ('failed', 'failed')], db_index=True, default='proposed', max_length=12)),
                        ('emergency', models.BooleanField(default=False)),
                        ('checker', models.CharField(blank=True, default='', max_length=150)),
                        ('decided_at', models.DateTimeField(blank=True, null=True)),
                        ('decision_note', models.TextField(blank=True, default='')),
                        ('result', models.JSONField(blank=True, null=True)),
                    ],
                    options={
                        'db_table': 'core_proposal',
                        'ordering': ['-created_at', '-id'],
                        'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('checker', models.F('maker')), _negated=True), ('checker', ''), _connector='OR'), name='proposal_checker_is_not_maker')],
                    },
                ),
            ],
        ),
        migrations.RunPython(relabel_content_types, restore_content_types),
    ]
