"""Incidents (issue 18): the alerts of one kind and cause that arrived together, which is
what an officer works. Alerts gain the incident they belong to (nullable until 0006 has
given every existing alert one), the instrument they are about, and whether they notify."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('oversight', '0004_schedule_held_withdrawal_monitor'),
    ]

    operations = [
        migrations.AddField(
            model_name='alert',
            name='instrument',
            field=models.CharField(blank=True, db_index=True, default='', help_text="The instrument the alert is about (its detail's ``instrument``), if any.", max_length=40),
        ),
        migrations.AddField(
            model_name='alert',
            name='notify',
            field=models.BooleanField(default=True, help_text="Told to the channels: the alert that opened its incident or raised the incident's severity. One that joins an incident at its severity is not."),
        ),
        migrations.CreateModel(
            name='Incident',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(max_length=60)),
                ('cause', models.CharField(help_text="What the alerts have in common; the alert's key by default.", max_length=200)),
                ('title', models.CharField(max_length=300)),
                ('severity', models.CharField(choices=[('info', 'info'), ('warning', 'warning'), ('critical', 'critical')], max_length=10)),
                ('status', models.CharField(choices=[('open', 'open'), ('acknowledged', 'acknowledged'), ('resolved', 'resolved')], db_index=True, default='open', max_length=14)),
                ('first_seen', models.DateTimeField()),
                ('last_seen', models.DateTimeField(db_index=True)),
                ('alert_count', models.PositiveIntegerField(default=1)),
                ('occurrences', models.PositiveIntegerField(default=1)),
                ('instruments', models.JSONField(blank=True, default=list)),
                ('assigned_to', models.CharField(blank=True, default='', max_length=200)),
                ('last_action', models.CharField(blank=True, default='', max_length=500)),
            ],
            options={
                'ordering': ['-last_seen', '-id'],
                'indexes': [models.Index(fields=['kind', 'cause', 'status'], name='incident_kind_cause')],
            },
        ),
        migrations.AddField(
            model_name='alert',
            name='incident',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='alerts', to='oversight.incident'),
        ),
    ]
