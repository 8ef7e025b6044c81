"""The team report of an enterprise's exam round (/vip/enterprises/<id>/exam-report/): who is
counted, the tables by age band and sex with groups under five hidden (complementary
suppression), the comparison with the previous round, the PDF, the handover to the enterprise's
contact, access and the query count."""

import datetime
import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clientmgmt.consent import EMPLOYER_AGGREGATE
from clientmgmt.models import Client
from exams import teams
from exams.models import ExamRound
from guide.models import ExamOrder
from tests.clientmgmt.factories import ClientFactory, grant
from tests.exams.factories import (
    choice_definition,
    finding,
    number_definition,
    order_with,
    record,
    release,
)
from tests.exams.test_suppression import attack, determined
from tests.vip.factories import enterprise as make_enterprise
from vip.models import EnterpriseMember
from zhongdu import roles
from zhongdu.models import AuditEvent

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
JUNE = (datetime.date(2026, 6, 1), datetime.date(2026, 6, 30))
MARCH = (datetime.date(2026, 3, 1), datetime.date(2026, 3, 31))
# Ages on 1 June 2026.
BORN = {
    "u30": datetime.date(1998, 7, 1),
    "30": datetime.date(1990, 1, 1),
    "40": datetime.date(1980, 1, 1),
    "50": datetime.date(1970, 1, 1),
    "na": None,
}
_phones = itertools.count(1)


@pytest.fixture
def exam():
    """Two examinations pointing to findings: a fungal microscopy (阳性 abnormal) and a count
    whose high values point to acne (for the sake of the test)."""
    fungal = finding("fungal", "真菌感染")
    acne = finding("acne", "痤疮")
    return {
        "fungal": choice_definition("JC102", finding=fungal),
        "acne": number_definition("JC101", finding=acne),
        "fungal_finding": fungal,
        "acne_finding": acne,
    }


@pytest.fixture
def company():
    return make_enterprise(
        name="郑州重工集团", contact_name="王经理", contact_phone="+8613912345678"
    )


def exam_round(company, dates=JUNE, name="2026年度体检"):
    return ExamRound.objects.create(
        enterprise=company, name=name, starts_on=dates[0], ends_on=dates[1], advice="建议加强防晒。"
    )


def employee(
    company,
    exam,
    *,
    band="30",
    sex=Client.Sex.FEMALE,
    consent=True,
    fungal=False,
    acne=False,
    critical=False,
    day=JUNE[0] + datetime.timedelta(days=3),
    released=True,
    member=True,
):
    """An employee examined on `day` (both examinations), with results recorded and released."""
    person = ClientFactory(sex=sex, date_of_birth=BORN[band], phone=f"+86137{next(_phones):08d}")
    if member:
        EnterpriseMember.objects.create(enterprise=company, client=person)
    if consent:
        grant(person, EMPLOYER_AGGREGATE)
    order = order_with(exam["fungal"], exam["acne"], client=person)
    at = timezone.make_aware(datetime.datetime.combine(day, datetime.time(9, 30)))
    ExamOrder.objects.filter(pk=order.pk).update(ordered_at=at)
    record(order, exam["fungal"], text="阳性" if fungal else "阴性")
    record(order, exam["acne"], number="40" if critical else ("12" if acne else "5"))
    if released:
        release(order)
    return person


def group(company, exam, n, **kwargs):
    return [employee(company, exam, **kwargs) for _i in range(n)]


def report_url(company, exam_round=None):
    url = reverse("teams:report", args=[company.pk])
    return f"{url}?round={exam_round.pk}" if exam_round else url


def test_only_consenting_employees_with_released_results_in_the_round_are_counted(company, exam):
    june = exam_round(company)
    group(company, exam, 6, fungal=True)  # counted
    employee(company, exam, consent=False, fungal=True)  # examined, not counted
    employee(company, exam, member=False, fungal=True)  # not an employee
    employee(company, exam, released=False, fungal=True)  # results not released
    employee(company, exam, day=JUNE[1] + datetime.timedelta(days=1), fungal=True)  # too late
    employee(company, exam, day=JUNE[0] - datetime.timedelta(days=1), fungal=True)  # too early
    employee(company, exam, day=JUNE[1], fungal=True)  # on the last day: in
    data = teams.report(june)
    assert data.people.values[-1][-1] == 7
    # Examined: the seven and the one who did not agree. The one would be the difference of
    # examined and counted: the examined figure is hidden; the counted one (the people
    # table's grand total, 7) is shown.
    assert data.examined is None and data.counted == 7
    assert not hasattr(data, "not_counted")
    fungal = next(row for row in data.findings if row.name == "真菌感染")
    assert fungal.table.values[-1][-1] == 7
    assert data.members == 11  # every employee on the account (the non-member is not)


def test_examined_and_counted_are_shown_when_their_difference_is_large(company, exam, client_for):
    june = exam_round(company)
    group(company, exam, 6)
    group(company, exam, 5, consent=False)
    data = teams.report(june)
    assert (data.members, data.examined, data.counted) == (11, 11, 6)
    # Those who did not agree are not a figure of the report.
    page = client_for(roles.VIP_MANAGER).get(report_url(company, june), **EN)
    participation = page.content.decode().split('data-testid="participation"')[1]
    participation = participation.split("</table>")[0]
    assert "Examined in the round" in participation and "Counted in this report" in participation
    assert "not counted" not in participation.lower()
    assert participation.count("<tr>") == 3


def test_findings_are_ordered_by_the_count_shown_hidden_counts_last(company, exam):
    june = exam_round(company)
    # Fungal: 3 in one group of ten (hidden, and with it the finding's total); acne: 5 (shown).
    # By the true totals fungal (8 with the five below) would come first.
    group(company, exam, 3, band="30", sex=Client.Sex.FEMALE, fungal=True)
    group(company, exam, 7, band="30", sex=Client.Sex.FEMALE)
    group(company, exam, 5, band="40", sex=Client.Sex.MALE, acne=True, fungal=True)
    group(company, exam, 5, band="40", sex=Client.Sex.MALE)
    data = teams.report(june)
    assert [(row.name, row.now) for row in data.findings] == [("痤疮", 5), ("真菌感染", None)]
    assert data.findings[1].table.values[-1][-1] == 8


def test_people_by_age_band_and_sex(company, exam):
    june = exam_round(company)
    group(company, exam, 5, band="u30", sex=Client.Sex.FEMALE)
    group(company, exam, 6, band="30", sex=Client.Sex.MALE)
    group(company, exam, 5, band="40", sex=Client.Sex.FEMALE)
    group(company, exam, 7, band="50", sex=Client.Sex.MALE)
    data = teams.report(june)
    assert [key for key, _label in data.bands] == ["u30", "30", "40", "50"]
    assert [key for key, _label in data.sexes] == ["female", "male"]
    assert [list(row) for row in data.people.values] == [
        [5, 0, 5],
        [0, 6, 6],
        [5, 0, 5],
        [0, 7, 7],
        [10, 13, 23],
    ]
    assert not any(any(row) for row in data.people.hidden)


def test_unknown_age_and_sex_get_their_own_row_and_column(company, exam):
    june = exam_round(company)
    group(company, exam, 5, band="na", sex=Client.Sex.UNKNOWN)
    group(company, exam, 5, band="30", sex=Client.Sex.MALE)
    data = teams.report(june)
    assert [key for key, _label in data.bands][-1] == "na"
    assert [key for key, _label in data.sexes][-1] == "unknown"
    assert data.people.values[-2][-2] == 5  # age and sex not recorded


def test_groups_under_five_are_hidden_with_complementary_suppression(company, exam, client_for):
    june = exam_round(company)
    group(company, exam, 6, band="30", sex=Client.Sex.FEMALE, fungal=True)
    group(company, exam, 8, band="30", sex=Client.Sex.MALE)
    group(company, exam, 3, band="40", sex=Client.Sex.MALE, fungal=True)  # a group of three
    group(company, exam, 9, band="40", sex=Client.Sex.FEMALE, acne=True)
    group(company, exam, 10, band="50", sex=Client.Sex.FEMALE)
    group(company, exam, 7, band="50", sex=Client.Sex.MALE, fungal=True)
    data = teams.report(june)
    people = data.people
    bands = [key for key, _label in data.bands]
    forty, men = bands.index("40"), 1
    assert people.hidden[forty][men]  # the three men in their forties
    assert attack(people) == {} and determined(people) == {}
    for row in data.findings:
        assert attack(row.table) == {} and determined(row.table) == {}
        assert row.table.hidden[forty][men]
    fungal = next(row for row in data.findings if row.name == "真菌感染")
    thirty, women = bands.index("30"), 0
    # All six women in their thirties have it: each one's result would be known.
    assert fungal.table.hidden[thirty][women]
    page = client_for(roles.VIP_MANAGER).get(report_url(company, june))
    assert page.status_code == 200
    text = page.content.decode()
    assert '<td class="num text-end">—</td>' in text  # hidden, whatever the reason
    assert "&lt;5" not in text  # which figures are small is not told apart
    # No name, no phone of anyone examined appears.
    examined = Client.objects.exclude(enterprise_memberships=None)
    assert {person.name for person in examined} == {"张伟"}  # the factory's name
    assert "张伟" not in text
    for person in examined:
        assert person.phone[-8:] not in text


def test_prevalence_only_where_group_and_count_are_shown(company, exam):
    june = exam_round(company)
    group(company, exam, 5, band="30", sex=Client.Sex.FEMALE, fungal=True)
    group(company, exam, 5, band="30", sex=Client.Sex.FEMALE)
    group(company, exam, 10, band="40", sex=Client.Sex.MALE)
    data = teams.report(june)
    fungal = next(row for row in data.findings if row.name == "真菌感染")
    assert (fungal.now, fungal.now_percent) == (5, 25.0)
    bands = [key for key, _label in data.bands]
    rows = teams.table_rows(fungal.table, bands, data.people)
    assert rows[bands.index("30")]["cells"][0] == teams.Cell(5, 50.0)
    assert rows[bands.index("40")]["cells"][1] == teams.Cell(0, 0.0)
    # An empty group: nothing to give a prevalence of.
    assert rows[bands.index("50")]["cells"][0] == teams.Cell(0, None)


def test_the_previous_round_is_compared(company, exam, client_for):
    march = exam_round(company, MARCH, name="春季体检")
    june = exam_round(company)
    march_day = MARCH[0] + datetime.timedelta(days=2)
    group(company, exam, 5, day=march_day, fungal=True)
    group(company, exam, 5, day=march_day, acne=True)
    group(company, exam, 10, day=march_day)
    group(company, exam, 5, acne=True)
    group(company, exam, 15)
    data = teams.report(june)
    assert data.previous == march
    rows = {row.name: row for row in data.findings}
    assert (rows["痤疮"].now, rows["痤疮"].now_percent) == (5, 25.0)
    assert (rows["痤疮"].then, rows["痤疮"].then_percent) == (5, 25.0)
    # Gone this round: shown at 0 now beside last round's figure.
    assert (rows["真菌感染"].now, rows["真菌感染"].then, rows["真菌感染"].then_percent) == (
        0,
        5,
        25.0,
    )
    page = client_for(roles.MANAGER).get(report_url(company, june), **EN)
    assert "Compared with the previous round, 春季体检." in page.content.decode()
    # The earliest round has none to compare with.
    assert teams.report(march).previous is None


def test_the_latest_round_is_shown_by_default_and_a_strange_round_is_not_found(
    company, exam, client_for
):
    exam_round(company, MARCH, name="春季体检")
    june = exam_round(company)
    other = exam_round(make_enterprise(name="别的公司"), name="别人的")
    http = client_for(roles.MANAGER)
    page = http.get(report_url(company))
    assert page.context["exam_round"] == june
    assert http.get(report_url(company, other)).status_code == 404
    assert http.get(report_url(company) + "?round=abc").status_code == 404


def test_empty_states(company, exam, client_for):
    http = client_for(roles.VIP_MANAGER)
    page = http.get(report_url(company), **EN)
    assert b'data-testid="rounds-empty"' in page.content
    june = exam_round(company)
    employee(company, exam, consent=False)
    page = http.get(report_url(company, june), **EN)
    assert b'data-testid="report-empty"' in page.content
    assert "建议加强防晒" in page.content.decode()


def test_both_languages(company, exam, client_for):
    june = exam_round(company)
    group(company, exam, 5, fungal=True)
    http = client_for(roles.MANAGER)
    english = http.get(report_url(company, june), **EN).content.decode()
    assert "People counted by age and sex" in english and "Findings" in english
    chinese = http.get(report_url(company, june)).content.decode()
    assert "People counted by age and sex" not in chinese
    assert "团体" in chinese


def test_reads_are_audited_as_the_round_not_per_client(company, exam, client_for):
    june = exam_round(company)
    group(company, exam, 5, fungal=True)
    http = client_for(roles.MANAGER)
    before = set(AuditEvent.objects.values_list("pk", flat=True))
    http.get(report_url(company, june))
    events = AuditEvent.objects.exclude(pk__in=before).exclude(action=AuditEvent.Action.LOGIN)
    assert [(e.action, e.object_type, e.object_id) for e in events] == [
        (AuditEvent.Action.VIEW, "exams.examround", str(june.pk))
    ]


def test_the_pdf_is_audited_and_in_chinese(company, exam, client_for, monkeypatch):
    june = exam_round(company)
    group(company, exam, 5, fungal=True)
    rendered = {}
    from zhongdu import pdf

    real = pdf.render_to_string

    def keep(template_name, context, request=None):
        html = real(template_name, context, request=request)
        rendered["html"] = html
        return html

    monkeypatch.setattr(pdf, "render_to_string", keep)
    answer = client_for(roles.VIP_MANAGER).get(
        reverse("teams:report_pdf", args=[company.pk]) + f"?round={june.pk}", **EN
    )
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF")
    assert "团体" in rendered["html"] and "People counted" not in rendered["html"]
    assert "真菌感染" in rendered["html"]
    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert (event.object_type, event.object_id) == ("exams.examround", str(june.pk))


def test_mark_as_sent_records_the_contact_masked(company, exam, client_for):
    june = exam_round(company)
    http = client_for(roles.VIP_MANAGER)
    answer = http.post(reverse("teams:round_sent", args=[company.pk, june.pk]))
    assert answer.status_code == 302
    june.refresh_from_db()
    assert june.sent_to == "王经理 · 139****5678"
    assert june.sent_by.username == "t_vipmgr"
    assert june.sent_at is not None
    page = http.get(report_url(company, june), **EN).content.decode()
    assert "Handed to 王经理 · 139****5678" in page
    assert "13912345678" not in page
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.UPDATE, object_type="exams.examround"
    ).exists()


def test_mark_as_sent_needs_a_contact(exam, client_for):
    company = make_enterprise(name="无联系人公司")
    june = exam_round(company)
    http = client_for(roles.VIP_MANAGER)
    answer = http.post(reverse("teams:round_sent", args=[company.pk, june.pk]), follow=True, **EN)
    assert "has no contact person" in answer.content.decode()
    june.refresh_from_db()
    assert june.sent_at is None


def test_rounds_are_created_once_and_edited(company, client_for):
    http = client_for(roles.VIP_MANAGER)
    form = http.get(reverse("teams:round_new", args=[company.pk]))
    key = form.context["form"]["key"].value()
    data = {
        "name": "2026年度体检",
        "starts_on": "2026-06-01",
        "ends_on": "2026-06-30",
        "advice": "建议",
        "key": key,
    }
    url = reverse("teams:round_new", args=[company.pk])
    first, second = http.post(url, data), http.post(url, data)
    assert first.status_code == second.status_code == 302
    assert ExamRound.objects.filter(enterprise=company).count() == 1
    made = ExamRound.objects.get()
    assert made.created_by.username == "t_vipmgr"
    edit = reverse("teams:round_edit", args=[company.pk, made.pk])
    answer = http.post(edit, {**data, "name": "2026年秋季体检"})
    assert answer.status_code == 302
    made.refresh_from_db()
    assert made.name == "2026年秋季体检"


def test_bad_round_input_is_explained(company, client_for):
    http = client_for(roles.VIP_MANAGER)
    url = reverse("teams:round_new", args=[company.pk])
    answer = http.post(url, {"name": "x", "starts_on": "2026-06-30", "ends_on": "2026-06-01"}, **EN)
    assert answer.status_code == 422
    assert "cannot end before it starts" in answer.content.decode()
    answer = http.post(url, {"name": "", "starts_on": "June", "ends_on": ""}, **EN)
    assert answer.status_code == 422
    assert not ExamRound.objects.exists()


@pytest.mark.parametrize(
    ("role", "reads", "writes"),
    [
        (roles.VIP_MANAGER, True, True),
        (roles.ADMINISTRATOR, True, True),
        (roles.MANAGER, True, False),
        (roles.CLIENT_MANAGER, False, False),
        (roles.FRONT_DESK, False, False),
        (roles.CLINICIAN, False, False),
    ],
)
def test_access(company, client_for, role, reads, writes):
    june = exam_round(company)
    http = client_for(role)
    assert http.get(report_url(company, june)).status_code == (200 if reads else 403)
    pdf = reverse("teams:report_pdf", args=[company.pk]) + f"?round={june.pk}"
    assert http.get(pdf).status_code == (200 if reads else 403)
    assert http.get(reverse("teams:round_new", args=[company.pk])).status_code == (
        200 if writes else 403
    )
    sent = http.post(reverse("teams:round_sent", args=[company.pk, june.pk]))
    assert sent.status_code == (302 if writes else 403)
    june.refresh_from_db()
    assert (june.sent_at is not None) == writes


def test_the_enterprise_page_links_to_the_report(company, client_for):
    page = client_for(roles.MANAGER).get(company.get_absolute_url())
    assert reverse("teams:report", args=[company.pk]).encode() in page.content


def test_the_report_takes_the_same_queries_whatever_the_number_of_employees(
    company, exam, client_for
):
    june = exam_round(company)
    exam_round(company, MARCH, name="春季体检")
    http = client_for(roles.VIP_MANAGER)
    http.get(report_url(company, june))  # session, caches

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert http.get(report_url(company, june)).status_code == 200
        return len(captured)

    group(company, exam, 5, fungal=True)
    few = queries()
    group(company, exam, 10, band="40", sex=Client.Sex.MALE, acne=True)
    group(company, exam, 6, band="50", fungal=True, acne=True)
    many = queries()
    assert few == many
    # The report's own: the rounds, the members' count, two aggregates for each of the two
    # rounds, the audit entry; the rest is the session, the user and the page's frame.
    assert many <= 20
