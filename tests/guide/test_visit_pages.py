"""The visit page: triage, states, charges, and the triage helpers, through the real pages."""

from decimal import Decimal

import pytest
from django.urls import reverse

from guide.models import Charge, Visit
from tests.clientmgmt.factories import ClientFactory
from tests.guide.factories import checked_in, keyword, price, today_session, triaged, walk_in
from tests.zhongdu.factories import DepartmentFactory, ExpertFactory
from zhongdu import roles
from zhongdu.models import AuditEvent

pytestmark = pytest.mark.django_db


def _url(name, visit):
    return reverse(f"guide:{name}", args=[visit.pk])


def test_the_visit_page_shows_the_client_the_triage_form_and_is_audited(front_desk_client):
    visit = checked_in(client=ClientFactory(name="王芳"))
    response = front_desk_client.get(visit.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.content.decode()
    assert "王芳" in html and 'data-testid="triage"' in html
    assert response.context["triage_form"].initial["department"] == visit.department
    assert AuditEvent.objects.filter(
        action="view", object_type="guide.visit", object_id=str(visit.pk)
    ).exists()


def test_triage_sends_the_client_to_the_department_and_back_to_the_board(front_desk_client):
    session = today_session()
    visit = walk_in()
    response = front_desk_client.post(
        _url("visit_triage", visit),
        {
            "department": session.department.pk,
            "expert": session.expert.pk,
            "visit_type": "return",
            "chief_complaint": "手背湿疹反复",
        },
    )
    assert response["Location"] == reverse("guide:today")
    visit.refresh_from_db()
    assert visit.status == Visit.Status.WAITING
    assert (visit.department, visit.expert, visit.visit_type) == (
        session.department,
        session.expert,
        "return",
    )


def test_triage_without_a_department_is_answered_with_the_form_again(front_desk_client):
    visit = walk_in()
    response = front_desk_client.post(
        _url("visit_triage", visit), {"visit_type": "first"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 422
    assert "department" in response.context["triage_form"].errors
    visit.refresh_from_db()
    assert visit.status == Visit.Status.REGISTERED


def test_triage_to_a_doctor_of_another_department_is_refused_with_a_message(front_desk_client):
    visit = walk_in()
    other = ExpertFactory()
    department = DepartmentFactory(name="皮肤科")
    response = front_desk_client.post(
        _url("visit_triage", visit),
        {"department": department.pk, "expert": other.pk, "visit_type": "first"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    # The doctor is not among the department's: the form refuses the choice.
    assert response.status_code == 422
    assert "expert" in response.context["triage_form"].errors


def test_the_doctor_list_follows_the_department_with_queues(front_desk_client):
    session = today_session()
    triaged(walk_in(), department=session.department, expert=session.expert)
    response = front_desk_client.get(
        reverse("guide:triage_doctors"),
        {"department": session.department.pk},
        HTTP_HX_REQUEST="true",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    html = response.content.decode()
    assert html.startswith("<select")
    assert session.expert.name in html and "1 waiting" in html


def test_complaint_keywords_suggest_departments(front_desk_client):
    allergy = DepartmentFactory(name="过敏反应科", floor="3F")
    keyword("荨麻疹", allergy)
    keyword("痒", allergy)
    keyword("痘", DepartmentFactory(name="皮肤科"))
    response = front_desk_client.get(
        reverse("guide:triage_suggest"), {"chief_complaint": "全身荨麻疹，很痒"}
    )
    html = response.content.decode()
    assert "过敏反应科 · 3F" in html and "皮肤科" not in html
    assert front_desk_client.get(reverse("guide:triage_suggest")).content.strip() == b""


def test_the_status_buttons_move_the_visit_along(front_desk_client):
    visit = triaged(walk_in(), department=DepartmentFactory())
    front_desk_client.post(_url("visit_status", visit), {"to": "with_doctor"})
    visit.refresh_from_db()
    assert visit.status == Visit.Status.WITH_DOCTOR
    response = front_desk_client.post(_url("visit_status", visit), {"to": "done", "next": "board"})
    assert response["Location"] == reverse("guide:today")
    visit.refresh_from_db()
    assert visit.status == Visit.Status.DONE


def test_an_impossible_status_change_is_refused_with_a_message(front_desk_client):
    visit = walk_in()
    response = front_desk_client.post(
        _url("visit_status", visit), {"to": "done"}, follow=True, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "cannot go from" in response.content.decode()
    nonsense = front_desk_client.post(_url("visit_status", visit), {"to": "flying"}, follow=True)
    assert nonsense.status_code == 200
    visit.refresh_from_db()
    assert visit.status == Visit.Status.REGISTERED


def test_a_charge_is_added_from_the_price_list_and_totalled(front_desk_client):
    visit = walk_in()
    item = price("ZL010", "380.00")
    response = front_desk_client.post(
        _url("charge_add", visit), {"price_item": item.pk, "quantity": 2}
    )
    assert response["Location"] == visit.get_absolute_url()
    page = front_desk_client.get(visit.get_absolute_url())
    assert page.context["charges_total"] == Decimal("760.00")
    assert Charge.objects.get().amount == Decimal("760.00")


def test_a_bad_charge_shows_the_form_with_its_errors(front_desk_client):
    visit = walk_in()
    response = front_desk_client.post(
        _url("charge_add", visit),
        {"price_item": price().pk, "quantity": "0", "amount": "-5"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 422
    assert {"quantity", "amount"} <= set(response.context["charge_form"].errors)
    assert not Charge.objects.exists()


def test_managers_read_visits_but_change_nothing(client_for):
    visit = walk_in()
    manager = client_for(roles.MANAGER)
    page = manager.get(visit.get_absolute_url())
    assert page.status_code == 200
    assert page.context["triage_form"] is None and page.context["charge_form"] is None
    assert manager.post(_url("visit_status", visit), {"to": "left"}).status_code == 403
    assert manager.post(_url("charge_add", visit), {"quantity": 1}).status_code == 403
    assert client_for(roles.CONSULTANT).get(visit.get_absolute_url()).status_code == 403
    assert client_for(roles.FRONT_DESK).get(_url("visit_detail", Visit(pk=999))).status_code == 404


def test_the_client_page_shows_visits_and_charges_on_the_timeline(front_desk_client):
    visit = triaged(walk_in(client=ClientFactory(name="王芳")), department=DepartmentFactory())
    front_desk_client.post(_url("charge_add", visit), {"price_item": price().pk, "quantity": 1})
    response = front_desk_client.get(visit.client.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    visits = [entry for entry in response.context["timeline"] if entry.kind == "visit"]
    assert len(visits) == 1
    assert visits[0].url == visit.get_absolute_url()
    assert "charged ¥20.00" in visits[0].detail
