import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clientmgmt import services
from clientmgmt.models import Client, ClientEvent, ConsentEvent
from clientmgmt.selectors import has_consent
from tests.clientmgmt.factories import ID_NUMBERS, ClientFactory
from zhongdu import crypto, roles
from zhongdu.models import AuditEvent, HospitalProfile

pytestmark = pytest.mark.django_db

NEW = reverse("clientmgmt:client_create")


def _form(**overrides):
    data = {
        "name": "  王  芳 ",
        "sex": "female",
        "date_of_birth": "1990-03-07",
        "phone": "139 1234 5678",
        "privacy_contact_name": "王强",
        "privacy_contact_relation": "丈夫",
        "privacy_contact_phone": "13700001111",
        "categories": ["is_patient", "is_exam_client"],
        "service_sms": "on",
        "notes": "",
    }
    data.update(overrides)
    return data


def test_the_front_desk_registers_a_client_with_normalised_fields(front_desk_client):
    response = front_desk_client.post(NEW, _form(id_number="11010119900307451 4"))
    client = Client.objects.get()
    assert response["Location"] == client.get_absolute_url()
    assert client.name == "王 芳"
    assert client.phone == "+8613912345678"
    assert client.phone_last4 == "5678"
    assert client.privacy_contact_phone == "+8613700001111"
    assert (client.is_patient, client.is_member, client.is_exam_client) == (True, False, True)
    assert crypto.decrypt(client.id_number_encrypted) == ID_NUMBERS[0]
    assert client.created_by.username == "t_frontdesk"
    assert client.events.get().kind == ClientEvent.Kind.CREATED
    created = AuditEvent.objects.get(action="create", object_type="clientmgmt.client")
    assert "phone" in created.changed_fields
    assert "13912345678" not in str(created.changed_fields) + created.object_repr


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("phone", "12345", "Enter a valid phone number"),
        ("id_number", "110101199003074515", "check digit does not match"),
        ("id_number", "1101011990", "has 18 characters"),
        ("date_of_birth", "2099-01-01", "cannot be in the future"),
        ("date_of_birth", "not a date", "Enter a valid date"),
        ("name", "   ", "This field is required"),
        ("sex", "alien", "Select a valid choice"),
    ],
)
def test_bad_input_is_explained_and_nothing_is_saved(front_desk_client, field, value, message):
    response = front_desk_client.post(NEW, _form(**{field: value}), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Client.objects.exists()


def test_errors_are_in_chinese_by_default(front_desk_client):
    response = front_desk_client.post(NEW, _form(phone="12345"))
    assert "请输入有效的电话号码" in response.content.decode()


def test_an_id_number_must_agree_with_the_date_of_birth(front_desk_client):
    response = front_desk_client.post(
        NEW, _form(id_number=ID_NUMBERS[0], date_of_birth="1991-03-07"), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "1990-03-07" in response.content.decode()
    assert not Client.objects.exists()


def test_the_id_card_fills_a_missing_birth_date_and_sex(front_desk_client):
    front_desk_client.post(NEW, _form(id_number=ID_NUMBERS[1], date_of_birth="", sex="unknown"))
    client = Client.objects.get()
    assert client.date_of_birth == datetime.date(1949, 12, 31)
    assert client.sex == "female"


def test_a_matching_phone_shows_the_existing_record_and_creates_nothing(front_desk_client):
    existing = ClientFactory(name="王芳", phone="13912345678")
    response = front_desk_client.post(NEW, _form(name="王小芳"), HTTP_ACCEPT_LANGUAGE="en")
    body = response.content.decode()
    assert "may be the same person" in body
    assert existing.get_absolute_url() in body
    assert Client.objects.count() == 1


def test_staff_may_confirm_a_different_person_with_the_same_phone(front_desk_client):
    ClientFactory(name="王芳", phone="13912345678")
    front_desk_client.post(NEW, _form(name="王小芳", confirm_distinct="on"))
    assert Client.objects.count() == 2


def test_same_name_and_birth_date_is_flagged(front_desk_client):
    ClientFactory(name="王 芳", date_of_birth=datetime.date(1990, 3, 7), phone="13000000000")
    response = front_desk_client.post(NEW, _form())
    assert response.context["duplicates"]


def test_a_duplicate_id_card_cannot_be_overridden(front_desk_client):
    ClientFactory(name="王芳", id_number=ID_NUMBERS[0], date_of_birth=None, phone="13000000000")
    response = front_desk_client.post(
        NEW,
        _form(id_number=ID_NUMBERS[0], confirm_distinct="on"),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "belongs to another record" in response.content.decode()
    assert Client.objects.count() == 1


def test_viewing_a_client_is_audited_and_numbers_are_masked(consultant_client):
    client = ClientFactory(
        name="李娜", phone="13912345678", id_number=ID_NUMBERS[0], date_of_birth=None
    )
    response = consultant_client.get(client.get_absolute_url())
    body = response.content.decode()
    assert "139****5678" in body and "13912345678" not in body
    assert ID_NUMBERS[0] not in body
    event = AuditEvent.objects.get(action="view")
    assert event.object_id == str(client.pk) and event.actor_username == "t_consultant"


def test_a_client_page_shows_the_timeline(front_desk_client):
    client = ClientFactory(name="李娜")
    body = front_desk_client.get(
        client.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "Record created" in body


def test_the_timeline_links_only_to_pages_the_viewer_may_open(client_for):
    """An SMS on the timeline opens the outbox page for those who watch the outbox; the front
    desk sees the same entry without a link (it would be refused)."""
    from messaging.services import outbox_enqueue

    person = ClientFactory()
    message = outbox_enqueue(
        idempotency_key="t:1", purpose="greeting", client=person, body="您好，欢迎来院。"
    )
    url = reverse("messaging:message_detail", args=[message.pk])

    def sms_entries(role):
        page = client_for(role).get(person.get_absolute_url())
        return [e for e in page.context["timeline"] if e.kind == "sms"], page.content.decode()

    entries, html = sms_entries(roles.FRONT_DESK)
    assert len(entries) == 1 and entries[0].url == "" and url not in html
    entries, html = sms_entries(roles.CLIENT_MANAGER)
    assert entries[0].url == url and f'href="{url}"' in html


def test_a_complaint_on_the_timeline_links_for_its_handlers_only(client_for):
    from complaints import services as complaints

    person = ClientFactory()
    complaint = complaints.complaint_create(client=person, by=None, words="等候太久")
    url = reverse("complaints:complaint_detail", args=[complaint.pk])
    for role, linked in ((roles.FRONT_DESK, False), (roles.CLIENT_MANAGER, True)):
        page = client_for(role).get(person.get_absolute_url())
        entry = next(e for e in page.context["timeline"] if e.kind == "complaint")
        assert (entry.url == url) is linked and (f'href="{url}"' in page.content.decode()) is linked
        assert client_for(role).get(url).status_code == (200 if linked else 403)


def test_revealing_a_number_needs_a_reason_and_is_audited(consultant_client):
    client = ClientFactory(name="李娜", phone="13912345678")
    url = reverse("clientmgmt:client_reveal", args=[client.pk])
    refused = consultant_client.post(url, {"field": "phone", "reason": ""}, HTTP_HX_REQUEST="true")
    assert "13912345678" not in refused.content.decode()
    assert not AuditEvent.objects.filter(action="reveal").exists()
    shown = consultant_client.post(
        url, {"field": "phone", "reason": "回电确认预约"}, HTTP_HX_REQUEST="true"
    )
    assert "13912345678" in shown.content.decode()
    event = AuditEvent.objects.get(action="reveal")
    assert (event.reason, event.changed_fields) == ("回电确认预约", ["phone"])


def test_revealing_the_id_number_decrypts_it(front_desk_client):
    client = ClientFactory(name="李娜", id_number=ID_NUMBERS[0], date_of_birth=None)
    response = front_desk_client.post(
        reverse("clientmgmt:client_reveal", args=[client.pk]),
        {"field": "id_number", "reason": "办理会员卡"},
    )
    assert ID_NUMBERS[0] in response.content.decode()


def test_a_manager_cannot_reveal(manager_client):
    client = ClientFactory(name="李娜")
    response = manager_client.post(
        reverse("clientmgmt:client_reveal", args=[client.pk]), {"field": "phone", "reason": "x y"}
    )
    assert response.status_code == 403


def test_editing_records_the_changed_fields_and_keeps_numbers_left_blank(front_desk_client):
    client = ClientFactory(name="李娜", phone="13912345678")
    response = front_desk_client.post(
        reverse("clientmgmt:client_edit", args=[client.pk]),
        _form(name="李娜", phone="", date_of_birth="1985-06-01", sex="male", notes="过敏体质"),
    )
    assert response.status_code == 302
    client.refresh_from_db()
    assert client.phone == "+8613912345678"
    assert client.notes == "过敏体质"
    event = client.events.filter(kind="updated").get()
    assert "notes" in event.fields and "phone" not in event.fields
    assert AuditEvent.objects.filter(action="update", object_id=str(client.pk)).exists()


def test_the_edit_form_never_prints_the_full_number(front_desk_client):
    client = ClientFactory(name="李娜", phone="13912345678")
    body = front_desk_client.get(
        reverse("clientmgmt:client_edit", args=[client.pk])
    ).content.decode()
    assert "13912345678" not in body and "139****5678" in body


def test_a_manager_reads_but_cannot_edit(manager_client):
    client = ClientFactory(name="李娜")
    assert manager_client.get(client.get_absolute_url()).status_code == 200
    assert (
        manager_client.get(reverse("clientmgmt:client_edit", args=[client.pk])).status_code == 403
    )


def test_a_missing_client_is_a_404(front_desk_client):
    assert (
        front_desk_client.get(reverse("clientmgmt:client_detail", args=[999999])).status_code == 404
    )


def test_archiving_and_restoring(client_manager_client):
    client = ClientFactory(name="李娜")
    client_manager_client.post(reverse("clientmgmt:client_archive", args=[client.pk]))
    client.refresh_from_db()
    assert client.status == "archived"
    client_manager_client.post(reverse("clientmgmt:client_restore", args=[client.pk]))
    client.refresh_from_db()
    assert client.status == "active"
    assert [e.kind for e in client.events.order_by("at", "pk")] == [
        "created",
        "archived",
        "restored",
    ]


def test_archiving_twice_is_explained_not_crashed_on(client_manager_client):
    client = ClientFactory(name="李娜")
    url = reverse("clientmgmt:client_archive", args=[client.pk])
    client_manager_client.post(url)
    response = client_manager_client.post(url, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "cannot be changed that way" in response.content.decode()


def test_the_export_is_masked_and_audited(client_manager_client):
    ClientFactory(name="李娜", phone="13912345678", id_number=ID_NUMBERS[0], date_of_birth=None)
    response = client_manager_client.get(reverse("clientmgmt:client_export"), {"q": "李娜"})
    body = response.content.decode("utf-8-sig")
    assert "李娜" in body and "139****5678" in body
    assert "13912345678" not in body and ID_NUMBERS[0] not in body
    assert AuditEvent.objects.filter(action="export").exists()


def test_consent_opt_in_records_when_how_and_by_whom(front_desk_client):
    front_desk_client.post(NEW, _form(marketing_sms="on", consent_method="written"))
    client = Client.objects.get()
    assert has_consent(client, "marketing_sms")
    event = ConsentEvent.objects.get(client=client, purpose="marketing_sms")
    assert event.granted and event.method == "written" and event.channel == "new_client_form"
    assert event.recorded_by.username == "t_frontdesk"
    assert event.notice_version == HospitalProfile.current().privacy_notice_version
    assert abs(event.at - timezone.now()) < datetime.timedelta(minutes=1)
    # The registration names the consents it recorded among its fields, in one log entry.
    created = client.events.get()
    assert {"service_sms", "marketing_sms"} <= set(created.fields)


def test_opting_in_without_saying_how_is_refused(front_desk_client):
    response = front_desk_client.post(NEW, _form(marketing_sms="on"), HTTP_ACCEPT_LANGUAGE="en")
    assert "Record how the client agreed" in response.content.decode()
    assert not Client.objects.exists()


def test_marketing_without_service_sms_is_refused_in_both_languages(front_desk_client):
    form = _form(service_sms="", marketing_sms="on", consent_method="verbal")
    response = front_desk_client.post(NEW, form, HTTP_ACCEPT_LANGUAGE="en")
    assert "Marketing SMS needs consent to Service SMS" in response.content.decode()
    response = front_desk_client.post(NEW, form)
    assert "营销短信需要先同意服务短信" in response.content.decode()
    assert not Client.objects.exists()


def test_service_sms_is_on_unless_refused(front_desk_client, role_user):
    front_desk_client.post(NEW, _form(service_sms=""))
    client = Client.objects.get()
    assert has_consent(client, "service_sms") is False
    refusal = ConsentEvent.objects.get(client=client)
    assert (refusal.purpose, refusal.granted, refusal.channel) == (
        "service_sms",
        False,
        "new_client_form",
    )
    assert role_user(roles.FRONT_DESK).has_perm("clientmgmt.reveal_client_contact")


def test_the_new_client_form_shows_the_notice_version_and_each_consent(front_desk_client):
    HospitalProfile.current()
    HospitalProfile.objects.create(
        **{**HospitalProfile.first_values(), "privacy_notice_version": "2026-12"}
    )
    page = front_desk_client.get(NEW, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="notice-version"' in page and "2026-12" in page
    for code in ("health_data", "service_sms", "marketing_sms"):
        assert f'name="{code}"' in page
    # An edit does not change consents: the client page does, one purpose at a time.
    client = ClientFactory()
    edit = front_desk_client.get(reverse("clientmgmt:client_edit", args=[client.pk]))
    assert 'name="marketing_sms"' not in edit.content.decode()


def test_the_client_page_runs_a_fixed_number_of_queries(
    front_desk_client, django_assert_max_num_queries
):
    client = ClientFactory(name="李娜")
    for n in range(20):
        services.client_update(client=client, data={"notes": f"第{n}次备注"}, by=None)
    front_desk_client.get(client.get_absolute_url())
    # Session, user, roles (with the user's own permissions; their groups' permissions and the
    # user menu's count of unread notifications are kept since the first page: issue 17), the
    # client with its joins, the whole timeline (every department's entries in one UNION ALL),
    # the open referrals, the audit row, the consents in force with their history (one query,
    # issue 16), who may see the record on the patient portal (one query, issue 21): 9, under
    # the ceiling of 12, whatever the number of departments.
    with django_assert_max_num_queries(9):
        response = front_desk_client.get(client.get_absolute_url())
    assert len(response.context["timeline"]) == 21


def test_the_timeline_can_show_one_kind_of_entry(front_desk_client):
    from tests.consult.factories import make_booking

    booking = make_booking()
    client = booking.client
    page = front_desk_client.get(client.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    kinds = {entry.kind for entry in page.context["timeline"]}
    assert {"created", "booking"} <= kinds
    assert ("booking", "Bookings") in [
        (k, str(label)) for k, label in page.context["timeline_kinds"]
    ]
    only = front_desk_client.get(client.get_absolute_url() + "?timeline=booking")
    assert {entry.kind for entry in only.context["timeline"]} == {"booking"}
    nonsense = front_desk_client.get(client.get_absolute_url() + "?timeline=nope")
    assert {entry.kind for entry in nonsense.context["timeline"]} == kinds


def test_the_timeline_compiled_once_still_shows_each_client_their_own_entries():
    """The timeline's SQL is compiled once per process for a placeholder client and run with the
    real id: each client's page still shows their own history, with Python dates."""
    from clientmgmt.registry import timeline_for

    first = ClientFactory(name="王一")
    second = ClientFactory(name="李二")
    services.client_update(client=second, data={"notes": "只属于李二"}, by=None)
    first_entries = timeline_for(first)
    second_entries = timeline_for(second)
    assert len(second_entries) == len(first_entries) + 1
    assert all(isinstance(entry.at, datetime.datetime) for entry in second_entries)
    assert all(entry.at.tzinfo is not None for entry in second_entries)
    assert timeline_for(first) == first_entries


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are Postgres's")
@pytest.mark.django_db(transaction=True)
def test_on_postgres_each_session_prepares_the_timeline_once_and_again_after_reconnecting():
    from clientmgmt import registry

    first = ClientFactory(name="王一")
    second = ClientFactory(name="李二")
    services.client_update(client=second, data={"notes": "只属于李二"}, by=None)
    plain = {}
    for person in (first, second):  # the statement a session without it runs
        compiled = registry._compiled_timeline(
            list(registry._timeline_sources.values()), 50, "default"
        )
        params = [person.pk if v == registry._SENTINEL_ID else v for v in compiled.params]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            plain[person.pk] = cursor.fetchall()

    def prepared_names():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name FROM pg_prepared_statements WHERE name LIKE 'zhongdu_timeline_%%'"
            )
            return {row[0] for row in cursor.fetchall()}

    with CaptureQueriesContext(connection) as queries:
        first_entries = registry.timeline_for(first)
        second_entries = registry.timeline_for(second)
    statements = {q["sql"].split(" (")[0] for q in queries}
    assert len(queries) == 2 and len(statements) == 1
    name = statements.pop().removeprefix("EXECUTE ")
    assert name.startswith("zhongdu_timeline_") and name in prepared_names()
    assert [e.at for e in second_entries] == [row[0] for row in plain[second.pk]]
    assert len(second_entries) == len(first_entries) + 1

    connection.close()  # a new session has no prepared statements: it prepares again
    assert registry.timeline_for(second) == second_entries
    assert prepared_names() == {name}
