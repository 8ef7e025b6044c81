"""Two VIP managers confirm the same employee list at the same moment: every employee is
registered once and added once, whichever confirmation ran first; the other finds the rows done.
The same confirmation posted many times at once (its one-time key) imports once.

Needs Postgres: SQLite serialises writers on one file lock, so it proves nothing about
concurrent confirmations. Each thread opens its own connection and waits at a barrier so both
reach the database together (as tests/consult/test_concurrency.py).
"""

import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.urls import reverse
from django.utils import translation

from clientmgmt.models import Client
from tests.at_once import post_at_once
from tests.clientmgmt.factories import ID_NUMBERS
from tests.vip.factories import client, enterprise, policy
from vip import imports
from vip.models import EnterpriseImport, EnterpriseMember

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row-level concurrency needs Postgres (SQLite locks the whole file)",
    ),
]

EMPLOYEES = (
    "姓名,手机,身份证号\n"
    "钱芳,13700000006,\n"  # nobody: registered (no unique column would stop a second record)
    "孙丽,13700000007,\n"  # nobody: registered
    f"赵磊,13700000005,{ID_NUMBERS[1]}\n"  # nobody: registered
    "张伟,13800000001,\n"  # on file already: added
).encode()


def test_two_confirmations_of_the_same_list_at_once_register_each_employee_once():
    policy()
    firm = enterprise()
    known = client(name="张伟", phone="+8613800000001")
    clients_before = Client.objects.count()
    barrier = threading.Barrier(2)
    results, errors = [], []
    lock = threading.Lock()

    def confirm():
        try:
            rows = imports.read_rows("employees.csv", EMPLOYEES)
            imports.match_rows(rows, enterprise=firm)
            barrier.wait(timeout=30)
            with translation.override("en"):
                job = imports.enterprise_import_apply(
                    enterprise=firm, rows=rows, create_new=True, file_name="employees.csv", by=None
                )
            with lock:
                results.append(job.counts)
        except Exception as exc:  # any error fails the test below
            with lock:
                errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=confirm) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(results, key=lambda counts: counts["skipped"]) == [
        {"added": 4, "created": 3, "skipped": 0},
        {"added": 0, "created": 0, "skipped": 4},
    ]
    assert Client.objects.count() == clients_before + 3
    assert Client.objects.filter(phone="+8613700000006").count() == 1
    members = EnterpriseMember.objects.filter(enterprise=firm)
    assert members.count() == 4 and members.filter(client=known).exists()


def test_the_same_confirmation_posted_ten_times_at_once_imports_once(vip_manager_client):
    """A double click (or a resubmitted tab) racing itself: one import, every answer sent to the
    enterprise's page."""
    policy()
    firm = enterprise()
    client(name="张伟", phone="+8613800000001")
    clients_before = Client.objects.count()
    url = reverse("vip:enterprise_import", args=[firm.pk])
    upload = SimpleUploadedFile("employees.csv", EMPLOYEES, content_type="text/csv")
    preview = vip_manager_client.post(url, {"file": upload})
    initial = preview.context["confirm_form"].initial
    form = {"payload": initial["payload"], "key": initial["key"], "new_records": "create"}

    answers = post_at_once(vip_manager_client, url, form)

    assert [getattr(answer, "status_code", answer) for answer in answers] == [302] * 10
    assert {answer["Location"] for answer in answers} == {firm.get_absolute_url()}
    job = EnterpriseImport.objects.get()
    assert job.counts == {"added": 4, "created": 3, "skipped": 0}
    assert Client.objects.count() == clients_before + 3
    assert EnterpriseMember.objects.filter(enterprise=firm).count() == 4
