"""The front desk's arrival services: check-in, walk-ins, triage, visit states, charges."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from clientmgmt import services as client_services
from clientmgmt.models import Client
from clientmgmt.registry import visited_condition
from consult.models import Booking, BookingEvent
from guide import selectors, services
from guide.models import Charge, Visit, VisitEvent
from tests.clientmgmt.factories import ClientFactory
from tests.consult.factories import future_session, make_booking, make_vip
from tests.guide.factories import (
    booked_today,
    checked_in,
    issue_card,
    price,
    today_session,
    triaged,
    walk_in,
)
from tests.zhongdu.factories import DepartmentFactory, ExpertFactory
from zhongdu.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_checking_in_a_booking_makes_a_visit_to_the_booked_department_and_expert():
    booking = booked_today()
    visit = services.visit_check_in(booking=booking, by=None)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.ARRIVED
    assert visit.booking == booking
    assert visit.status == Visit.Status.REGISTERED
    assert visit.department == booking.session.department
    assert visit.expert == booking.session.expert
    assert visit.day == timezone.localdate()
    assert BookingEvent.objects.filter(booking=booking, to_status="arrived").exists()
    assert VisitEvent.objects.filter(visit=visit, action="arrived").count() == 1
    assert AuditEvent.objects.filter(object_type="guide.visit", action="create").exists()


def test_a_visit_marks_the_client_as_a_patient_seen_today():
    client = ClientFactory(is_patient=False)
    visit = walk_in(client=client)
    client.refresh_from_db()
    assert client.is_patient
    assert client.last_visit_at == visit.arrived_at


def test_only_todays_live_bookings_can_be_checked_in():
    tomorrow = make_booking(session=future_session(days=1))
    with pytest.raises(ValidationError, match="today"):
        services.visit_check_in(booking=tomorrow, by=None)
    booking = booked_today()
    services.visit_check_in(booking=booking, by=None)
    booking.refresh_from_db()
    with pytest.raises(services.IllegalTransition):
        services.visit_check_in(booking=booking, by=None)
    assert Visit.objects.count() == 1


def test_a_walk_in_who_has_a_booking_today_is_checked_in_on_it():
    booking = booked_today()
    visit = services.visit_register_walk_in(client=booking.client, by=None)
    assert visit.booking == booking
    booking.refresh_from_db()
    assert booking.status == Booking.Status.ARRIVED


def test_a_client_already_here_is_not_registered_twice():
    first = walk_in()
    with pytest.raises(services.AlreadyHere) as caught:
        services.visit_register_walk_in(client=first.client, by=None)
    assert caught.value.visit == first
    assert Visit.objects.count() == 1


def test_the_database_refuses_a_second_open_visit_for_one_client():
    first = walk_in()
    with pytest.raises(IntegrityError), transaction.atomic():
        Visit.objects.create(client=first.client, day=first.day)


def test_a_client_may_come_back_later_the_same_day_once_their_visit_is_over():
    first = triaged(walk_in(), department=DepartmentFactory())
    services.visit_set_status(visit=first, new_status="with_doctor", by=None)
    services.visit_set_status(visit=first, new_status="done", by=None)
    second = services.visit_register_walk_in(client=first.client, by=None)
    assert second.pk != first.pk
    assert second.visit_type == Visit.Type.RETURN


def test_the_visit_type_is_guessed_from_the_booking_the_card_and_earlier_visits():
    assert walk_in().visit_type == Visit.Type.FIRST
    exam = booked_today(kind=Booking.Kind.EXAM)
    assert services.visit_check_in(booking=exam, by=None).visit_type == Visit.Type.EXAM
    member = issue_card().client
    assert walk_in(client=member).visit_type == Visit.Type.MEMBER


def test_a_vip_visit_is_a_priority():
    client = make_vip(ClientFactory())
    assert walk_in(client=client).priority


def test_triage_sends_an_arrival_to_a_department_and_the_doctor_sitting_today():
    session = today_session()
    visit = walk_in()
    escort = None
    visit = services.visit_triage(
        visit=visit,
        department=session.department,
        expert=session.expert,
        visit_type=Visit.Type.RETURN,
        chief_complaint="  面部红疹  ",
        escort=escort,
        by=None,
    )
    assert visit.status == Visit.Status.WAITING
    assert visit.session == session
    assert visit.chief_complaint == "面部红疹"
    assert visit.visit_type == Visit.Type.RETURN
    assert visit.triaged_at is not None


def test_a_doctor_of_another_department_is_refused():
    visit = walk_in()
    with pytest.raises(ValidationError, match="department"):
        services.visit_triage(
            visit=visit, department=DepartmentFactory(), expert=ExpertFactory(), by=None
        )
    visit.refresh_from_db()
    assert visit.status == Visit.Status.REGISTERED


def test_someone_already_waiting_can_be_sent_elsewhere_without_a_second_status_change():
    visit = triaged(walk_in(), department=DepartmentFactory(name="皮肤科"))
    other = DepartmentFactory(name="过敏反应科")
    visit = services.visit_triage(visit=visit, department=other, by=None)
    assert visit.department == other
    assert visit.status == Visit.Status.WAITING
    assert visit.events.filter(action="status").count() == 1


def test_the_visit_moves_through_its_states_and_stamps_each_step():
    visit = triaged(walk_in(), department=DepartmentFactory())
    visit = services.visit_set_status(visit=visit, new_status="with_doctor", by=None)
    assert visit.seen_at is not None
    visit = services.visit_set_status(visit=visit, new_status="done", by=None)
    assert visit.finished_at is not None
    assert visit.waiting_minutes == 0
    with pytest.raises(services.IllegalTransition):
        services.visit_set_status(visit=visit, new_status="waiting", by=None)
    with pytest.raises(ValidationError):
        services.visit_triage(visit=visit, department=DepartmentFactory(), by=None)


def test_an_arrival_cannot_skip_triage_to_the_doctor_but_may_leave():
    visit = walk_in()
    with pytest.raises(services.IllegalTransition):
        services.visit_set_status(visit=visit, new_status="with_doctor", by=None)
    visit = services.visit_set_status(visit=visit, new_status="left", by=None)
    assert visit.status == Visit.Status.LEFT and visit.finished_at is not None


def test_a_charge_is_the_list_price_times_the_quantity_unless_billed_otherwise():
    visit = walk_in()
    item = price("ZL001", "150.00")
    charge = services.charge_add(visit=visit, price_item=item, quantity=3, by=None)
    assert charge.amount == Decimal("450.00")
    assert charge.client == visit.client
    discounted = services.charge_add(
        visit=visit, price_item=item, quantity=1, amount=Decimal("120"), by=None
    )
    assert discounted.amount == Decimal("120.00")
    assert selectors.client_spend(client_id=visit.client_id) == Decimal("570.00")


@pytest.mark.parametrize(
    "change, message",
    [
        ({"quantity": 0}, "at least 1"),
        ({"amount": Decimal("-1")}, "negative"),
    ],
)
def test_a_bad_charge_is_refused_with_a_reason(change, message):
    visit = walk_in()
    with pytest.raises(ValidationError, match=message):
        services.charge_add(visit=visit, price_item=price(), by=None, **({"quantity": 1} | change))


def test_nothing_is_charged_to_someone_who_left_or_for_an_item_no_longer_listed():
    visit = walk_in()
    stale = price("OLD01", active=False)
    with pytest.raises(ValidationError, match="no longer"):
        services.charge_add(visit=visit, price_item=stale, by=None)
    services.visit_set_status(visit=visit, new_status="left", by=None)
    with pytest.raises(ValidationError, match="left"):
        services.charge_add(visit=visit, price_item=price(), by=None)


def test_a_voided_charge_stays_on_record_but_leaves_the_spend():
    visit = walk_in()
    charge = services.charge_add(visit=visit, price_item=price(), by=None)
    with pytest.raises(ValidationError):
        services.charge_void(charge=charge, reason=" ", by=None)
    services.charge_void(charge=charge, reason="录入错误", by=None)
    assert Charge.objects.get().is_void
    assert selectors.client_spend(client_id=visit.client_id) == Decimal("0.00")
    with pytest.raises(ValidationError, match="already"):
        services.charge_void(charge=charge, reason="again", by=None)


def test_spend_can_be_counted_over_a_period():
    visit = walk_in()
    charge = services.charge_add(visit=visit, price_item=price(amount="99.00"), by=None)
    last_year = timezone.now() - datetime.timedelta(days=400)
    Charge.objects.filter(pk=charge.pk).update(charged_at=last_year)
    services.charge_add(visit=visit, price_item=price("GH002", "1.00"), by=None)
    since = timezone.now() - datetime.timedelta(days=365)
    assert selectors.client_spend(client_id=visit.client_id, since=since) == Decimal("1.00")


def test_merging_two_records_moves_visits_charges_and_cards_to_the_survivor(django_user_model):
    by = django_user_model.objects.create_user("merger")
    survivor, duplicate = ClientFactory(), ClientFactory(name="张伟")
    visit = walk_in(client=duplicate)
    services.charge_add(visit=visit, price_item=price(), by=None)
    issue_card(client=duplicate)
    client_services.client_merge(survivor=survivor, merged=duplicate, by=by)
    assert list(survivor.visits.all()) == [visit]
    assert survivor.charges.count() == 1
    assert survivor.membership_cards.count() == 1


def test_a_merge_is_refused_when_both_records_hold_a_live_card(django_user_model):
    by = django_user_model.objects.create_user("merger")
    survivor, duplicate = ClientFactory(), ClientFactory()
    issue_card(client=survivor, number="ZD00000001")
    issue_card(client=duplicate, number="ZD00000002")
    with pytest.raises(ValidationError, match="membership card"):
        client_services.client_merge(survivor=survivor, merged=duplicate, by=by)
    assert Client.objects.get(pk=duplicate.pk).status == Client.Status.ACTIVE


def test_a_merge_is_refused_while_both_records_have_a_visit_in_progress(django_user_model):
    by = django_user_model.objects.create_user("merger")
    survivor, duplicate = ClientFactory(), ClientFactory()
    walk_in(client=survivor)
    walk_in(client=duplicate)
    with pytest.raises(ValidationError, match="visit in progress"):
        client_services.client_merge(survivor=survivor, merged=duplicate, by=by)


def test_a_triaged_visit_counts_as_a_visit_to_its_department_for_campaign_segments():
    department = DepartmentFactory()
    client = triaged(walk_in(), department=department).client
    assert list(Client.objects.filter(visited_condition(department.pk))) == [client]


def test_doctors_on_duty_put_those_sitting_now_first_with_their_queue():
    department = DepartmentFactory()
    sitting = today_session(department=department, expert=ExpertFactory(departments=[department]))
    later = today_session(
        department=department,
        expert=ExpertFactory(departments=[department]),
        start_time=datetime.time(23, 58),
    )
    triaged(walk_in(), department=department, expert=sitting.expert)
    doctors = selectors.doctors_on_duty(department=department)
    assert [d.expert for d in doctors] == [sitting.expert, later.expert]
    assert [d.queue for d in doctors] == [1, 0]
    assert doctors[0].now_sitting


def test_checked_in_factories_agree_with_the_board():
    visit = checked_in()
    board = selectors.board()
    assert [(row.client_id, row.state) for row in board.rows] == [
        (visit.client_id, Visit.Status.REGISTERED)
    ]


def test_nothing_new_is_written_for_a_merged_record(django_user_model):
    by = django_user_model.objects.create_user("merger")
    survivor, duplicate = ClientFactory(), ClientFactory()
    client_services.client_merge(survivor=survivor, merged=duplicate, by=by)
    duplicate.refresh_from_db()
    with pytest.raises(ValidationError, match="merged"):
        services.visit_register_walk_in(client=duplicate, by=None)
    with pytest.raises(ValidationError, match="merged"):
        issue_card(client=duplicate)
    assert not Visit.objects.exists()
