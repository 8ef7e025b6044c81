"""My data (issue 21, item 5): the person's consents and their withdrawal, the copy of their
information, their requests to correct or delete it as staff tasks, and the dependants staff
record on the client page."""

import datetime
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from clientmgmt.models import ConsentEvent
from messaging.models import OutboxMessage, Purpose, SmsTemplate
from messaging.services import outbox_enqueue
from portal.data import COPIES_PER_HOUR, KEPT_RECORDS
from portal.models import DataRequest, DataRequestEvent, PatientSession, PortalDependant
from portal.services import dependant_authorise, portal_username
from tests.clientmgmt.factories import ClientFactory, grant
from tests.consult.factories import make_booking
from tests.exams.factories import number_definition, order_with, record, release
from tests.factories import UserFactory
from tests.followup.factories import make_plan
from tests.guide.factories import walk_in
from zhongdu import roles
from zhongdu.models import AuditEvent, CalendarDay
from zhongdu.workcalendar import WorkCalendar

pytestmark = pytest.mark.django_db

MY_DATA = "/my/data/"


def _pending_marketing(person):
    SmsTemplate.objects.get_or_create(
        code="t-marketing",
        defaults={"purpose": Purpose.EVENT_INVITATION, "kind": "marketing", "body": "活动"},
    )
    return outbox_enqueue(
        idempotency_key=f"m-{person.pk}",
        purpose=Purpose.EVENT_INVITATION,
        client=person,
        to=person.phone,
        kind="marketing",
        template_code="t-marketing",
        values={},
        send_after=timezone.now() + datetime.timedelta(days=1),
    )


def _audited(action, client, username):
    return AuditEvent.objects.filter(
        action=action, object_id=str(client.pk), actor_username=username
    )


# --- Consents -------------------------------------------------------------------------------


def test_the_page_lists_each_consent_with_its_notice_version_and_date(signed_in, patient):
    grant(patient, "marketing_sms", notice_version="2026-12")
    page = signed_in.get(reverse("portal:my_data"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Marketing SMS" in text or "营销短信" in text
    assert "2026-12" in text
    assert timezone.localdate().isoformat() in text
    assert text.count('data-testid="data-consent"') == 5
    # The bottom bar's section.
    assert f'href="{MY_DATA}"' in text


def test_withdrawing_asks_first_then_stops_pending_messages_through_the_consent_service(
    signed_in, patient
):
    grant(patient, "marketing_sms")
    pending = _pending_marketing(patient)
    url = reverse("portal:consent_withdraw", args=["marketing_sms"])
    confirm = signed_in.get(url)
    assert confirm.status_code == 200
    assert b"data-withdraw-confirm" in confirm.content
    pending.refresh_from_db()
    assert pending.status == "pending"  # asking is not withdrawing

    answer = signed_in.post(url)
    assert answer.status_code == 302
    pending.refresh_from_db()
    assert (pending.status, pending.error_code) == ("suppressed", "no_consent")
    event = ConsentEvent.objects.filter(client=patient, purpose="marketing_sms").latest("at")
    assert (event.granted, event.channel, event.method) == (False, "portal", "portal")
    assert _audited("update", patient, portal_username(patient)).exists()
    page = signed_in.get(reverse("portal:my_data")).content.decode()
    assert 'href="/my/data/consents/marketing_sms/withdraw/"' not in page


def test_an_unknown_purpose_is_not_found(signed_in):
    url = reverse("portal:consent_withdraw", args=["nothing"])
    assert signed_in.post(url).status_code == 404


def test_the_pages_ask_for_a_patient_session(client):
    answer = client.get(reverse("portal:my_data"))
    assert answer.status_code == 302
    assert answer["Location"].startswith(reverse("portal:login"))


# --- The copy ---------------------------------------------------------------------------------


@pytest.fixture
def history(patient):
    """The patient's life at the hospital, and another person's that must not leak."""
    staff = UserFactory(roles=[roles.FRONT_DESK])
    make_booking(client=patient, by=staff)
    walk_in(client=patient, by=staff)
    make_plan(client=patient, by=staff, diet="少吃辛辣")
    definition = number_definition()
    order = order_with(definition, client=patient)
    record(order, definition, number="5.2")
    release(order)
    OutboxMessage.objects.filter(client=patient).update(sent_at=timezone.now())
    type(patient).objects.filter(pk=patient.pk).update(notes="员工内部备注")
    other = ClientFactory(name="王芳", phone="+8613900000001")
    make_plan(client=other, diet="别人的计划")
    return other


def test_the_json_copy_holds_the_persons_data_and_nobody_elses(signed_in, patient, history):
    answer = signed_in.get(reverse("portal:data_copy", args=["json"]))
    assert answer.status_code == 200
    assert answer["Content-Disposition"].startswith("attachment;")
    assert answer["Content-Disposition"].endswith('.json"')
    copy = json.loads(answer.content)
    assert copy["record"]["name"] == "李娜"
    assert copy["record"]["mobile"] == "+8613812345678"
    assert len(copy["bookings"]) == 1
    assert len(copy["visits"]) == 1
    assert copy["care_plans"][0]["diet"] == "少吃辛辣"
    assert copy["exam_results"][0]["value"] == "5.2"
    assert len(copy["consents"]) == 5
    assert copy["messages"], "the booking's confirmation sent to them"
    text = answer.content.decode()
    assert "王芳" not in text and "别人的计划" not in text
    assert "员工内部备注" not in text  # staff working notes stay out
    assert _audited("export", patient, portal_username(patient)).count() == 1


def test_the_pdf_copy_is_a_readable_attachment(signed_in, patient, history):
    answer = signed_in.get(reverse("portal:data_copy", args=["pdf"]))
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/pdf"
    assert answer["Content-Disposition"].endswith('.pdf"')
    assert answer.content.startswith(b"%PDF")
    assert _audited("export", patient, portal_username(patient)).count() == 1


def test_the_pdf_holds_the_persons_name_not_anothers(signed_in, patient, history):
    pypdf = pytest.importorskip("pypdf")
    import io

    answer = signed_in.get(reverse("portal:data_copy", args=["pdf"]))
    text = "".join(
        page.extract_text() for page in pypdf.PdfReader(io.BytesIO(answer.content)).pages
    )
    assert "李娜" in text
    assert "王芳" not in text


def test_a_dependants_copy_is_the_dependants(signed_in, patient):
    child = ClientFactory(name="李小明", phone=patient.phone)
    dependant_authorise(
        holder=patient, dependant=child, relation="子女", evidence="户口本", by=UserFactory()
    )
    signed_in.post(reverse("portal:switch"), {"subject": child.pk})
    copy = json.loads(signed_in.get(reverse("portal:data_copy", args=["json"])).content)
    assert copy["record"]["name"] == "李小明"
    # Audited on the child's record, as done by the parent.
    assert _audited("export", child, portal_username(patient)).exists()


def test_copies_are_limited_per_hour(signed_in, patient):
    url = reverse("portal:data_copy", args=["json"])
    for _n in range(COPIES_PER_HOUR):
        assert signed_in.get(url).status_code == 200
    refused = signed_in.get(url)
    assert refused.status_code == 302
    assert refused["Location"] == MY_DATA


def test_wechats_browser_is_told_how_to_open_the_page_in_the_phones_browser(signed_in):
    wechat = "Mozilla/5.0 (iPhone) AppleWebKit/605.1.15 MicroMessenger/8.0.50 NetType/WIFI"
    page = signed_in.get(reverse("portal:my_data"), HTTP_USER_AGENT=wechat)
    assert b'data-testid="data-wechat"' in page.content
    plain = signed_in.get(reverse("portal:my_data"), HTTP_USER_AGENT="Mozilla/5.0 (iPhone)")
    assert b'data-testid="data-wechat"' not in plain.content


# --- Requests to correct or delete ------------------------------------------------------------


def _ask(client, kind="correction", text="我的出生日期应为1990-03-02", key="a" * 32):
    return client.post(reverse("portal:data_request_new"), {"kind": kind, "text": text, "key": key})


def test_a_request_becomes_a_staff_task_due_in_15_working_days(signed_in, patient):
    # A holiday in the next weeks is not counted.
    CalendarDay.objects.create(
        date=timezone.localdate() + datetime.timedelta(days=3), is_working=False
    )
    form = signed_in.get(reverse("portal:data_request_new"))
    assert b'name="key"' in form.content
    assert _ask(signed_in).status_code == 302
    assert _ask(signed_in).status_code == 302  # the double click
    request = DataRequest.objects.get()
    expected = WorkCalendar.load().add_working_days(timezone.localdate(), 15)
    assert (request.client, request.status, request.due_on) == (patient, "open", expected)
    assert list(request.events.values_list("action", flat=True)) == ["asked"]
    assert _audited("create", patient, portal_username(patient)).exists()
    page = signed_in.get(reverse("portal:my_data")).content.decode()
    assert "我的出生日期应为1990-03-02" in page
    home = signed_in.get(reverse("portal:home")).content.decode()
    assert 'data-testid="portal-card-data"' in home


def test_an_empty_request_is_refused_with_the_form_kept(signed_in):
    answer = _ask(signed_in, text="")
    assert answer.status_code == 422
    assert not DataRequest.objects.exists()
    answer = _ask(signed_in, kind="everything")
    assert answer.status_code == 422
    assert "我的出生日期应为1990-03-02" in answer.content.decode()


@pytest.fixture
def asked(signed_in, patient):
    _ask(signed_in, kind="deletion", text="请删除我的全部信息")
    return DataRequest.objects.get()


def test_client_managers_see_open_requests_by_deadline_with_late_ones_marked(
    client_for, asked, django_assert_max_num_queries
):
    older = DataRequest.objects.create(
        client=ClientFactory(),
        asked_by=asked.client,
        kind="correction",
        text="x",
        due_on=timezone.localdate() - datetime.timedelta(days=1),
    )
    manager = client_for(roles.CLIENT_MANAGER)
    url = reverse("datarequests:request_list")
    with django_assert_max_num_queries(12):
        page = manager.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert text.count('data-testid="data-request-row"') == 2
    assert text.count('data-testid="data-request-late"') == 1
    assert text.index(older.get_absolute_url()) < text.index(asked.get_absolute_url())
    assert client_for(roles.FRONT_DESK).get(url).status_code == 403
    assert client_for(roles.CONSULTANT).get(asked.get_absolute_url()).status_code == 403


def test_the_worklist_keeps_its_query_count_as_it_grows(client_for, asked):
    manager = client_for(roles.CLIENT_MANAGER)
    url = reverse("datarequests:request_list")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    manager.get(url)  # the session's and the badge's first reads
    with CaptureQueriesContext(connection) as one:
        manager.get(url)
    for n in range(5):
        DataRequest.objects.create(
            client=ClientFactory(), asked_by=asked.client, kind="correction", text=str(n),
            due_on=timezone.localdate(),
        )  # fmt: skip
    with CaptureQueriesContext(connection) as six:
        manager.get(url)
    assert len(six) == len(one)


def test_a_refused_deletion_is_audited_and_the_person_reads_the_answer_and_what_is_kept(
    client_for, signed_in, asked, patient
):
    manager = client_for(roles.CLIENT_MANAGER)
    page = manager.get(asked.get_absolute_url())
    assert page.status_code == 200
    assert "请删除我的全部信息" in page.content.decode()
    decide = reverse("datarequests:request_decide", args=[asked.token])
    assert manager.post(decide, {"status": "refused", "answer": ""}).status_code == 422
    answer = manager.post(decide, {"status": "refused", "answer": "病历依法保存，联系方式已删除。"})
    assert answer.status_code == 302
    asked.refresh_from_db()
    assert asked.status == "refused"
    assert roles.CLIENT_MANAGER in roles.user_roles(asked.decided_by)
    assert list(asked.events.values_list("action", flat=True)) == ["asked", "decided", "told"]
    assert AuditEvent.objects.filter(
        action="update", object_id=str(patient.pk), actor=asked.decided_by
    ).exists()
    # Told by SMS that there is an answer, with nothing of it.
    sms = OutboxMessage.objects.get(idempotency_key=f"portal-data-request:{asked.pk}:decided")
    assert sms.client == patient
    assert "病历" not in sms.body and "删除" not in sms.body
    # Decided once.
    again = manager.post(decide, {"status": "done", "answer": "好"})
    assert again.status_code == 422
    mine = signed_in.get(reverse("portal:my_data")).content.decode()
    assert "病历依法保存，联系方式已删除。" in mine
    assert 'data-testid="data-kept"' in mine
    assert str(KEPT_RECORDS) in mine or "依法" in mine


def test_events_are_append_only(asked):
    event = asked.events.get()
    with pytest.raises(DataRequestEvent.Immutable):
        event.save()


# --- Dependants on the client page -------------------------------------------------------------


@pytest.fixture
def child(patient):
    return ClientFactory(name="李小明", phone=patient.phone)


@pytest.mark.parametrize(
    ("role", "shown"),
    [
        (roles.FRONT_DESK, True),
        (roles.CLIENT_MANAGER, True),
        (roles.ADMINISTRATOR, True),
        (roles.CONSULTANT, False),
        (roles.MANAGER, False),
    ],
)
def test_the_panel_is_for_the_desks_that_register_clients(client_for, child, role, shown):
    page = client_for(role).get(child.get_absolute_url())
    assert page.status_code == 200
    assert (b'data-testid="dependant-panel"' in page.content) is shown


def test_staff_authorise_a_parent_who_then_switches_to_the_childs_record_until_withdrawn(
    client_for, signed_in, patient, child
):
    desk = client_for(roles.FRONT_DESK)
    add = reverse("datarequests:dependant_add", args=[child.pk])
    answer = desk.post(
        add, {"holder_phone": "138 1234 5678", "relation": "母亲", "evidence": "户口本"}
    )
    assert answer.status_code == 302
    authorisation = PortalDependant.objects.get()
    assert (authorisation.holder, authorisation.dependant) == (patient, child)
    assert b"dependant-holder" in desk.get(child.get_absolute_url()).content

    # The parent now sees the child's record.
    assert signed_in.post(reverse("portal:switch"), {"subject": child.pk}).status_code == 302
    assert "李小明" in signed_in.get(reverse("portal:my_data")).content.decode()

    # Withdrawn, after a confirmation: the parent is back on their own record.
    withdraw = reverse("datarequests:dependant_withdraw", args=[child.pk, authorisation.pk])
    assert b"dependant-withdraw-form" in desk.get(withdraw).content
    assert PatientSession.objects.get(ended_at__isnull=True).subject == child
    assert desk.post(withdraw).status_code == 302
    assert PatientSession.objects.get(ended_at__isnull=True).subject == patient
    page = signed_in.get(reverse("portal:data_copy", args=["json"]))
    assert json.loads(page.content)["record"]["name"] == "李娜"
    assert AuditEvent.objects.filter(
        object_id=str(child.pk), changed_fields=["portal_dependant"]
    ).count() == 2  # fmt: skip


def test_an_unknown_number_is_refused_with_a_message(client_for, child):
    desk = client_for(roles.FRONT_DESK)
    add = reverse("datarequests:dependant_add", args=[child.pk])
    answer = desk.post(
        add,
        {"holder_phone": "139 9999 9999", "relation": "母亲", "evidence": "户口本"},
        follow=True,
    )
    assert answer.status_code == 200
    assert not PortalDependant.objects.exists()


def test_a_consultant_may_not_authorise(client_for, child, patient):
    add = reverse("datarequests:dependant_add", args=[child.pk])
    answer = client_for(roles.CONSULTANT).post(
        add, {"holder_phone": "13812345678", "relation": "母亲", "evidence": "户口本"}
    )
    assert answer.status_code == 403
    assert not PortalDependant.objects.exists()


# --- Query counts ------------------------------------------------------------------------------


def test_the_my_data_page_keeps_its_query_count(signed_in, patient, django_assert_num_queries):
    url = reverse("portal:my_data")
    signed_in.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as before:
        signed_in.get(url)
    grant(patient, "marketing_sms")
    for n in range(3):
        _ask(signed_in, text=f"改正{n}", key=f"{n:032x}")
    with CaptureQueriesContext(connection) as after:
        signed_in.get(url)
    assert len(after) == len(before)
    assert len(after) <= 12


def test_the_copy_withholds_a_critical_value_nobody_has_told_the_person(signed_in, patient):
    """An alert closed as unreachable has reached nobody: the copy, like the results pages,
    leaves the critical value out."""
    import io

    from exams import alerts
    from exams.models import ResultAlert

    definition = number_definition("JC101")
    order = order_with(definition, client=patient)
    record(order, definition, number="1.5")
    release(order)
    alert = ResultAlert.objects.get(order=order, level=ResultAlert.Level.CRITICAL)
    alerts.alert_record(
        alert=alert,
        by=UserFactory(roles=[roles.CLIENT_MANAGER]),
        action=alerts.CLOSE,
        outcome=ResultAlert.Outcome.UNREACHABLE,
        notes="三次未接通",
    )
    copy = signed_in.get(reverse("portal:data_copy", args=["json"]))
    assert copy.status_code == 200
    assert "1.5" not in copy.content.decode() and "危急" not in copy.content.decode()
    pypdf = pytest.importorskip("pypdf")
    pdf = signed_in.get(reverse("portal:data_copy", args=["pdf"]))
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    assert "1.5" not in text
