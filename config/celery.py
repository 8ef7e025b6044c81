import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# DjangoTask gives every task delay_on_commit(): queue only once the transaction commits.
app = Celery("zhongdu", task_cls="celery.contrib.django.task:DjangoTask")
# Every setting named CELERY_* in config/settings.py configures this app.
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
