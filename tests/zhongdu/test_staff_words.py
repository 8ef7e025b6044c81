"""Staff pages read as staff say it, in Chinese and in English: a record's kind by its name, not
its model label; an SMS template by its purpose, not its code; a VIP tier, a company's or a
survey's name under the right heading."""

import datetime
import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone, translation

from events import services as event_services
from events.models import Event
from messaging import services as messaging_services
from messaging.models import Campaign, Kind, OutboxMessage, Purpose, SmsTemplate
from surveys import services as survey_rounds
from surveys.models import Dimension, SurveyQuestion, SurveyTemplate
from tests.clientmgmt.factories import ClientFactory, grant
from tests.followup.factories import make_plan
from tests.vip.factories import enterprise, vip
from zhongdu import audit, sms

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}
# A model label ("clientmgmt.client") or an SMS template's code.
CODES = re.compile(r"\b(?:clientmgmt|messaging|vip|zhongdu)\.[a-z_]+\b|booking_confirmation")


def _html(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def _table(html: str, testid: str) -> str:
    return html.split(f'data-testid="{testid}"', 1)[1].split("</table>", 1)[0]


def _headings(html: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<th[^>]*>(.*?)</th>", html)
    ]


@pytest.fixture
def confirmation(db):
    return SmsTemplate.objects.create(
        code="booking_confirmation",
        purpose=Purpose.BOOKING_CONFIRMATION,
        kind=Kind.SERVICE,
        body="【{hospital}】{name}您好，您已预约{date} {time}{department}{expert}专家门诊。",
    )


# --- The audit trail -------------------------------------------------------------------------


def test_the_audit_trail_names_each_record_as_staff_do(manager_client, confirmation):
    person = ClientFactory(name="王小红")
    audit.record(audit.Action.VIEW, obj=person)
    audit.record(audit.Action.UPDATE, obj=person, fields=["source_channel", "id_number", "merge"])
    audit.record(audit.Action.UPDATE, obj=confirmation)
    audit.record(audit.Action.EXPORT, object_type="vip.costs", object_id="7")
    audit.record(
        audit.Action.DENIED, object_type="url", object_id="audit_event_list", object_repr="/audit/"
    )
    url = reverse("audit_event_list")
    for language, words in (
        (ZH, ["客户档案", "短信模板", "VIP费用", "页面", "预约确认", "身份证号, 已合并, 来源渠道"]),
        # The record's own words (the template's name) are kept as they were written.
        (EN, ["Client record", "SMS template", "VIP costs", "Page", "预约确认", "ID card, Merged"]),
    ):
        table = _table(_html(manager_client.get(url, **language)), "audit-table")
        assert CODES.search(table) is None, CODES.search(table)
        assert "<td>url" not in table and "#audit_event_list" not in table
        assert "/audit/" in table  # the refused page's address
        for field in ("source_channel", "id_number", "merge"):
            assert field not in table, field
        for word in words:
            assert word in table, word


def test_the_trail_says_what_an_export_held_in_the_readers_language(
    manager_client, client_manager_client
):
    """A search's or the archives' export is stored as data (the kind and the count), not as
    English prose, and the trail says it in the reader's words."""
    ClientFactory(name="李娜")
    client_manager_client.get(reverse("clientmgmt:client_export"), {"q": "李娜"})
    ticked = ClientFactory(name="王小红")
    client_manager_client.post(
        reverse("clientmgmt:archive_export"),
        {"client": [ticked.pk], "scope": "selected", "format": "csv", "reason": "本月回访名单"},
    )
    assert audit.AuditEvent.objects.filter(action="export").count() == 2
    url = reverse("audit_event_list")
    for language, words in (
        (ZH, ["姓名搜索：1 位客户", "档案（勾选的客户）：1 位客户"]),
        (EN, ["Name search: 1 client", "Archives, the ticked clients: 1 client"]),
    ):
        table = _table(_html(manager_client.get(url, **language)), "audit-table")
        for word in words:
            assert word in table, word
        for code in ("rows", "selected", "clientmgmt.search", "&quot;note&quot;", "{"):
            assert code not in table, code


def test_a_capped_export_says_so_and_a_note_no_app_reads_shows_as_written():
    # deactivate: leave the default language to the tests that follow.
    with translation.override("zh-hans", deactivate=True):
        note = audit.note("clientmgmt.archives", scope="filtered", rows=3, capped=3)
        assert audit.describe(note) == (
            "档案（筛选出的全部客户）：3 位客户（导出上限 3 位，其余未导出）"
        )
    with translation.override("en", deactivate=True):
        assert audit.describe(note) == (
            "Archives, every client of the filters: 3 clients (stopped at 3; more matched)"
        )
        assert audit.describe(audit.note("no.such", rows=1)) == audit.note("no.such", rows=1)
        assert audit.describe("王小红") == "王小红"


def test_the_trail_says_other_exports_and_imports_in_the_readers_language(manager_client):
    """The analysis page's export, a charges import, an employee list's import and an
    employee's removal: stored as notes, said in the reader's words."""
    manager_client.get(reverse("consult:stats_export"), **EN)  # exported by an English reader
    stats = audit.AuditEvent.objects.get(action="export", object_type="consult.stats")
    assert json.loads(stats.object_repr)["period"] == "week"
    audit.record(
        audit.Action.CREATE,
        object_type="guide.chargeimport",
        object_id="3",
        object_repr=audit.note("guide.charge_import", file="11月收费.csv", imported=2),
    )
    firm = enterprise(name="郑州重工集团")
    audit.record(
        audit.Action.UPDATE,
        obj=firm,
        object_repr=audit.note(
            "vip.member_import",
            enterprise=firm.name,
            file="employees.csv",
            added=3,
            created=1,
            skipped=2,
        ),
    )
    audit.record(
        audit.Action.DELETE,
        object_type="vip.enterprisemember",
        object_id="5",
        object_repr=audit.note("vip.member_removed", enterprise=firm.name, client=42),
    )
    url = reverse("audit_event_list")
    for language, words in (
        (
            ZH,
            [
                "最近8周，按周，自",
                "11月收费.csv：已导入 2 笔收费",
                "郑州重工集团，employees.csv：添加 3 人（新建客户 1 位），跳过 2 人",
                "郑州重工集团，客户 #42",
            ],
        ),
        (
            EN,
            [
                "Last 8 weeks, by week, from",
                "11月收费.csv: 2 charges imported",
                "郑州重工集团, employees.csv: 3 added (new client records: 1), 2 skipped",
                "郑州重工集团, client #42",
            ],
        ),
    ):
        table = _table(_html(manager_client.get(url, **language)), "audit-table")
        for word in words:
            assert word in table, word
        assert "&quot;note&quot;" not in table and "{" not in table


def test_the_audit_filter_offers_records_by_name_and_still_filters_by_type(manager_client):
    audit.record(audit.Action.VIEW, obj=ClientFactory())
    audit.record(audit.Action.VIEW, object_type="vip.costs", object_id="7")
    html = _html(manager_client.get(reverse("audit_event_list"), **ZH))
    assert '<option value="clientmgmt.client">客户档案</option>' in html
    assert "对象类型" not in html
    response = manager_client.get(reverse("audit_event_list"), {"object_type": "vip.costs"})
    assert [event.object_type for event in response.context["page"].items] == ["vip.costs"]
    unknown = manager_client.get(reverse("audit_event_list"), {"object_type": "no.such"})
    assert unknown.status_code == 200 and unknown.context["form"].errors["object_type"]


def test_every_model_of_the_project_has_a_name_for_the_trail():
    types = audit.object_types()
    assert str(types["clientmgmt.client"]) == "客户档案"
    assert all(CODES.search(str(label)) is None for label in types.values())


def test_every_record_kind_of_the_trail_has_its_chinese_name():
    """The filter offers every kind: an English verbose name (an imported row, an SMS's status
    change, an opt-out, an SMS received were) shows through on the Chinese page."""
    with translation.override("zh-hans", deactivate=True):
        english = {
            object_type: str(label)
            for object_type, label in audit.object_types().items()
            if not re.search(r"[\u4e00-\u9fff]", str(label))
        }
        assert english == {}
        assert str(audit.object_types()["messaging.phoneoptout"]) == "短信退订"
    assert audit.object_type_label("no.such") == "no.such"  # nothing better to show


# --- SMS templates ---------------------------------------------------------------------------


def test_campaigns_name_their_template_not_its_code(client_manager_client, confirmation):
    campaign = Campaign.objects.create(
        name="复诊提醒",
        template=confirmation,
        send_at=timezone.now() + datetime.timedelta(days=1),
        created_by=get_user_model().objects.get(username="t_clientmgr"),
    )
    for language, word in ((ZH, "预约确认"), (EN, "Booking confirmation")):
        for url in (reverse("messaging:campaign_list"), campaign.get_absolute_url()):
            html = _html(client_manager_client.get(url, **language))
            assert word in html and "booking_confirmation" not in html, url
    form = _html(client_manager_client.get(reverse("messaging:campaign_create"), **ZH))
    assert "预约确认: 您好，您已预约" in form and "booking_confirmation" not in form
    headings = _headings(_html(client_manager_client.get(reverse("messaging:campaign_list"))))
    assert "活动名称" in headings and "姓名" not in headings


def test_a_care_plan_offers_sms_by_purpose_not_code(client_manager_client, confirmation):
    plan = make_plan(client=ClientFactory())
    url = reverse("followup:plan_edit", args=[plan.pk])
    for language, words in (
        (ZH, ["预约确认: 您好，您已预约", "复诊提醒: 您好，请于来院复查。"]),
        (EN, ["Booking confirmation: ", "Follow-up reminder: "]),
    ):
        html = _html(client_manager_client.get(url, **language))
        assert all(word in html for word in words), words
        assert "booking_confirmation" not in html and "followup_reminder" not in html


def test_a_missing_template_is_named_by_what_it_is_for_not_its_code():
    with translation.override("zh-hans", deactivate=True):
        message = str(messaging_services.template_missing("booking_confirmation").message)
        assert message == "没有已启用的“预约确认”短信模板：请管理员在“短信模板”中添加。"
    with translation.override("en", deactivate=True):
        message = str(messaging_services.template_missing("market_survey").message)
        assert "“the one this message needs”" in message and "market_survey" not in message


def test_the_survey_round_form_names_the_missing_template_in_chinese(client_manager_client):
    template = SurveyTemplate.objects.create(
        code="market", name="市场调查", name_en="Market survey", kind=SurveyTemplate.Kind.MARKET
    )
    SurveyQuestion.objects.create(
        template=template, order=0, type=SurveyQuestion.Type.SCALE, text="满意吗？"
    )
    form = {
        "name": "冬季需求调查",
        "template": template.pk,
        "send_at": (timezone.localtime() + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "confirm": "yes",
    }
    grant(ClientFactory(), "marketing_sms")
    page = client_manager_client.post(reverse("surveys:round_new"), form, **ZH)
    assert page.status_code == 422, page.status_code
    html = page.content.decode()
    assert "没有已启用的“市场调查邀请”短信模板" in html and "market_survey" not in html


# --- The SMS pages: a provider's error said for staff -------------------------------------


def _failed(error_code, error_text, status=OutboxMessage.Status.FAILED):
    message = messaging_services.outbox_enqueue(
        idempotency_key=f"words-{error_code}",
        client=ClientFactory(phone="13912345678"),
        body="明天9:30就诊",
        purpose=Purpose.BOOKING_REMINDER,
    )
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=status, error_code=error_code, error_text=error_text
    )
    return message


@pytest.mark.parametrize(
    ("code", "zh", "en"),
    [
        ("21211", "号码不是有效的电话号码。", "The number is not a valid phone number."),
        ("21610", "客户已退订", "The client unsubscribed"),
        ("30003", "手机无法接通（关机或不在服务区）。", "The phone could not be reached"),
        ("30005", "号码不存在或已停用。", "The number does not exist or is no longer in use."),
        ("30006", "号码是固定电话或无法接收短信。", "The number is a landline"),
        ("30007", "运营商拦截了这条短信", "The carrier filtered the message out"),
        ("http-503", "短信服务商出现故障。", "The SMS provider had a fault."),
    ],
)
def test_a_message_page_explains_the_providers_error_and_keeps_the_code_for_support(
    client_manager_client, settings, code, zh, en
):
    settings.SMS_BACKEND = "memory"
    message = _failed(code, "The 'To' number +86 139****5678 is not valid.")
    for language, words, support in ((ZH, zh, "供技术支持参考："), (EN, en, "For support:")):
        html = _html(client_manager_client.get(message.get_absolute_url(), **language))
        error = html.split('data-testid="error"', 1)[1].split("</span>", 1)[0]
        assert words in error and code not in error
        small = html.split('data-testid="error-code"', 1)[1].split("</small>", 1)[0]
        assert support in small and code in small and "is not valid" in small
        outbox = _table(
            _html(client_manager_client.get(reverse("messaging:outbox_list"), **language)),
            "outbox",
        )
        assert words in outbox and "is not valid" not in outbox


def test_an_error_the_project_does_not_know_is_still_said_in_words(settings):
    with translation.override("zh-hans", deactivate=True):
        assert sms.error_explanation("63016") == "短信服务商报告了错误。"
        assert sms.error_explanation("") == ""


def test_an_events_invitations_are_headed_in_chinese(client_manager_client):
    event = event_services.event_create(
        by=None,
        title="社区皮肤健康义诊",
        kind=Event.Kind.FREE_CLINIC,
        starts_at=timezone.now() + datetime.timedelta(days=7),
        ends_at=timezone.now() + datetime.timedelta(days=7, hours=3),
        place="文化路社区服务中心",
        capacity=30,
        description="",
        segment={},
        vip_only=False,
    )
    html = _html(client_manager_client.get(reverse("events:event_detail", args=[event.pk]), **ZH))
    headings = _headings(_table(html, "invitations"))
    assert "短信" in headings and "SMS" not in headings


# --- VIP tiers, enterprises, market surveys ---------------------------------------------------


def test_a_vip_of_the_first_tier_is_a_vip_not_the_vip_desk(vip_manager_client):
    standing = vip(ClientFactory(name="赵先生"))
    assert standing.tier == "standard"
    roster = reverse("vip:roster")
    zh = _html(vip_manager_client.get(roster, **ZH))
    assert "<td>普通VIP</td>" in zh
    assert "VIP 管理" in zh  # the menu: the VIP desk's section
    assert "<td>VIP 管理</td>" not in zh
    detail = _html(vip_manager_client.get(reverse("vip:vip_detail", args=[standing.client_id])))
    assert "普通VIP" in detail and "VIP 管理</span>" not in detail
    assert "<td>VIP</td>" in _html(vip_manager_client.get(roster, **EN))


def test_the_enterprise_list_heads_company_names_as_such(vip_manager_client):
    enterprise(name="郑州重工集团")
    url = reverse("vip:enterprise_list")
    zh = _headings(_table(_html(vip_manager_client.get(url, **ZH)), "enterprises"))
    assert "企业名称" in zh and "姓名" not in zh
    assert "Enterprise name" in _headings(_html(vip_manager_client.get(url, **EN)))


def test_market_surveys_are_headed_by_survey_name_and_questionnaire(client_manager_client):
    template = SurveyTemplate.objects.create(
        code="market", name="市场调查", name_en="Market survey", kind=SurveyTemplate.Kind.MARKET
    )
    SmsTemplate.objects.create(
        code="market_survey",
        purpose=Purpose.SURVEY,
        kind=Kind.MARKETING,
        body="【{hospital}】{name}您好，诚邀您填写问卷：{link} 回复TD退订",
    )
    SurveyQuestion.objects.create(
        template=template,
        order=0,
        type=SurveyQuestion.Type.SCALE,
        text="您对我院的价格满意吗？",
        text_en="Are you satisfied with our prices?",
        dimension=Dimension.OTHER,
    )
    survey_rounds.round_create(
        name="冬季需求调查",
        template=template,
        segment={},
        send_at=timezone.now(),
        by=get_user_model().objects.get(username="t_clientmgr"),
    )
    url = reverse("surveys:round_list")
    zh = _headings(_table(_html(client_manager_client.get(url, **ZH)), "rounds"))
    assert zh[:2] == ["调查名称", "问卷"]
    en = _headings(_table(_html(client_manager_client.get(url, **EN)), "rounds"))
    assert en[:2] == ["Survey name", "Questionnaire"]


# --- Templates --------------------------------------------------------------------------------


def test_no_template_comment_spans_lines():
    """Django's {# #} comment is one line long: one spread over lines is printed on the page (a
    note about app.js and private_query, on the client search, the board and the desk)."""
    root = Path(settings.BASE_DIR)
    templates = [
        path
        for path in root.glob("**/templates/**/*.html")
        if ".venv" not in path.parts and "var" not in path.parts
    ]
    assert len(templates) > 100
    spread = [
        f"{path.relative_to(root)}:{number}"
        for path in templates
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "{#" in line and "#}" not in line.split("{#", 1)[1]
    ]
    assert spread == []
