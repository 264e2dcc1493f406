"""Oversight takes over the alert and report tables compliance created (migration 0004):
the models enter oversight's state, the database is not touched."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('compliance', '0005_schedule_monitors_alerts_reports'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
            migrations.CreateModel(
                name='Alert',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('dedup_key', models.CharField(max_length=200)),
                    ('window_start', models.DateTimeField()),
                    ('kind', models.CharField(db_index=True, max_length=60)),
                    ('severity', models.CharField(choices=[('info', 'info'), ('warning', 'warning'), ('critical', 'critical')], max_length=10)),
                    ('title', models.CharField(max_length=300)),
                    ('detail', models.JSONField(default=dict)),
                    ('status', models.CharField(choices=[('open', 'open'), ('acknowledged', 'acknowledged'), ('resolved', 'resolved')], db_index=True, default='open', max_length=14)),
                    ('occurrences', models.PositiveIntegerField(default=1)),
                    ('first_seen', models.DateTimeField(db_index=True)),
                    ('last_seen', models.DateTimeField()),
                    ('assigned_to', models.CharField(blank=True, default='', max_length=200)),
                    ('acknowledged_by', models.CharField(blank=True, default='', max_length=200)),
                    ('acknowledged_at', models.DateTimeField(blank=True, null=True)),
                    ('resolved_by', models.CharField(blank=True, default='', max_length=200)),
                    ('resolved_at', models.DateTimeField(blank=True, null=True)),
                    ('resolution', models.TextField(blank=True, default='')),
                ],
                options={
                    'db_table': 'compliance_alert',
                    'ordering': ['-first_seen', '-id'],
                    'constraints': [models.UniqueConstraint(fields=('dedup_key', 'window_start'), name='alert_once_per_key_and_window')],
                },
            ),
            migrations.CreateModel(
                name='AlertEvent',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('at', models.DateTimeField()),
                    ('actor', models.CharField(max_length=200)),
                    ('action', models.CharField(max_length=20)),
                    ('status_after', models.CharField(choices=[('open', 'open'), ('acknowledged', 'acknowledged'), ('resolved', 'resolved')], max_length=14)),
                    ('note', models.TextField(blank=True, default='')),
                    ('alert', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='events', to='oversight.alert')),
                ],
                options={
                    'db_table': 'compliance_alertevent',
                    'ordering': ['alert', 'at', 'id'],
                },
            ),
            migrations.CreateModel(
                name='Report',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('kind', models.CharField(choices=[('daily', 'daily')], max_length=20)),
                    ('period', models.DateField()),
                    ('version', models.PositiveIntegerField()),
                    ('generated_at', models.DateTimeField(db_index=True)),
                    ('generated_by', models.CharField(max_length=200)),
                    ('directory', models.CharField(max_length=300)),
                    ('manifest_sha256', models.CharField(max_length=64)),
                    ('key_id', models.CharField(max_length=32)),
                    ('signature', models.CharField(max_length=128)),
                ],
                options={
                    'db_table': 'compliance_report',
                    'ordering': ['-generated_at', '-id'],
                    'constraints': [models.UniqueConstraint(fields=('kind', 'period', 'version'), name='report_version_once')],
                },
            ),
            migrations.CreateModel(
                name='AlertDelivery',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('channel', models.CharField(choices=[('email', 'email'), ('webhook', 'webhook')], max_length=10)),
                    ('target', models.TextField(help_text='Where it goes: the webhook URL or the recipients.')),
                    ('status', models.CharField(choices=[('pending', 'pending'), ('delivered', 'delivered'), ('failed', 'failed')], db_index=True, default='pending', max_length=10)),
                    ('attempts', models.PositiveIntegerField(default=0)),
                    ('last_error', models.TextField(blank=True, default='')),
                    ('created_at', models.DateTimeField()),
                    ('next_attempt_at', models.DateTimeField(blank=True, null=True)),
                    ('claimed_until', models.DateTimeField(blank=True, null=True)),
                    ('delivered_at', models.DateTimeField(blank=True, null=True)),
                    ('alert', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='deliveries', to='oversight.alert')),
                ],
                options={
                    'verbose_name_plural': 'alert deliveries',
                    'db_table': 'compliance_alertdelivery',
                    'ordering': ['alert', 'channel'],
                    'constraints': [models.UniqueConstraint(fields=('alert', 'channel'), name='alert_told_once_per_channel')],
                },
            ),
            migrations.CreateModel(
                name='ReportFile',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('name', models.CharField(max_length=120)),
                    ('section', models.CharField(blank=True, default='', max_length=80)),
                    ('media_type', models.CharField(max_length=60)),
                    ('sha256', models.CharField(max_length=64)),
                    ('size', models.PositiveBigIntegerField()),
                    ('report', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='files', to='oversight.report')),
                ],
                options={
                    'db_table': 'compliance_reportfile',
                    'ordering': ['report', 'name'],
                    'constraints': [models.UniqueConstraint(fields=('report', 'name'), name='report_file_name_once')],
                },
            ),
    ],
            database_operations=[],
        )
    ]
