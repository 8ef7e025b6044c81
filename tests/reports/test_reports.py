"""The managers' reports: each figure exact on a small known dataset, empty periods, rollups
that take late data in, the monthly report and its pack, access, query counts, the export."""

import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from complaints import services as complaints
from consult.models import Booking
from followup import services as followup
from guide import services as guide
from guide.models import Charge, Visit
from reports import figures, packs, rollups, satisfaction, selectors
from reports.models import DailyFigure, MonthlyReport
from surveys import services as surveys
from surveys.models import SurveyResponse
from tests.clientmgmt.factories import ClientFactory
from tests.consult.factories import make_booking, make_enquiry
from tests.guide.factories import booked_today, checked_in, price, triaged, walk_in
from tests.surveys.factories import all_answers, satisfaction_survey
from tests.zhongdu.factories import DepartmentFactory
from zhongdu import roles
from zhongdu.models import AuditEvent, Channel, Notification

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def tv():
    return Channel.objects.create(name="电视", kind=Channel.Kind.TV)


def _today_value(key, slot=("", 0)):
    return figures.BY_KEY[key].compute(timezone.localdate()).get(slot, 0)


def test_each_days_figure_counts_what_its_definition_says(tv):
    skin = DepartmentFactory(name="皮肤科")
    person = ClientFactory(source_channel=tv)
    make_enquiry(marketing_channel=tv)
    make_enquiry()
    booking = booked_today(client=person)
    visit = triaged(guide.visit_check_in(booking=booking, by=None), department=skin)
    guide.charge_add(visit=visit, price_item=price(amount="150.00"), quantity=2, by=None)
    voided = guide.charge_add(visit=visit, price_item=price("ZL1", "99.00"), by=None)
    guide.charge_void(charge=voided, reason="录错", by=None)
    walk_in(client=ClientFactory())
    assert _today_value("enquiries") == 2
    assert _today_value("enquiries", ("channel", tv.pk)) == 1
    assert _today_value("bookings") == 1
    assert _today_value("bookings", ("channel", tv.pk)) == 1
    assert _today_value("arrivals") == 2
    assert _today_value("arrivals", ("department", skin.pk)) == 1
    assert _today_value("arrivals", ("channel", tv.pk)) == 1
    assert _today_value("first_visits") == 2
    assert _today_value("revenue") == Decimal("300.00")
    assert _today_value("revenue", ("channel", tv.pk)) == Decimal("300.00")
    assert _today_value("bookings_due") == 1


def test_no_shows_and_sms_and_calls_are_counted_on_their_day():
    day = timezone.localdate() - datetime.timedelta(days=1)
    from tests.consult.factories import past_session

    kept = make_booking(session=past_session(1))
    Booking.objects.filter(pk=kept.pk).update(status=Booking.Status.ARRIVED)
    missed = make_booking(session=past_session(1))
    Booking.objects.filter(pk=missed.pk).update(status=Booking.Status.NO_SHOW)
    cancelled = make_booking(session=past_session(1))
    Booking.objects.filter(pk=cancelled.pk).update(status=Booking.Status.CANCELLED)
    values = figures.compute_day(day)
    assert values["bookings_due"][("", 0)] == 2
    assert values["no_shows"][("", 0)] == 1
    assert figures.rate(1, 2) == 50.0 and figures.rate(1, 0) is None


def test_an_empty_day_and_an_empty_month_are_zero_not_errors(manager_client):
    values = figures.compute_day(datetime.date(2020, 1, 1))
    assert all(v == {("", 0): 0} for v in values.values())
    data = satisfaction.compute(datetime.date(2020, 1, 1))
    assert data["responses"]["total"] == 0
    assert data["overall"]["average"] is None and data["nps"]["score"] is None
    assert data["invitations"]["rate"] is None and data["calls"]["completion"] is None
    response = manager_client.get(reverse("reports:satisfaction"), {"month": "2020-01"})
    assert response.status_code == 200
    assert b'data-testid="no-responses"' in response.content


def test_rollups_take_late_data_in_and_the_month_sums_them():
    today = timezone.localdate()
    yesterday = today - datetime.timedelta(days=1)
    visit = walk_in()
    Visit.objects.filter(pk=visit.pk).update(day=yesterday)
    rollups.refresh(days=2)
    row = DailyFigure.objects.get(day=yesterday, key="arrivals", dimension="")
    assert row.value == 1
    # A charge imported late, dated yesterday: the next refresh takes it in.
    charge = guide.charge_add(visit=visit, price_item=price(amount="80.00"), by=None)
    Charge.objects.filter(pk=charge.pk).update(
        charged_at=timezone.now() - datetime.timedelta(days=1)
    )
    rollups.refresh(days=2)
    revenue = DailyFigure.objects.get(day=yesterday, key="revenue", dimension="")
    assert revenue.value == Decimal("80.00")
    walk_in()  # today, after the last refresh
    month_start = today.replace(day=1)
    totals = rollups.period_figures(min(month_start, yesterday), today)
    assert totals["arrivals"][("", 0)] == 1  # today's rollups are fresh: at most ten minutes old
    DailyFigure.objects.filter(day=today).update(
        computed_at=timezone.now() - rollups.FRESH - datetime.timedelta(seconds=1)
    )
    totals = rollups.period_figures(min(month_start, yesterday), today)
    assert totals["arrivals"][("", 0)] == 2  # older: recomputed before they are read
    assert totals["revenue"][("", 0)] == Decimal("80.00")


def _answered(template, *, score, recommend, comment="", department=None, when=None):
    visit = walk_in()
    if department is not None:
        visit = triaged(visit, department=department)
    invitation = surveys.invitation_for_visit(visit=visit)
    response = surveys.survey_submit(
        invitation=invitation,
        answers=all_answers(template, score=score, recommend=recommend, comment=comment),
    )
    if when is not None:
        SurveyResponse.objects.filter(pk=response.pk).update(submitted_at=when)
    guide.visit_set_status(visit=Visit.objects.get(pk=visit.pk), new_status="left", by=None)
    return response


def test_the_monthly_report_figures_are_exact(tv):
    template = satisfaction_survey()
    skin = DepartmentFactory(name="皮肤科")
    _answered(template, score=5, recommend=10, department=skin)
    _answered(template, score=4, recommend=9, department=skin)
    _answered(template, score=2, recommend=3, comment="等太久")
    data = satisfaction.compute(timezone.localdate())
    assert data["responses"]["total"] == 3
    assert data["overall"]["average"] == round((5 + 4 + 2) / 3, 2)
    assert data["dimensions"]["doctor"] == {"average": round(11 / 3, 2), "count": 3}
    # NPS: 2 promoters (10, 9), 1 detractor (3) of 3 answers = round(100 * 1 / 3).
    assert data["nps"] == {
        "score": 33,
        "average": round(22 / 3, 2),
        "count": 3,
        "promoters": 2,
        "detractors": 1,
    }
    assert data["invitations"] == {"sent": 3, "answered": 3, "rate": 100.0}
    skin_row = next(row for row in data["departments"] if row["name"] == "皮肤科")
    assert skin_row["average"] == 4.5 and skin_row["responses"] == 2
    assert [row["comment"] for row in data["lowest"]] == ["等太久"]
    assert data["trend"][-1]["responses"] == 3 and len(data["trend"]) == 12


def test_unanswered_calls_still_count_on_the_day_they_were_planned_for():
    """Four calls due today: one reached, two unanswered (they come back on the next working
    day), one not made yet. Due 4, made 1, whatever the retries did to their due dates."""
    today = timezone.localdate()
    calls = [followup.call_create(client=ClientFactory(), due_on=today) for _n in range(4)]
    followup.call_record(call=calls[0], by=None, outcome="reached")
    for call in calls[1:3]:
        followup.call_record(call=call, by=None, outcome="no_answer")
        call.refresh_from_db()
        assert call.due_on > today and call.planned_on == today
    assert _today_value("calls_due") == 4
    assert _today_value("calls_done") == 1


def test_the_trend_counts_responses_as_the_report_does():
    """A response with a recommend score but no 1-5 answer is a response in the month's total;
    the live trend (this month) counts it too, as the cached months do."""
    from surveys.models import Dimension, SurveyAnswer

    template = satisfaction_survey()
    _answered(template, score=4, recommend=9)
    only_recommend = SurveyResponse.objects.create(
        template=template, source=SurveyResponse.Source.SURVEY, client=ClientFactory(), recommend=8
    )
    SurveyAnswer.objects.create(response=only_recommend, dimension=Dimension.RECOMMEND, score=8)
    data = satisfaction.compute(timezone.localdate())
    assert data["responses"]["total"] == 2
    assert data["trend"][-1]["responses"] == 2


def test_a_month_with_no_answers_still_shows_complaints_and_calls():
    person = ClientFactory()
    complaints.complaint_create(client=person, by=None, words="收费不清楚", category="billing")
    followup.call_create(client=person, due_on=timezone.localdate())
    data = satisfaction.compute(timezone.localdate())
    assert data["responses"]["total"] == 0
    assert data["complaints"]["total"] == 1
    assert data["complaints"]["by_category"]["billing"] == 1
    assert data["calls"]["due"] == 1 and data["calls"]["completion"] == 0.0


def test_a_closed_month_is_cached_and_the_pack_never_changes(manager_client):
    template = satisfaction_survey()
    last_month = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    when = timezone.make_aware(datetime.datetime.combine(last_month, datetime.time(10)))
    _answered(template, score=5, recommend=10, when=when)
    pack = packs.pack_generate(month=last_month)
    assert pack is not None and packs.pack_generate(month=last_month) is None
    assert pack.data["responses"]["total"] == 1
    # Late data for that month: the live report sees it, the pack does not.
    _answered(template, score=1, recommend=0, when=when)
    satisfaction.cache_month(last_month)
    assert satisfaction.report_for(last_month)["responses"]["total"] == 2
    pack.refresh_from_db()
    assert pack.data["responses"]["total"] == 1
    page = manager_client.get(reverse("reports:pack_detail", args=[pack.pk]))
    assert page.status_code == 200 and page.context["data"]["responses"]["total"] == 1


def test_the_pack_is_made_on_the_first_working_day_and_managers_are_told(role_user):
    manager = role_user(roles.MANAGER)
    month = timezone.localdate().replace(day=1)
    first = packs.first_working_day(month)
    told = []
    assert packs.pack_due(today=first + datetime.timedelta(days=1), notify=told.append) is None
    pack = packs.pack_due(today=first, notify=told.append)
    assert pack is not None and told == [pack]
    assert packs.pack_due(today=first, notify=told.append) is None
    assert packs.notify_managers(pack) == 1
    note = Notification.objects.get(recipient=manager)
    assert "is ready" in note.text and note.url == reverse("reports:pack_detail", args=[pack.pk])


@pytest.mark.parametrize("role", sorted(roles.ALL_ROLES))
def test_only_managers_and_administrators_read_the_reports(client_for, role):
    allowed = role in {roles.MANAGER, roles.ADMINISTRATOR}
    for name in ("reports:dashboard", "reports:satisfaction", "reports:pack_list"):
        status = client_for(role).get(reverse(name)).status_code
        assert (status == 200) == allowed, (name, status)


def test_the_dashboard_shows_each_figure_with_its_definition_and_link(manager_client, tv):
    make_enquiry(marketing_channel=tv)
    checked_in()
    response = manager_client.get(reverse("reports:dashboard"), HTTP_ACCEPT_LANGUAGE="en")
    rows = response.context["by_key"]
    assert rows["enquiries"].today == 1 and rows["arrivals"].month == 1
    html = response.content.decode()
    assert str(figures.BY_KEY["arrivals"].definition) in html
    assert reverse("guide:daily") in html
    funnel = {row["name"]: row for row in response.context["channels"]}
    assert funnel["电视"]["enquiries"] == 1


def test_the_dashboard_runs_the_same_queries_whatever_the_data(
    manager_client, django_assert_num_queries
):
    walk_in()
    rollups.refresh(days=3)
    manager_client.get(reverse("reports:dashboard"))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as first:
        manager_client.get(reverse("reports:dashboard"))
    for _n in range(5):
        walk_in()
        make_enquiry()
    rollups.refresh(days=3)
    with django_assert_num_queries(len(first)):
        manager_client.get(reverse("reports:dashboard"))


def test_the_report_exports_to_excel_and_the_export_is_audited(manager_client):
    template = satisfaction_survey()
    _answered(template, score=4, recommend=8, comment="=SUM(A1)")
    response = manager_client.get(reverse("reports:satisfaction_export"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    summary = book.worksheets[0]
    assert summary.cell(2, 2).value == 1  # responses this month
    lowest = book["Lowest rated"]
    assert lowest.max_row == 1  # 4/5 and 8/10 are not low
    assert AuditEvent.objects.filter(action="export", object_type="reports.satisfaction").exists()


def test_a_bad_month_gets_a_message_not_an_error(manager_client):
    response = manager_client.get(
        reverse("reports:satisfaction"), {"month": "2026-13"}, follow=True
    )
    assert response.status_code == 200
    future = manager_client.get(reverse("reports:satisfaction"), {"month": "2999-01"})
    assert future.status_code == 200
    assert MonthlyReport.objects.filter(is_pack=True).count() == 0


def test_the_selectors_put_the_month_to_date_together():
    walk_in()
    data = selectors.dashboard()
    assert data["by_key"]["arrivals"].today == 1
    assert {rate["label"] for rate in data["rates"]}


def test_a_long_chart_label_is_cut_before_it_is_escaped():
    from reports.templatetags.report_charts import bar_chart

    svg = bar_chart([{"name": "A" * 16 + "&<x", "average": 3}], value_key="average")
    assert ">AAAAAAAAAAAAAAAA&amp;&lt;</text>" in svg
    assert "&am<" not in svg and "&amp;&lt;x: 3.00" in svg
