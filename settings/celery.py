"""The Celery application. Queues by latency: ``realtime`` (state sweeps, decision drains),
``default`` and ``reports``; tasks are routed by module so a slow report never delays a
drain."""

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.dev")

app = Celery("gatehouse")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("realtime"), Queue("default"), Queue("reports"))
app.conf.task_routes = {
    "*.realtime_*": {"queue": "realtime"},
    "*.report_*": {"queue": "reports"},
}
app.autodiscover_tasks()
