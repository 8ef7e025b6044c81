import time

import pytest
from celery.contrib.testing.worker import start_worker

from config.celery import app as celery_app
from zhongdu import tasks
from zhongdu.models import Heartbeat


def test_the_app_is_configured_for_safe_delivery():
    conf = celery_app.conf
    assert conf.task_acks_late is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_soft_time_limit < conf.task_time_limit
    assert conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"
    assert conf.task_always_eager is False
    assert "zhongdu.tasks.heartbeat" in celery_app.tasks


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_task_from_the_broker_and_writes_to_the_database():
    # The worker runs in a thread of this process, consuming from the configured broker (Redis
    # in CI's first run, the in-memory transport otherwise) with its own database connection.
    # Tasks other tests queued on commit (no worker ran them) wait on the same broker: without
    # them the worker's first task is this one.
    celery_app.control.purge()
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        tasks.heartbeat.delay("worker-test")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if Heartbeat.objects.filter(name="worker-test").exists():
                break
            time.sleep(0.1)
    beat = Heartbeat.objects.get(name="worker-test")
    assert beat.beats == 1


@pytest.mark.django_db
def test_the_heartbeat_counts_every_run():
    tasks.heartbeat.apply(args=["beat"])
    tasks.heartbeat.apply(args=["beat"])
    assert Heartbeat.objects.get(name="beat").beats == 2
