import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhongdu.settings")

app = Celery("zhongdu")
# Every setting named CELERY_* in zhongdu/settings.py configures this app.
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
