"""Queue numbers and calling: each triaged visit gets its department's next number for the day;
the clinician's station calls, recalls, skips and finishes them; the waiting-room display shows
them with masked names to anyone holding its screen's link, polling with one query."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from clientmgmt.models import Client
from guide import selectors, services
from guide.forms import TriageForm
from guide.models import DisplayScreen, QueueCounter, QueueTicket, Visit, VisitEvent
from tests.clientmgmt.factories import ClientFactory
from tests.conftest import ROLE_USERNAMES
from tests.guide.factories import today_session, triaged, walk_in
from tests.zhongdu.factories import DepartmentFactory, ExpertFactory
from zhongdu import roles
from zhongdu.masking import mask_name
from zhongdu.models import AuditEvent

pytestmark = pytest.mark.django_db

CALLING = reverse("guide:calling")
DISPLAYS = reverse("guide:display_list")


def _ticket(visit) -> QueueTicket:
    return QueueTicket.objects.get(visit=visit, status__in=services.LIVE_TICKET_STATUSES)


def _patient(department, name="张小伟", **kwargs):
    return _ticket(
        triaged(walk_in(client=ClientFactory(name=name)), department=department, **kwargs)
    )


def _act(ticket, action, **kwargs):
    ticket.refresh_from_db()
    return services.ticket_act(ticket=ticket, action=action, by=None, seen=ticket.state, **kwargs)


# --- Masking ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张小伟", "张*伟"),
        ("张伟", "张*"),
        ("欧阳小明", "欧**明"),
        ("王", "王"),
        # Spaces typed into a Chinese name do not let it through whole.
        (" 李  娜 ", "李*"),
        ("欧阳 小明", "欧**明"),
        ("John Smith", "J*** S****"),
        ("", ""),
    ],
)
def test_a_name_is_masked_keeping_its_first_and_last_character(name, masked):
    assert mask_name(name) == masked


# --- Numbers ------------------------------------------------------------------------------


def test_each_department_numbers_its_triaged_patients_from_one_each_day():
    skin, allergy = DepartmentFactory(), DepartmentFactory()
    # Yesterday's queue does not carry over.
    QueueCounter.objects.create(
        department=skin, day=timezone.localdate() - datetime.timedelta(days=1), last_number=40
    )
    numbers = [_patient(skin, name=f"病人{i}").number for i in range(3)]
    assert numbers == [1, 2, 3]
    assert _patient(allergy).number == 1
    counter = QueueCounter.objects.get(department=skin, day=timezone.localdate())
    assert counter.last_number == 3


def test_the_number_is_unique_per_department_and_day_by_a_named_constraint():
    constraint = next(
        c for c in QueueTicket._meta.constraints if c.name == "queueticket_dept_day_number_unique"
    )
    assert tuple(constraint.fields) == ("department", "day", "number")
    ticket = _patient(DepartmentFactory())
    other = triaged(walk_in(), department=DepartmentFactory())
    with pytest.raises(IntegrityError), transaction.atomic():
        QueueTicket.objects.create(
            visit=other, department=ticket.department, day=ticket.day, number=ticket.number
        )


def test_triage_writes_the_number_in_the_visit_history():
    ticket = _patient(DepartmentFactory())
    event = VisitEvent.objects.get(visit=ticket.visit, action=VisitEvent.Action.TRIAGED)
    assert "No. 001" in event.detail


def test_triaging_again_in_the_same_department_keeps_the_number_and_another_gives_a_new_one():
    skin, allergy = DepartmentFactory(), DepartmentFactory()
    _patient(skin, name="先来")
    ticket = _patient(skin)
    doctor = ExpertFactory(departments=[skin])
    services.visit_triage(visit=ticket.visit, department=skin, expert=doctor, by=None)
    again = _ticket(ticket.visit)
    assert (again.pk, again.number, again.expert) == (ticket.pk, 2, doctor)

    services.visit_triage(visit=ticket.visit, department=allergy, by=None)
    moved = _ticket(ticket.visit)
    assert (moved.department, moved.number) == (allergy, 1)
    ticket.refresh_from_db()
    assert ticket.status == QueueTicket.Status.CANCELLED


def test_a_recalled_or_skipped_patient_keeps_the_number():
    department = DepartmentFactory()
    ticket = _patient(department)
    _patient(department, name="后来")
    for action in ("call", "recall", "skip", "call"):
        ticket, changed = _act(ticket, action)
        assert changed
        assert ticket.number == 1
    assert (ticket.status, ticket.calls) == (QueueTicket.Status.CALLED, 3)
    actions = list(
        VisitEvent.objects.filter(visit=ticket.visit)
        .exclude(action__in=["arrived", "triaged", "status"])
        .values_list("action", flat=True)
    )
    assert actions == ["called", "recalled", "skipped", "called"]


def test_done_sends_the_visit_to_the_doctor_and_closes_the_number():
    ticket = _patient(DepartmentFactory())
    _act(ticket, "call")
    ticket, changed = _act(ticket, "done")
    assert changed and ticket.status == QueueTicket.Status.DONE
    visit = Visit.objects.get(pk=ticket.visit_id)
    assert visit.status == Visit.Status.WITH_DOCTOR and visit.seen_at is not None


def test_a_second_click_with_what_the_page_showed_changes_nothing():
    ticket = _patient(DepartmentFactory())
    shown = ticket.state
    _first, changed = services.ticket_act(ticket=ticket, action="call", by=None, seen=shown)
    again, changed_again = services.ticket_act(ticket=ticket, action="call", by=None, seen=shown)
    assert (changed, changed_again) == (True, False)
    assert again.calls == 1
    recall_shown = again.state
    services.ticket_act(ticket=ticket, action="recall", by=None, seen=recall_shown)
    _, twice = services.ticket_act(ticket=ticket, action="recall", by=None, seen=recall_shown)
    assert not twice
    ticket.refresh_from_db()
    assert ticket.calls == 2


@pytest.mark.parametrize(("action", "status"), [("done", "waiting"), ("recall", "waiting")])
def test_an_action_the_number_cannot_take_is_refused(action, status):
    ticket = _patient(DepartmentFactory())
    assert ticket.status == status
    with pytest.raises(ValidationError):
        services.ticket_act(ticket=ticket, action=action, by=None)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.calls) == (status, 0)


def test_a_patient_who_leaves_gives_the_number_up():
    ticket = _patient(DepartmentFactory())
    services.visit_set_status(visit=ticket.visit, new_status=Visit.Status.LEFT, by=None)
    ticket.refresh_from_db()
    assert ticket.status == QueueTicket.Status.CANCELLED


def test_every_change_of_a_queue_raises_its_version():
    department = DepartmentFactory()
    before = selectors.queue_version(department_id=department.pk)
    ticket = _patient(department)
    after_triage = selectors.queue_version(department_id=department.pk)
    _act(ticket, "call")
    after_call = selectors.queue_version(department_id=department.pk)
    assert len({before, after_triage, after_call}) == 3


def test_the_waiting_list_puts_vips_first_then_by_number():
    department = DepartmentFactory()
    first = _patient(department, name="甲")
    person = ClientFactory(name="乙")
    Client.objects.filter(pk=person.pk).update(is_vip=True)
    person.refresh_from_db()
    vip = triaged(walk_in(client=person), department=department)
    board = selectors.queue_board(department=department)
    assert [row.number for row in board.waiting] == [_ticket(vip).label, first.label]
    assert [row.name for row in board.waiting] == ["乙", "甲"]


# --- Triage offers the doctors in clinic today --------------------------------------------


def test_triage_offers_the_doctors_in_clinic_today_and_the_others_on_request():
    department = DepartmentFactory()
    sitting = today_session(department=department, expert=ExpertFactory(departments=[department]))
    away = ExpertFactory(name="休息医生", departments=[department])
    offered = TriageForm(initial={"department": department}).fields["expert"].choices
    assert [value for value, _label in offered] == ["", sitting.expert.pk]
    everyone = TriageForm(initial={"department": department, "all_doctors": True})
    assert [v for v, _label in everyone.fields["expert"].choices] == [
        "",
        sitting.expert.pk,
        away.pk,
    ]


def test_the_doctor_list_shows_all_doctors_when_asked_and_a_hidden_one_may_be_chosen(
    front_desk_client,
):
    department = DepartmentFactory()
    today_session(department=department, expert=ExpertFactory(departments=[department]))
    away = ExpertFactory(name="休息医生", departments=[department])
    url = reverse("guide:triage_doctors")
    assert (
        "休息医生" not in front_desk_client.get(url, {"department": department.pk}).content.decode()
    )
    shown = front_desk_client.get(url, {"department": department.pk, "all_doctors": "on"})
    assert "休息医生" in shown.content.decode()
    visit = walk_in(client=ClientFactory())
    answer = front_desk_client.post(
        reverse("guide:visit_triage", args=[visit.pk]),
        {"department": department.pk, "expert": away.pk, "visit_type": "first"},
    )
    assert answer.status_code == 302
    assert _ticket(visit).expert == away


# --- The calling station ------------------------------------------------------------------


@pytest.mark.parametrize("role", sorted(roles.ALL_ROLES))
def test_only_clinicians_and_administrators_open_the_calling_station(client_for, role):
    DepartmentFactory()
    answer = client_for(role).get(CALLING)
    assert answer.status_code == (200 if role in roles.CALLING_DESK else 403)


def test_the_station_is_not_open_to_anonymous_visitors(client_for):
    answer = client_for(None).get(CALLING)
    assert answer.status_code == 302 and "/accounts/login/" in answer["Location"]


def test_the_station_lists_the_department_waiting_with_their_numbers(clinician_client):
    department, other = DepartmentFactory(), DepartmentFactory()
    _patient(department, name="张小伟")
    _patient(department, name="李娜")
    _patient(other, name="别科人")
    page = clinician_client.get(CALLING, {"department": department.pk})
    body = page.content.decode()
    assert page.status_code == 200
    assert [row.number for row in page.context["board"].waiting] == ["001", "002"]
    assert "张小伟" in body and "李娜" in body and "别科人" not in body
    # Calling a number to the room (叫号), not telephoning the patient (致电).
    assert ">叫号</button>" in body and "致电" not in body
    # The station remembers its department.
    assert clinician_client.get(CALLING).context["board"].department == department


def test_calling_from_the_station_is_audited_and_a_double_click_calls_once(clinician_client):
    department = DepartmentFactory()
    ticket = _patient(department)
    url = reverse("guide:ticket_call", args=[ticket.pk])
    first = clinician_client.post(url, {"seen": ticket.state})
    second = clinician_client.post(url, {"seen": ticket.state})
    assert first.status_code == second.status_code == 302
    assert first["Location"].startswith(CALLING)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.calls) == (QueueTicket.Status.CALLED, 1)
    assert ticket.called_by.username == ROLE_USERNAMES[roles.CLINICIAN]
    audit = AuditEvent.objects.filter(object_type="guide.queueticket", object_id=str(ticket.pk))
    assert audit.count() == 1
    assert audit.get().actor.username == ROLE_USERNAMES[roles.CLINICIAN]


@pytest.mark.parametrize("action", ["call", "recall", "skip", "done"])
def test_station_actions_refuse_get_and_other_roles(client_for, action):
    ticket = _patient(DepartmentFactory())
    url = reverse(f"guide:ticket_{action}", args=[ticket.pk])
    assert client_for(roles.CLINICIAN).get(url).status_code == 405
    assert client_for(roles.FRONT_DESK).post(url).status_code == 403
    ticket.refresh_from_db()
    assert ticket.calls == 0


def test_a_refused_action_is_shown_not_a_server_error(clinician_client):
    ticket = _patient(DepartmentFactory())
    answer = clinician_client.post(
        reverse("guide:ticket_done", args=[ticket.pk]), follow=True, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert answer.status_code == 200
    assert "cannot be" in answer.content.decode()
    assert clinician_client.post(reverse("guide:ticket_call", args=[999999])).status_code == 404


def test_the_station_poll_is_empty_when_nothing_changed(clinician_client):
    department = DepartmentFactory()
    _patient(department)
    page = clinician_client.get(CALLING, {"department": department.pk})
    version = page.context["live"].version
    poll = {"department": department.pk, "expert": "", "since": version}
    assert clinician_client.get(CALLING, poll, HTTP_HX_REQUEST="true").status_code == 204
    _patient(department, name="新来")
    changed = clinician_client.get(CALLING, poll, HTTP_HX_REQUEST="true")
    assert changed.status_code == 200 and "新来" in changed.content.decode()


# --- The waiting-room display -------------------------------------------------------------


def _screen(department, **kwargs):
    return services.display_screen_create(
        name="二楼候诊区", department=department, by=None, **kwargs
    )


def test_the_display_is_public_with_its_token_and_shows_masked_names_only(client_for):
    department = DepartmentFactory(name="皮肤科")
    called = _patient(department, name="张小伟")
    _patient(department, name="欧阳小明")
    _act(called, "call")
    screen = _screen(department)
    assert len(screen.token) >= 40
    page = client_for(None).get(reverse("guide:display", args=[screen.token]))
    body = page.content.decode()
    assert page.status_code == 200
    assert "张*伟" in body and "欧**明" in body and "001" in body and "002" in body
    assert "张小伟" not in body and "欧阳小明" not in body
    assert 'hx-trigger="every 3s"' in body
    assert page["Cache-Control"] == "no-store"


def test_an_unknown_or_revoked_display_link_is_not_found(client_for):
    screen = _screen(DepartmentFactory())
    anonymous = client_for(None)
    assert anonymous.get(reverse("guide:display", args=["x" * 43])).status_code == 404
    services.display_screen_revoke(screen=screen, by=None)
    url = reverse("guide:display", args=[screen.token])
    assert anonymous.get(url).status_code == 404
    poll = anonymous.get(url, {"since": "1"}, HTTP_HX_REQUEST="true")
    assert poll.status_code == 404 and poll["HX-Refresh"] == "true"


def test_the_display_poll_is_one_query_and_empty_when_nothing_changed(
    client_for, django_assert_num_queries
):
    department = DepartmentFactory()
    ticket = _patient(department)
    screen = _screen(department)
    anonymous = client_for(None)
    url = reverse("guide:display", args=[screen.token])
    version = anonymous.get(url).context["live"].version
    with django_assert_num_queries(1):
        unchanged = anonymous.get(url, {"since": version}, HTTP_HX_REQUEST="true")
    assert unchanged.status_code == 204 and unchanged.content == b""
    _act(ticket, "call")
    changed = anonymous.get(url, {"since": version}, HTTP_HX_REQUEST="true")
    assert changed.status_code == 200
    assert changed.context["live"].version != version
    assert "张*伟" in changed.content.decode()


def test_the_display_poll_is_one_query_before_the_first_triage_of_the_day(
    client_for, django_assert_num_queries
):
    screen = _screen(DepartmentFactory())
    url = reverse("guide:display", args=[screen.token])
    version = client_for(None).get(url).context["live"].version
    with django_assert_num_queries(1):
        assert client_for(None).get(url, {"since": version}).status_code == 204


# --- Screens: made and revoked by administrators ------------------------------------------


@pytest.mark.parametrize("role", sorted(roles.ALL_ROLES))
def test_only_administrators_keep_the_screens(client_for, role):
    answer = client_for(role).get(DISPLAYS)
    assert answer.status_code == (200 if role == roles.ADMINISTRATOR else 403)


def test_an_administrator_makes_a_screen_once_and_revokes_it(admin_client_):
    department = DepartmentFactory()
    form = {"name": "二楼候诊区", "department": department.pk, "key": "a" * 32}
    assert admin_client_.post(DISPLAYS, form).status_code == 302
    assert admin_client_.post(DISPLAYS, form).status_code == 302
    screen = DisplayScreen.objects.get()
    page = admin_client_.get(DISPLAYS)
    assert screen.get_absolute_url() in page.content.decode()
    revoke = reverse("guide:display_revoke", args=[screen.pk])
    assert admin_client_.post(revoke).status_code == 302
    assert admin_client_.post(revoke).status_code == 302
    screen.refresh_from_db()
    assert screen.is_revoked
    assert screen.get_absolute_url() not in admin_client_.get(DISPLAYS).content.decode()
    audit = AuditEvent.objects.filter(object_type="guide.displayscreen")
    assert sorted(audit.values_list("action", flat=True)) == ["create", "update"]


def test_a_screen_form_with_no_department_is_refused(admin_client_):
    answer = admin_client_.post(DISPLAYS, {"name": "x", "department": "abc", "key": "b" * 32})
    assert answer.status_code == 422
    assert not DisplayScreen.objects.exists()


def test_the_django_admin_lists_screens_without_their_tokens(admin_client):
    screen = _screen(DepartmentFactory())
    page = admin_client.get(reverse("admin:guide_displayscreen_changelist"))
    assert page.status_code == 200
    assert "二楼候诊区" in page.content.decode() and screen.token not in page.content.decode()
