"""`make run` (Makefile, scripts/run-dev.sh): the links sent to patients follow the port it serves
at, and Ctrl-C stops the web server, the worker and beat within five seconds."""

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from surveys.models import SurveyInvitation
from tests.surveys.factories import finished_visit, satisfaction_survey

ROOT = Path(settings.BASE_DIR)
make = shutil.which("make")


def _dry_run(*arguments, **environment):
    env = {k: v for k, v in os.environ.items() if k != "PUBLIC_BASE_URL"} | environment
    result = subprocess.run(  # noqa: S603 (make, fixed arguments)
        [make, "-n", "run", *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = result.stdout.splitlines()
    seed = [line for line in lines if "manage.py seed_demo" in line]
    server = [line for line in lines if "scripts/run-dev.sh" in line]
    assert len(seed) == 1 and len(server) == 1, result.stdout
    return seed[0], server[0]


@pytest.mark.skipif(make is None, reason="needs GNU make")
def test_make_run_on_another_port_gives_that_port_to_the_demo_data_and_the_server():
    seed, server = _dry_run("PORT=8101")
    assert 'PUBLIC_BASE_URL="http://127.0.0.1:8101"' in seed
    assert 'PUBLIC_BASE_URL="http://127.0.0.1:8101"' in server and "PORT=8101" in server


@pytest.mark.skipif(make is None, reason="needs GNU make")
def test_make_run_keeps_a_public_base_url_it_is_given():
    seed, server = _dry_run("PORT=8101", PUBLIC_BASE_URL="https://kefu.zhongdu.example")
    for line in (seed, server):
        assert 'PUBLIC_BASE_URL="https://kefu.zhongdu.example"' in line and ":8101" not in line


def test_settings_take_the_public_base_url_make_run_passes():
    env = {k: v for k, v in os.environ.items() if k != "PUBLIC_BASE_URL"}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    env["PUBLIC_BASE_URL"] = "http://127.0.0.1:8101/"  # the slash is dropped
    result = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.PUBLIC_BASE_URL)"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() == "http://127.0.0.1:8101"


@pytest.mark.django_db
def test_the_slip_of_a_server_on_port_8101_sends_its_survey_to_port_8101(
    front_desk_client, settings
):
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8101"
    satisfaction_survey()
    visit = finished_visit()
    slip = reverse("followup:visit_slip", args=[visit.pk])
    body = front_desk_client.get(slip).content.decode()
    token = SurveyInvitation.objects.get(visit=visit).token
    qr = re.search(r'class="survey-qr"><title>([^<]+)</title>', body)
    assert qr is not None and qr.group(1) == f"http://127.0.0.1:8101/s/{token}/"


# --- Ctrl-C -------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _running_in_group(pgid: int) -> list[int]:
    """The processes of the group that still run. A zombie has exited (it waits for its parent,
    or for init, to read its status) and is not counted."""
    running = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        state, group = fields[0], int(fields[2])
        if group == pgid and state != "Z":
            running.append(int(stat.parent.name))
    return running


def _interruptible():
    """In the child, before the script starts: Ctrl-C (SIGINT) and SIGQUIT as a terminal gives
    them, whatever this test's own process inherited."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)


def _answers(port: int) -> bool:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz/", timeout=2)
    except urllib.error.HTTPError:
        return True  # an answer all the same (the health check says 503 without a heartbeat)
    except OSError:
        return False
    return True


@pytest.mark.worker
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_an_interrupt_stops_the_server_the_worker_and_beat_within_five_seconds(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PUBLIC_BASE_URL", "ZHONGDU_TESTING", "DATABASE_URL"}
    }
    port = _free_port()
    env |= {
        "BIN": str(Path(sys.executable).parent),
        "PORT": str(port),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'run.sqlite3'}",
        # The worker's own in-process broker: nothing of another run's queue (var/broker/, or
        # the Redis the suite may be pointed at) is taken by this worker.
        "CELERY_BROKER_URL": "memory://",
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=300,
        check=True,
    )
    log_path = tmp_path / "run-dev.log"
    # The output goes to a file: a pipe nobody reads fills up and stalls the server.
    with open(log_path, "wb") as log:
        process = subprocess.Popen(  # noqa: S603 (the project's script)
            [shutil.which("bash"), "scripts/run-dev.sh"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal's Ctrl-C reaches it
            # As from a terminal: a suite started in the background by a shell without job
            # control inherits SIGINT ignored, and a shell cannot trap a signal ignored on entry.
            preexec_fn=_interruptible,
        )
    try:
        deadline = time.monotonic() + 60
        while not _answers(port):
            assert process.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, (
                f"the server did not answer on :{port} within 60 s\n{log_path.read_text()}"
            )
            time.sleep(0.5)
        started = _running_in_group(process.pid)
        output = log_path.read_text()
        assert f"Links sent to patients start with http://127.0.0.1:{port}" in output
        # bash, the server (and its reloader), the worker, its pool and beat.
        assert len(started) >= 5, output

        os.killpg(process.pid, signal.SIGINT)
        interrupted = time.monotonic()
        while _running_in_group(process.pid) and time.monotonic() - interrupted < 5:
            process.poll()  # read the script's status: it is not left a zombie of this test
            time.sleep(0.1)
        left = _running_in_group(process.pid)
        assert left == [], f"still running 5 s after Ctrl-C: {left}\n{log_path.read_text()}"
        assert not _answers(port)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
