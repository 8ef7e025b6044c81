"""The admin's read-only history inlines (a complaint's events, a call's attempts, an enterprise's
employees) load their related rows with the page: the same queries for 1 row as for 8."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from complaints import services as complaints
from complaints.models import ComplaintEvent
from followup import services as followup
from followup.models import CallAttempt
from tests.clientmgmt.factories import ClientFactory
from tests.factories import UserFactory
from tests.vip.factories import enterprise, policy
from vip import services as vip_services

pytestmark = pytest.mark.django_db


def _queries(http, url) -> int:
    http.get(url)  # warm the session and the admin's caches
    with CaptureQueriesContext(connection) as queries:
        assert http.get(url).status_code == 200
    return len(queries)


def test_history_inlines_do_not_query_per_row(admin_client):
    complaint = complaints.complaint_create(client=ClientFactory(), by=None, words="等候太久")
    call = followup.call_create(client=ClientFactory(), due_on=timezone.localdate())
    policy()
    firm = enterprise()
    pages = {
        "complaint": reverse("admin:complaints_complaint_change", args=[complaint.pk]),
        "call": reverse("admin:followup_followupcall_change", args=[call.pk]),
        "enterprise": reverse("admin:vip_enterprise_change", args=[firm.pk]),
    }

    def add_rows(n):
        for _ in range(n):
            who = UserFactory()
            ComplaintEvent.objects.create(complaint=complaint, action="note", actor=who)
            CallAttempt.objects.create(call=call, detail="未接", actor=who)
            vip_services.enterprise_add_member(enterprise=firm, client=ClientFactory(), by=who)

    add_rows(1)
    few = {name: _queries(admin_client, url) for name, url in pages.items()}
    add_rows(7)
    assert {name: _queries(admin_client, url) for name, url in pages.items()} == few
