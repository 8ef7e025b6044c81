"""The dashboard's charts: the last 30 days, conversion by channel and satisfaction over twelve
months, each drawn on the server with its numbers in a table a screen reader reads; the same
numbers as the figures; an empty centre draws without error; two queries more, whatever the
data."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from guide.models import Visit
from reports import rollups, satisfaction, selectors
from tests.clientmgmt.factories import ClientFactory
from tests.consult.factories import make_enquiry
from tests.guide.factories import booked_today, checked_in, walk_in
from tests.html_tables import table_rows
from tests.reports.test_reports import _answered
from tests.surveys.factories import satisfaction_survey
from zhongdu.models import Channel

pytestmark = pytest.mark.django_db

DAILY_TITLE = "Enquiries, bookings and arrivals, the last 30 days"


def _dashboard(client):
    response = client.get(reverse("reports:dashboard"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return response, response.content.decode()


def test_the_daily_chart_gives_each_of_the_30_days_its_numbers(manager_client):
    today = timezone.localdate()
    tv = Channel.objects.create(name="电视", kind=Channel.Kind.TV)
    make_enquiry(marketing_channel=tv)
    make_enquiry(marketing_channel=tv)
    make_enquiry()
    booked_today(client=ClientFactory(source_channel=tv))
    checked_in()
    earlier = walk_in()
    Visit.objects.filter(pk=earlier.pk).update(day=today - datetime.timedelta(days=3))
    rollups.refresh(days=5)
    response, html = _dashboard(manager_client)
    rows = table_rows(html, "daily-figures")
    assert rows[0] == ["Day", "Enquiries", "Bookings made", "Arrivals"]
    by_day = {row[0]: row[1:] for row in rows[1:]}
    assert len(by_day) == 30 and min(by_day) == f"{today - datetime.timedelta(days=29)}"
    figures = response.context["by_key"]
    assert by_day[f"{today}"] == [
        str(int(figures[key].today)) for key in ("enquiries", "bookings", "arrivals")
    ]
    assert by_day[f"{today}"][0] == "3" and by_day[f"{today}"][2] == "1"
    assert by_day[f"{today - datetime.timedelta(days=3)}"] == ["0", "0", "1"]
    assert by_day[f"{today - datetime.timedelta(days=1)}"] == ["0", "0", "0"]
    assert f'aria-label="{DAILY_TITLE}"' in html
    assert f"<title>Arrivals, {today:%m-%d}: 1</title>" in html
    assert 'data-testid="daily-empty"' not in html


def test_the_conversion_chart_draws_each_channels_booking_rate(manager_client):
    tv = Channel.objects.create(name="电视", kind=Channel.Kind.TV)
    make_enquiry(marketing_channel=tv)
    make_enquiry(marketing_channel=tv)
    booked_today(client=ClientFactory(source_channel=tv))
    response, html = _dashboard(manager_client)
    row = next(row for row in response.context["channels"] if row["name"] == "电视")
    assert row["booking_rate"] is not None
    # Drawn from the funnel's own key, printed beside its bar and given in the funnel table.
    assert f"<title>电视: {row['booking_rate']:.1f}%</title>" in html
    assert 'aria-label="Enquiry → booking by channel"' in html
    funnel = {cells[0]: cells for cells in table_rows(html, "funnel")[1:]}
    assert funnel["电视"][3] == f"{row['booking_rate']}%"


def test_the_satisfaction_chart_gives_the_twelve_months(manager_client):
    template = satisfaction_survey()
    _answered(template, score=4, recommend=9)
    _answered(template, score=5, recommend=10)
    satisfaction.cache_month(timezone.localdate())  # as beat keeps it
    _response, html = _dashboard(manager_client)
    rows = table_rows(html, "satisfaction-trend")
    assert rows[0] == ["Month", "Overall", "Responses"]
    assert len(rows) == 1 + satisfaction.TREND_MONTHS
    expected = satisfaction.compute(timezone.localdate())
    assert rows[-1] == [
        f"{timezone.localdate():%Y-%m}",
        f"{expected['overall']['average']:.2f}",
        "2",
    ]
    assert rows[1][1:] == ["—", "0"]  # eleven months ago: nothing
    assert 'aria-label="Satisfaction over twelve months (overall, 1–5)"' in html
    assert 'data-testid="satisfaction-empty"' not in html


def test_an_empty_centre_draws_its_charts_without_error(manager_client):
    _response, html = _dashboard(manager_client)
    assert 'data-testid="daily-empty"' in html
    assert 'data-testid="satisfaction-empty"' in html
    assert "Enquiry → booking by channel" not in html
    rows = table_rows(html, "daily-figures")
    assert len(rows) == 31 and all(row[1:] == ["0", "0", "0"] for row in rows[1:])


def test_the_charts_read_two_queries_when_the_month_is_kept(django_assert_num_queries):
    today = timezone.localdate()
    walk_in()
    rollups.refresh(days=2)
    satisfaction.cache_month(today)
    with django_assert_num_queries(2):  # the 30 days' rollups; the kept month's trend
        charts = selectors.dashboard_charts(today, channels=[])
    assert charts["daily"]["rows"][-1][1][2] == 1  # today's arrival
    for _n in range(5):
        walk_in()
    rollups.refresh(days=2)
    with django_assert_num_queries(2):
        selectors.dashboard_charts(today, channels=[])
