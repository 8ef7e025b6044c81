"""The same form posted by many hands at the same moment (a double click on a slow network, two
tabs, two clerks), for the Postgres concurrency tests: SQLite serialises writers on one file lock,
so it proves nothing there.

Each thread has its own database connection and its own test client signed in with the same
session, and waits at a barrier so all of them reach the view together (as
tests/vip/test_import_concurrency.py).
"""

import threading

import pytest
from django.conf import settings
from django.db import connection, connections
from django.test import Client

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="concurrent writers need Postgres (SQLite locks the whole file)",
)


def call_at_once(calls) -> list:
    """Run each of `calls` (functions of no argument) in a thread of its own, all released
    together at a barrier; their answers, or the exceptions they raised (a test asserts on
    them), in the order they finished. Each thread closes its database connection."""
    barrier = threading.Barrier(len(calls))
    answers, lock = [], threading.Lock()

    def run(call):
        try:
            barrier.wait(timeout=30)
            answer = call()
        except Exception as exc:  # the test's asserts show it
            answer = exc
        finally:
            connections.close_all()
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


def post_at_once(signed_in: Client, url: str, data: dict | list[dict], *, times: int = 10) -> list:
    """POST `data` to `url` from `times` threads at once (or each of a list of forms from a thread
    of its own); the responses, or the exceptions the requests raised (a test asserts on them)."""
    forms = data if isinstance(data, list) else [data] * times
    session = signed_in.cookies[settings.SESSION_COOKIE_NAME].value

    def poster(data):
        def post():
            browser = Client()
            browser.cookies[settings.SESSION_COOKIE_NAME] = session
            return browser.post(url, data)

        return post

    return call_at_once([poster(form) for form in forms])
