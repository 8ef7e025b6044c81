"""After the exam's demo data (seed_demo): what the exam items yield (numbers with ranges by sex
and age, answers, text, report files), findings with their health-management plan templates,
and exam rounds with results through the real services: a few single clients' orders (results
entered, some abnormal, one critical, released by the doctor; one waiting for release; one
still open), and an enterprise's round of 40 employees, most of whom agreed to be counted in the
team report, with the round of the year before to compare with.

The year-before round is history: its results are recorded through the services, its release
is written as it stood then (a year ago) without replaying the follow-up a release starts today.
"""

import datetime
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from clientmgmt import consent
from clientmgmt.models import Client
from clientmgmt.services import consent_grant
from exams import services as results
from exams.models import Finding, ReferenceRange, ResultDefinition, ResultRelease
from followup.models import CarePlanTemplate, CarePlanTemplateStep
from guide import services as guide_services
from guide.models import ExamOrder, ExamPackage
from messaging.models import Kind, Purpose, SmsTemplate
from vip import services as vip_services
from vip.models import Enterprise
from zhongdu.models import KnowledgeArticle, PriceItem

NEGATIVE = [{"value": "阴性", "flag": "normal"}, {"value": "阳性", "flag": "abnormal"}]

# code: (finding name, plan template name, re-examination after days, plan texts, steps)
FINDINGS = {
    "fungal": (
        "真菌感染",
        "真菌感染检后管理",
        28,
        {
            "treatment_plan": "遵医嘱规范外用或口服抗真菌药物，足疗程用药，不可自行停药。",
            "diet": "饮食清淡，少食甜食和辛辣刺激食物。",
            "prevention": "保持皮肤清洁干燥，毛巾、拖鞋个人专用，勤换洗袜子和内衣。",
            "lifestyle": "避免长时间穿不透气的鞋袜；家中宠物有皮损时及时就医。",
        },
        [(14, "用药两周回访", True, "询问用药情况和皮损变化，提醒足疗程用药。")],
    ),
    "pigment": (
        "色素沉着（需观察）",
        "色素性皮损检后管理",
        180,
        {
            "treatment_plan": "色素性皮损定期复查皮肤镜，变化明显时及时就诊。",
            "prevention": (
                "严格防晒：外出使用SPF30以上防晒霜，戴遮阳帽；每月自查痣的大小、颜色和边界。"
            ),
            "lifestyle": "避免正午强光下长时间户外活动。",
        },
        [(90, "三个月防晒与自查回访", True, "了解防晒和皮肤自查情况，提醒半年复查皮肤镜。")],
    ),
    "liver": (
        "肝功能异常",
        "肝功能异常检后管理",
        30,
        {
            "treatment_plan": "一个月后复查肝功能；正在服用口服抗真菌药或其他药物者请告知医生。",
            "diet": "戒酒，低脂饮食，避免自行服用保健品。",
            "exercise": "规律有氧运动，每周至少150分钟。",
        },
        [(7, "肝功能异常一周回访", True, "了解用药和饮酒情况，提醒一个月后复查肝功能。")],
    ),
    "blood": (
        "血常规异常",
        "血常规异常检后管理",
        14,
        {
            "treatment_plan": "两周后复查血常规，必要时到血液科进一步检查。",
            "diet": "均衡饮食，保证优质蛋白摄入。",
            "mental_health": "保持良好作息，避免过度劳累。",
        },
        [(3, "血常规异常回访", True, "了解身体状况，提醒两周后复查血常规。")],
    ),
}

# code: (lecture keywords, knowledge articles, seasonal reminder months).
EDUCATION = {
    "fungal": ("护肤 皮肤健康", ("检查结果查询",), ""),
    "pigment": ("护肤 防晒", ("皮肤镜与VISIA皮肤检测", "检查结果查询"), "4 5"),
    "liver": ("皮肤健康", ("检查结果查询",), ""),
    "blood": ("皮肤健康", ("检查结果查询",), ""),
}

# code: (kind, finding, unit, decimals, ranges or answers). A range: (sex, from age, to age,
# low, high, critical low, critical high).
DEFINITIONS = {
    "JC014": (  # 血常规: the white cell count stands for it
        "number",
        "blood",
        "×10⁹/L",
        1,
        [("", 0, None, "3.5", "9.5", "2.0", "30.0")],
    ),
    "JC015": (  # 肝功能: ALT, by sex
        "number",
        "liver",
        "U/L",
        0,
        [
            ("male", 0, None, "9", "50", None, "1000"),
            ("female", 0, None, "7", "40", None, "1000"),
        ],
    ),
    "JC002": ("choice", "fungal", "", 0, NEGATIVE),  # 真菌镜检
    "JC003": ("choice", "fungal", "", 0, NEGATIVE),  # 真菌培养
    "JC012": (  # VISIA
        "choice",
        "pigment",
        "",
        0,
        [
            {"value": "未见明显异常", "flag": "normal"},
            {"value": "轻度色素沉着", "flag": "abnormal"},
            {"value": "明显色素沉着", "flag": "abnormal"},
        ],
    ),
    "JC007": ("choice", "pigment", "", 0, NEGATIVE),  # 伍德灯
    "JC001": ("file", None, "", 0, None),  # 皮肤镜: the image
    "JC013": ("text", None, "", 0, None),  # 毛发镜
    "JC016": ("text", None, "", 0, None),  # 胸片
    "JC017": (  # 心电图
        "choice",
        None,
        "",
        0,
        [{"value": "正常心电图", "flag": "normal"}, {"value": "异常心电图", "flag": "abnormal"}],
    ),
}

ROUND_ENTERPRISE = {
    "name": "河南中都物流有限公司",
    "agreement_number": "ZD-QY-2026-007",
    "terms": "年度员工团体体检（入职体检套餐加真菌镜检）；体检报告汇总反馈人力资源部。",
    "employee_count": 40,
    "annual_revenue": Decimal("30000000"),
    "contact_name": "赵红梅",
    "contact_phone": "+8613903710007",
}
SUMMARY = "检查已全部完成，结果详见检查结果。"
ROUND_EMPLOYEES = 40
ROUND_CONSENTING = 34
DERMOSCOPY_PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
    b"\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


def seed_definitions() -> int:
    """Findings, their plan templates, and what each exam item yields (once)."""
    created = 0
    articles = list(KnowledgeArticle.objects.filter(active=True).order_by("pk"))
    # Generic texts: an SMS never names a finding.
    reexam_sms = SmsTemplate.objects.filter(code="followup_reminder", active=True).first()
    season_sms, _made = SmsTemplate.objects.get_or_create(
        code="exam_season_sun",
        language="zh-hans",
        defaults={
            "purpose": Purpose.HEALTH_TIP,
            "kind": Kind.SERVICE,
            "body": "{signature}{name}您好，夏季将至，外出请注意防晒，每月留意皮肤变化。",
        },
    )
    for code, (name, template_name, reexam, texts, steps) in FINDINGS.items():
        template, made = CarePlanTemplate.objects.get_or_create(
            name=template_name, defaults={"kind": CarePlanTemplate.Kind.HEALTH, **texts}
        )
        if made:
            for day, label, call, script in steps:
                CarePlanTemplateStep.objects.create(
                    template=template, day_offset=day, label=label, call=call, script=script
                )
        finding, made = Finding.objects.get_or_create(
            code=code,
            defaults={"name": name, "plan_template": template, "reexam_after_days": reexam},
        )
        if made:
            created += 1
            keywords, titles, months = EDUCATION[code]
            finding.keywords = keywords
            finding.reexam_sms = reexam_sms
            if months:
                finding.reminder_months = months
                finding.reminder_sms = season_sms
            finding.save()
            finding.articles.set([a for a in articles if a.title in titles])
    findings = {finding.code: finding for finding in Finding.objects.all()}
    for code, (kind, finding, unit, decimals, rule) in DEFINITIONS.items():
        exam = PriceItem.objects.filter(code=code).first()
        if exam is None or ResultDefinition.objects.filter(exam=exam).exists():
            continue
        definition = ResultDefinition.objects.create(
            exam=exam,
            kind=kind,
            unit=unit,
            decimals=decimals,
            choices=rule if kind == "choice" else [],
            finding=findings.get(finding),
        )
        if kind == "number":
            for sex, age_from, age_to, low, high, critical_low, critical_high in rule:
                ReferenceRange.objects.create(
                    definition=definition,
                    sex=sex,
                    age_from=age_from,
                    age_to=age_to,
                    low=Decimal(low) if low else None,
                    high=Decimal(high) if high else None,
                    critical_low=Decimal(critical_low) if critical_low else None,
                    critical_high=Decimal(critical_high) if critical_high else None,
                )
        created += 1
    return created


def _value(definition, rng, *, abnormal=False, critical=False) -> dict:
    """A plausible value: normal unless told otherwise."""
    if definition.kind == "number":
        ranges = list(definition.ranges.all())
        limits = ranges[0]
        if critical:
            number = (limits.critical_low or Decimal("1")) - Decimal("0.4")
        elif abnormal:
            number = limits.high + (limits.high - limits.low) * Decimal("0.3")
        else:
            number = limits.low + (limits.high - limits.low) * Decimal(str(rng.uniform(0.2, 0.8)))
        return {"number": number.quantize(Decimal(1).scaleb(-definition.decimals))}
    if definition.kind == "choice":
        normal = [c["value"] for c in definition.choices if c["flag"] == "normal"]
        other = [c["value"] for c in definition.choices if c["flag"] != "normal"]
        return {"text": rng.choice(other) if abnormal and other else normal[0]}
    if definition.kind == "text":
        return {"text": "未见明显异常。"}
    return {"file": ("皮肤镜.png", "image/png", DERMOSCOPY_PNG), "text": "图像已存档"}


def _record_all(order, *, by, rng, abnormal=(), critical=()) -> None:
    for item in order.items.select_related("price_item__result_definition"):
        definition = getattr(item.price_item, "result_definition", None)
        if definition is None:
            continue
        code = item.price_item.code
        value = _value(definition, rng, abnormal=code in abnormal, critical=code in critical)
        results.result_record(item=item, by=by, **value)


# The single clients' orders: (package, abnormal items, critical items, released).
SINGLE_ORDERS = [
    ("TC003", ("JC012",), (), True),  # pigmentation to watch
    ("TC001", ("JC015",), (), True),  # ALT high
    ("TC002", ("JC002",), (), True),  # fungal infection
    ("TC001", (), ("JC014",), True),  # the critical value: white cells very low
    ("TC003", (), (), True),  # all normal
    ("TC001", ("JC014",), (), False),  # entered, waiting for the doctor's release
    ("TC002", (), (), None),  # ordered this morning, no result yet
]


def _people(n: int, *, skip: set[int]) -> list[Client]:
    rows = Client.objects.filter(status=Client.Status.ACTIVE, is_vip=False, phone__gt="")
    rows = rows.exclude(pk__in=skip).exclude(exam_orders__isnull=False)
    rows = rows.exclude(enterprise_memberships__isnull=False)
    return list(rows.order_by("pk")[100 : 100 + n])


def seed_exam_orders(*, frontdesk, doctor) -> dict:
    """The single clients' orders with their results (once: skipped when the demo's orders with
    results exist)."""
    if ResultRelease.objects.exists() or not ResultDefinition.objects.exists():
        return {"orders": 0, "released": 0}
    rng = random.Random(2026)  # noqa: S311 (demo values, not secrets)
    packages = {p.price_item.code: p for p in ExamPackage.objects.select_related("price_item")}
    people = _people(len(SINGLE_ORDERS), skip=set())
    made = released = 0
    for person, (package, abnormal, critical, release) in zip(people, SINGLE_ORDERS, strict=False):
        if package not in packages:
            continue
        order = guide_services.exam_order_create(
            client=person, package=packages[package], by=frontdesk
        )
        made += 1
        if release is None:
            continue
        _record_all(order, by=doctor, rng=rng, abnormal=abnormal, critical=critical)
        if release:
            guide_services.exam_order_complete(order=order, result_summary=SUMMARY, by=doctor)
            results.results_release(order=order, by=doctor)
            released += 1
    return {"orders": made, "released": released}


def _round_order(person, package, *, by, ordered_at) -> ExamOrder:
    order = guide_services.exam_order_create(client=person, package=package, by=by)
    ExamOrder.objects.filter(pk=order.pk).update(ordered_at=ordered_at)
    order.refresh_from_db()
    return order


def seed_enterprise_round(*, vipmgr, frontdesk, doctor) -> dict:
    """An enterprise of 40 employees with this year's round and last year's (once)."""
    from exams.models import ExamRound

    if Enterprise.objects.filter(name=ROUND_ENTERPRISE["name"]).exists():
        return {"employees": 0, "orders": 0}
    package = ExamPackage.objects.filter(price_item__code="TC001").first()
    fungal = PriceItem.objects.filter(code="JC002").first()
    if package is None or fungal is None:
        return {"employees": 0, "orders": 0}
    today = timezone.localdate()
    people = _people(ROUND_EMPLOYEES, skip=set())
    if len(people) < ROUND_EMPLOYEES:
        return {"employees": 0, "orders": 0}
    rng = random.Random(7)  # noqa: S311 (demo values, not secrets)
    with transaction.atomic():
        firm = vip_services.enterprise_create(
            data={
                **ROUND_ENTERPRISE,
                "agreement_start": today - datetime.timedelta(days=400),
                "agreement_end": today + datetime.timedelta(days=330),
            },
            by=vipmgr,
        )
        for person in people:
            vip_services.enterprise_add_member(enterprise=firm, client=person, by=vipmgr)
        for person in people[:ROUND_CONSENTING]:
            consent_grant(
                client=person,
                purpose=consent.EMPLOYER_AGGREGATE,
                channel=consent.Channel.CLIENT_PAGE,
                method=consent.Method.WRITTEN,
                by=vipmgr,
            )
        this_start = today - datetime.timedelta(days=20)
        last_start = this_start - datetime.timedelta(days=365)
        ExamRound.objects.create(
            enterprise=firm,
            name=f"{last_start.year}年度员工体检",
            starts_on=last_start,
            ends_on=last_start + datetime.timedelta(days=14),
            advice="建议加强足部卫生宣教，更衣室拖鞋专人专用。",
            created_by=vipmgr,
        )
        ExamRound.objects.create(
            enterprise=firm,
            name=f"{this_start.year}年度员工体检",
            starts_on=this_start,
            ends_on=this_start + datetime.timedelta(days=14),
            advice="真菌感染检出率较去年下降；建议夏季前开展防晒与皮肤自查讲座。",
            created_by=vipmgr,
        )
    orders = 0
    for year, start, fungal_rate, liver_rate in (
        ("last", last_start, 0.30, 0.10),
        ("this", this_start, 0.18, 0.12),
    ):
        for k, person in enumerate(people):
            at = timezone.make_aware(
                datetime.datetime.combine(start + datetime.timedelta(days=k % 10), datetime.time(9))
            )
            order = guide_services.exam_order_create(client=person, package=package, by=frontdesk)
            if not order.items.filter(price_item=fungal).exists():
                order.items.create(price_item=fungal)
            ExamOrder.objects.filter(pk=order.pk).update(ordered_at=at)
            abnormal = set()
            if rng.random() < fungal_rate:
                abnormal.add("JC002")
            if rng.random() < liver_rate:
                abnormal.add("JC015")
            _record_all(order, by=doctor, rng=rng, abnormal=abnormal)
            guide_services.exam_order_complete(order=order, result_summary=SUMMARY, by=doctor)
            if year == "last":
                # History: released a year ago, its follow-up long done.
                ResultRelease.objects.create(
                    order=order, released_by=doctor, released_at=at + datetime.timedelta(days=3)
                )
                guide_services.exam_order_mark_assessment_started(order=order)
            else:
                results.results_release(order=order, by=doctor)
            orders += 1
    return {"employees": len(people), "orders": orders}
