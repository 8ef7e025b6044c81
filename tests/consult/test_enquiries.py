"""Enquiries: the model and services, the call screen and the consultant's queue."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clientmgmt import registry
from clientmgmt import services as client_services
from clientmgmt.models import Client
from consult import services
from consult.models import Enquiry
from tests.factories import UserFactory
from tests.zhongdu.factories import ChannelFactory, DepartmentFactory, ExpertFactory
from zhongdu import roles

from .factories import ClientFactory, make_enquiry

pytestmark = pytest.mark.django_db

CALL = reverse("consult:call")
QUEUE = reverse("consult:queue")
TODAY = timezone.localdate
# Session, user, roles, the call-backs and the online requests (each with client, department
# and consultant joined), the due recalls (the no-shows, and the hotline's callbacks for those
# who answer it: each kind to its own limit) and the recall figures (tests/consult/test_recall.py),
# the referred clients to call (tests/referrals/test_referrals.py), the bookings clients made on
# the portal (session, department and expert joined; tests/portal/test_bookings.py): whatever
# their number (the user menu's count of unread notifications is kept since the first page).
QUEUE_QUERIES = 10


def _user(username="t_consultant"):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username)


def _post(client, url, **data):
    fields = {"contact_channel": "phone", "direction": "in", "duration_seconds": "60"}
    return client.post(url, fields | data, HTTP_ACCEPT_LANGUAGE="en")


# --- Model and services -------------------------------------------------------------


def test_a_prospects_phone_is_stored_in_e164():
    enquiry = make_enquiry(prospect_phone="139 0000 1111")
    assert enquiry.prospect_phone == "+8613900001111"
    assert enquiry.caller_phone_masked == "139****1111"


def test_a_clients_enquiry_keeps_no_prospect_details():
    person = ClientFactory()
    enquiry = make_enquiry(client=person, prospect_name="X", prospect_phone="13900001111")
    assert (enquiry.prospect_name, enquiry.prospect_phone) == ("", "")
    assert enquiry.caller_name == person.name


@pytest.mark.parametrize(
    "kwargs",
    [
        {"outcome": "call_back"},
        {"outcome": "referred"},
        {"outcome": "nonsense"},
        {"prospect_name": "", "prospect_phone": ""},
        {"prospect_phone": "12"},
    ],
)
def test_the_service_refuses_an_incomplete_enquiry(kwargs):
    with pytest.raises(ValidationError):
        make_enquiry(**({"outcome": "information"} | kwargs))
    assert not Enquiry.objects.exists()


def test_the_database_refuses_an_unknown_outcome_and_a_caller_nobody():
    with pytest.raises(IntegrityError), transaction.atomic():
        Enquiry.objects.create(prospect_name="A", outcome="maybe")
    with pytest.raises(IntegrityError), transaction.atomic():
        Enquiry.objects.create(outcome="information")
    # Only an online request waits without an outcome.
    with pytest.raises(IntegrityError), transaction.atomic():
        Enquiry.objects.create(prospect_name="A", outcome="")


def test_a_call_back_keeps_its_date_and_an_answered_request_leaves_the_queue():
    user = UserFactory()
    request = services.enquiry_request_create(name="王芳", phone="13900002222")
    day = TODAY() + datetime.timedelta(days=2)
    enquiry = make_enquiry(by=user, outcome="call_back", call_back_date=day, follows=request)
    request.refresh_from_db()
    assert enquiry.call_back_date == day
    assert enquiry.consultant == user
    assert request.handled and request.handled_by == user and request.handled_at


def test_marking_handled_twice_keeps_the_first_hand():
    first, second = UserFactory(), UserFactory()
    enquiry = services.enquiry_request_create(name="王芳", phone="13900002222")
    services.enquiry_mark_handled(enquiry=enquiry, by=first)
    services.enquiry_mark_handled(enquiry=enquiry, by=second)
    assert enquiry.handled_by == first


def test_a_clients_enquiries_appear_on_the_timeline_and_follow_a_merge():
    person = ClientFactory()
    make_enquiry(client=person, outcome="information", topic="白癜风")
    entries = [e for e in registry.timeline_for(person) if e.kind == "enquiry"]
    assert len(entries) == 1
    assert "白癜风" in entries[0].detail
    assert (Enquiry, "client") in client_services.merge_relations()


# --- The call screen ----------------------------------------------------------------


@pytest.mark.parametrize("written", ["13812345678", "138 1234 5678", "+86 138-1234-5678"])
def test_the_call_screen_pops_the_client_by_phone_in_any_format(consultant_client, written):
    person = ClientFactory(phone="+8613812345678", name="陈静")
    page = consultant_client.get(CALL, {"phone": written})
    assert page.status_code == 200
    assert page.context["client"] == person
    html = page.content.decode()
    assert "陈静" in html
    assert "138****5678" in html
    assert "13812345678" not in html.replace(written, "")  # the full number is never shown


def test_an_unknown_number_opens_a_prospect_prefilled(consultant_client):
    page = consultant_client.get(CALL, {"phone": "13912340000"}, HTTP_ACCEPT_LANGUAGE="en")
    assert page.context["client"] is None
    assert page.context["form"]["prospect_phone"].value() == "13912340000"
    assert "new prospect" in page.content.decode()


def test_two_clients_with_one_number_are_both_offered(consultant_client):
    ClientFactory(phone="+8613812345678", name="甲")
    ClientFactory(phone="+8613812345678", name="乙")
    page = consultant_client.get(CALL, {"phone": "13812345678"})
    assert page.context["client"] is None
    assert len(page.context["matches"]) == 2
    assert 'data-testid="matches"' in page.content.decode()


def test_the_call_screen_searches_the_knowledge_desk_with_htmx(consultant_client):
    html = consultant_client.get(CALL).content.decode()
    assert f'hx-get="{reverse("knowledge_desk")}"' in html
    assert 'hx-target="#desk-results"' in html


def test_a_prospects_enquiry_is_saved_with_the_consultant(consultant_client):
    channel, department = ChannelFactory(), DepartmentFactory()
    page = _post(
        consultant_client,
        CALL + "?phone=13912340000",
        prospect_name="赵敏",
        prospect_phone="13912340000",
        marketing_channel=channel.pk,
        department=department.pk,
        question="多少钱",
        answer="300元",
        outcome="information",
    )
    assert page.status_code == 302
    assert page["Location"] == CALL
    enquiry = Enquiry.objects.get()
    assert enquiry.consultant == _user()
    assert enquiry.prospect_phone == "+8613912340000"
    assert (enquiry.marketing_channel, enquiry.department) == (channel, department)
    assert enquiry.duration_seconds == 60


def test_a_clients_enquiry_returns_to_the_client_page(consultant_client):
    person = ClientFactory(phone="+8613812345678")
    page = _post(consultant_client, CALL + "?phone=13812345678", outcome="information")
    assert page["Location"] == person.get_absolute_url()
    assert Enquiry.objects.get().client == person


def test_a_booked_client_goes_straight_to_booking(consultant_client):
    person = ClientFactory(phone="+8613812345678")
    page = _post(consultant_client, CALL + f"?client={person.pk}", outcome="booked")
    enquiry = Enquiry.objects.get()
    assert page["Location"] == (
        reverse("consult:booking_new") + f"?client={person.pk}&enquiry={enquiry.pk}"
    )


def test_a_booked_prospect_is_registered_first(consultant_client):
    data = {"prospect_name": "赵敏", "prospect_phone": "13912340000", "outcome": "booked"}
    page = _post(consultant_client, CALL, **data)
    assert page["Location"].startswith(reverse("clientmgmt:client_create") + "?")
    # The number goes along as a token (issue 13: never a full number in an address).
    assert "13912340000" not in page["Location"]
    form = consultant_client.get(page["Location"]).context["form"]
    assert form["phone"].value() == "+8613912340000"
    assert form["name"].value() == "赵敏"
    assert not Client.objects.exists()


def test_a_referred_caller_needs_the_expert_and_the_form_says_so(consultant_client):
    page = _post(consultant_client, CALL, prospect_name="赵敏", outcome="referred")
    assert page.status_code == 422
    assert "Choose the expert" in page.content.decode()
    expert = ExpertFactory()
    page = _post(
        consultant_client, CALL, prospect_name="赵敏", outcome="referred", referred_expert=expert.pk
    )
    assert page.status_code == 302
    assert Enquiry.objects.get().referred_expert == expert


@pytest.mark.parametrize(
    "query,data",
    [
        ("?client=abc", {"outcome": "information"}),
        ("?client=999999", {"outcome": "information"}),
        ("?follows=x&phone=abc", {"outcome": "x", "prospect_phone": "x"}),
        ("", {"outcome": "call_back", "prospect_name": "A", "call_back_date": "nope"}),
        ("", {}),
    ],
)
def test_bad_input_never_gives_a_server_error(consultant_client, query, data):
    assert consultant_client.get(CALL + query).status_code in (200, 404)
    assert _post(consultant_client, CALL + query, **data).status_code in (404, 422)
    assert not Enquiry.objects.exists()


def test_calling_from_the_queue_takes_the_request_off_it(consultant_client):
    request = services.enquiry_request_create(name="王芳", phone="13900002222")
    url = CALL + f"?phone=%2B8613900002222&follows={request.pk}"
    assert consultant_client.get(url).context["follows"] == request
    _post(consultant_client, url, prospect_name="王芳", outcome="information")
    request.refresh_from_db()
    assert request.handled


def test_a_call_from_the_queue_finds_the_number_from_the_request_it_follows(consultant_client):
    """The queue links with ?follows= only: the call screen takes the caller's number from the
    request (a prospect's) or the call-back (a client's), so no number travels in an address."""
    request = services.enquiry_request_create(name="王芳", phone="13900002222")
    page = consultant_client.get(CALL + f"?follows={request.pk}")
    assert page.context["follows"] == request and page.context["client"] is None
    assert page.context["form"].initial["prospect_phone"] == "+8613900002222"
    assert 'value="+8613900002222"' in page.content.decode()
    assert 'data-testid="prospect"' in page.content.decode()
    _post(
        consultant_client,
        CALL + f"?follows={request.pk}",
        prospect_name="王芳",
        outcome="information",
    )
    request.refresh_from_db()
    assert request.handled

    person = ClientFactory(phone="13900005555")
    call_back = make_enquiry(by=_user(), outcome="call_back", call_back_date=TODAY(), client=person)
    page = consultant_client.get(CALL + f"?client={person.pk}&follows={call_back.pk}")
    assert page.context["client"] == person and page.context["phone"] == "+8613900005555"
    # A client's number comes only with the client opened (their record's access rules apply).
    page = consultant_client.get(CALL + f"?follows={call_back.pk}")
    assert page.context["client"] is None and page.context["phone"] == ""
    assert "13900005555" not in page.content.decode()


# --- The queue ----------------------------------------------------------------------


def test_the_queue_shows_my_due_call_backs_and_all_unhandled_requests(consultant_client):
    me, colleague = _user(), UserFactory()
    yesterday, tomorrow = TODAY() - datetime.timedelta(days=1), TODAY() + datetime.timedelta(1)
    overdue = make_enquiry(by=me, outcome="call_back", call_back_date=yesterday)
    due = make_enquiry(by=me, outcome="call_back", call_back_date=TODAY())
    make_enquiry(by=me, outcome="call_back", call_back_date=tomorrow)
    make_enquiry(by=colleague, outcome="call_back", call_back_date=TODAY())
    done = make_enquiry(by=me, outcome="call_back", call_back_date=TODAY())
    services.enquiry_mark_handled(enquiry=done, by=me)
    waiting = services.enquiry_request_create(name="王芳", phone="13900002222")
    answered = services.enquiry_request_create(name="刘洋", phone="13900003333")
    services.enquiry_mark_handled(enquiry=answered, by=colleague)

    page = consultant_client.get(QUEUE)
    assert list(page.context["callbacks"]) == [overdue, due]
    assert list(page.context["online_requests"]) == [waiting]
    html = page.content.decode()
    assert f"follows={waiting.pk}" in html
    assert "139****2222" in html
    # The number is masked, and the Call link names the request, not the number.
    assert "13900002222" not in html and "phone=" not in html


def _queue_row(html, section, marker):
    """The HTML of the row of the queue's `section` that holds `marker`."""
    table = html.split(f'data-testid="{section}"')[1].split("</section>")[0]
    return next(row for row in table.split("<tr")[1:] if marker in row)


def test_each_call_back_row_shows_its_enquiry_and_calls_it_by_number(consultant_client):
    me = _user()
    person = ClientFactory(name="周杰")
    theirs = make_enquiry(
        by=me,
        client=person,
        outcome="call_back",
        call_back_date=TODAY() - datetime.timedelta(days=2),
        department=DepartmentFactory(name="皮肤科"),
        topic="复诊时间",
    )
    prospects = make_enquiry(by=me, outcome="call_back", call_back_date=TODAY())
    html = consultant_client.get(QUEUE).content.decode()
    row = _queue_row(html, "callbacks", "周杰")
    assert f'href="{CALL}?client={person.pk}&amp;follows={theirs.pk}"' in row
    assert f"{theirs.call_back_date:%Y-%m-%d}" in row and "皮肤科 复诊时间" in row
    assert person.phone_masked in row and person.phone not in row
    row = _queue_row(html, "callbacks", "李娜")  # a prospect: the Call link names the enquiry
    assert f'href="{CALL}?follows={prospects.pk}"' in row
    assert "139****1111" in row and "13900001111" not in row


def test_each_online_request_row_shows_when_it_came_and_what_it_asks(consultant_client):
    request = services.enquiry_request_create(
        name="王芳",
        phone="13900002222",
        department=DepartmentFactory(name="激光科"),
        preferred_date=TODAY() + datetime.timedelta(days=3),
        message="想看痤疮" * 30,
    )
    page = consultant_client.get(QUEUE, HTTP_ACCEPT_LANGUAGE="en")
    row = _queue_row(page.content.decode(), "online-requests", "王芳")
    assert f'href="{CALL}?follows={request.pk}"' in row
    assert f"{timezone.localtime(request.created_at):%Y-%m-%d %H:%M}" in row
    assert f"{request.preferred_date:%Y-%m-%d}" in row and "激光科" in row
    assert "想看痤疮" * 19 + "想看痤…" in row  # cut at 80 characters, as truncatechars cuts
    assert "—" in row.split('data-testid="request-consents">')[1]  # no consent given


def test_the_queue_says_what_each_request_consented_to(consultant_client):
    services.enquiry_request_create(
        name="王芳",
        phone="13900002222",
        message="想看痤疮",
        consents={"health_data": True, "marketing_sms": True},
        notice_version="2026-12",
    )
    page = consultant_client.get(QUEUE, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    cell = page.split('data-testid="request-consents">')[1].split("</td>")[0]
    # Marketing from the page is the person's wish, to confirm with them before it counts.
    assert "Processing of health information、Marketing SMS (to confirm on the call)" in cell
    assert "2026-12" in cell
    chinese = consultant_client.get(QUEUE).content.decode()
    assert "健康信息处理、营销短信（待电话确认）" in chinese


def test_an_empty_queue_says_so(consultant_client):
    page = consultant_client.get(QUEUE)
    assert 'data-testid="no-callbacks"' in page.content.decode()
    assert 'data-testid="no-online-requests"' in page.content.decode()


def test_the_queue_keeps_a_fixed_query_count(consultant_client, django_assert_num_queries):
    from django.db import connection

    me = _user()
    consultant_client.get(QUEUE)  # warm the session

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert consultant_client.get(QUEUE).status_code == 200
        return len(queries)

    make_enquiry(by=me, outcome="call_back", call_back_date=TODAY(), client=ClientFactory())
    services.enquiry_request_create(name="王芳", phone="13900002222")
    one = count()
    assert one == QUEUE_QUERIES
    for n in range(4):
        make_enquiry(
            by=me,
            outcome="call_back",
            call_back_date=TODAY(),
            client=ClientFactory(),
            department=DepartmentFactory(),
        )
        services.enquiry_request_create(name="王芳", phone=f"1390000400{n}", ip=f"10.0.0.{n}")
    with django_assert_num_queries(one):
        consultant_client.get(QUEUE)


def test_a_manager_sees_the_queue_without_call_links(manager_client):
    request = services.enquiry_request_create(name="王芳", phone="13900002222")
    page = manager_client.get(QUEUE)
    assert page.status_code == 200
    assert list(page.context["online_requests"]) == [request]
    assert f"follows={request.pk}" not in page.content.decode()


# --- Access -------------------------------------------------------------------------


@pytest.mark.parametrize("role", sorted(roles.ALL_ROLES))
def test_each_role_opens_the_call_screen_and_queue_as_the_table_says(client_for, role):
    client = client_for(role)
    for url, name in ((CALL, "consult:call"), (QUEUE, "consult:queue")):
        expected = 200 if role in roles.PAGE_ACCESS[name] else 403
        assert client.get(url).status_code == expected, (role, name)
    assert roles.MANAGER not in roles.PAGE_ACCESS["consult:call"]
    assert roles.MANAGER in roles.PAGE_ACCESS["consult:queue"]


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for url in (CALL, QUEUE):
        assert client.get(url)["Location"].startswith(reverse("login"))


def test_a_manager_cannot_record_an_enquiry(manager_client):
    assert _post(manager_client, CALL, prospect_name="A", outcome="information").status_code == 403
    assert not Enquiry.objects.exists()


def test_the_admin_lists_enquiries_with_numbers_masked(admin_client_):
    from django.urls import reverse

    enquiry = make_enquiry(prospect_name="王先生", prospect_phone="+8613912345678")
    listing = admin_client_.get(reverse("admin:consult_enquiry_changelist")).content.decode()
    assert "王先生" in listing and "139****5678" in listing and "13912345678" not in listing
    page = admin_client_.get(reverse("admin:consult_enquiry_change", args=[enquiry.pk]))
    assert page.status_code == 200 and "13912345678" not in page.content.decode()


def test_a_prospects_enquiries_join_the_client_once_registered_and_booked():
    from tests.consult.factories import make_booking

    first = make_enquiry(prospect_name="王先生", prospect_phone="139 1234 5678", outcome="booked")
    other = make_enquiry(prospect_name="赵女士", prospect_phone="13800001111")
    person = ClientFactory(name="王先生", phone="13912345678")
    make_booking(client=person)
    first.refresh_from_db()
    other.refresh_from_db()
    assert first.client == person and first.prospect_phone == ""
    assert other.client is None  # another number: still a prospect


def test_the_desk_address_opens_the_queue(consultant_client):
    response = consultant_client.get("/consult/")
    assert response.status_code == 302 and response["Location"] == reverse("consult:queue")
