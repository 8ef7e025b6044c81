"""Follow-up's demo data (seed_demo): the care-plan templates a dermatology hospital starts with,
and a few plans under way, so that `clientmgr` opens a workbench with calls due today.

Everything is made through the real services (plans through plan_create, so their calls and SMS
exist; earlier timepoints through call_record, so there is history and satisfaction answers).
Idempotent: templates are created where missing (administrators' edits are kept), and a demo
client who already has a plan gets no other.
"""

import datetime

from django.utils import timezone

from clientmgmt.models import Client
from followup import services
from followup.models import CarePlan, CarePlanTemplate, CarePlanTemplateStep, FollowUpCall
from messaging.models import SmsTemplate
from zhongdu.models import Department

REMINDER = "followup_reminder"

# name, kind, department, texts, [(day, label, call, script, SMS template code or "")]
TEMPLATES = [
    (
        "激光术后护理",
        "care",
        "激光美容科",
        {
            "treatment_plan": "激光治疗后按医嘱外用修复类药膏，结痂自然脱落前勿抠抓。",
            "diet": "术后一周内忌辛辣刺激、海鲜及酒类，多吃新鲜蔬菜水果。",
            "rehab": "术后24小时内治疗区避免沾水；一个月内严格防晒（SPF30以上防晒霜、遮阳伞、"
            "帽子）；结痂期间不化妆。",
            "lifestyle": "规律作息，避免熬夜；一个月内不去桑拿、游泳。",
        },
        [
            (1, "术后第1天回访", True, "询问治疗区有无红肿、渗液、疼痛，提醒冷敷、保持干燥。", ""),
            (3, "术后第3天回访", True, "询问结痂情况，提醒勿抠抓、按时涂药。", ""),
            (7, "术后第7天回访", True, "询问痂皮脱落情况，提醒防晒，确认复查时间。", REMINDER),
            (30, "术后一个月回访", True, "询问色沉和疗效，了解满意度，介绍下次疗程。", ""),
        ],
    ),
    (
        "痤疮疗程",
        "care",
        "皮肤科",
        {
            "treatment_plan": "按医嘱口服及外用药物，疗程一般8–12周，勿自行停药。",
            "diet": "少吃甜食、油炸食品和奶制品，多喝水。",
            "rehab": "勿挤压痘痘；每日温水洁面两次，选用无油配方的护肤品。",
            "lifestyle": "保证睡眠，减轻压力，勤换枕巾。",
        },
        [
            (14, "用药两周回访", True, "询问用药后有无干燥、脱皮等不适，是否按时用药。", ""),
            (28, "第四周复诊", True, "提醒来院复诊，评估疗效并调整用药。", REMINDER),
            (56, "疗程结束评估", True, "了解疗程效果和满意度，讲解维持治疗和预防复发。", ""),
        ],
    ),
    (
        "慢性湿疹",
        "care",
        "中医皮肤科",
        {
            "treatment_plan": "按医嘱外用药膏并逐步减量，配合口服抗组胺药止痒，中药调理。",
            "diet": "避免已知致敏食物，少吃辛辣、海鲜、牛羊肉；记下饮食与发作的关系。",
            "rehab": "每天全身涂抹保湿霜至少两次；洗澡水温不超过38℃，时间不超过10分钟。",
            "lifestyle": "穿宽松棉质衣物，避免搔抓，保持室内湿度适宜。",
        },
        [
            (7, "一周回访", True, "询问瘙痒和皮疹变化，提醒坚持保湿。", ""),
            (30, "一个月复诊", True, "提醒来院复诊，评估是否可以减药。", REMINDER),
            (90, "三个月随访", True, "了解复发情况和满意度，提醒换季时加强保湿。", ""),
        ],
    ),
    (
        "皮肤外科术后",
        "care",
        "皮肤外科",
        {
            "treatment_plan": "按医嘱换药；术后7天左右拆线（面部5天）。",
            "diet": "忌烟酒及辛辣刺激食物，多吃富含蛋白质的食物，促进伤口愈合。",
            "rehab": "拆线前保持伤口清洁干燥、勿沾水；拆线后遵医嘱使用祛疤产品，避免牵拉伤口。",
            "lifestyle": "注意休息；伤口红肿、渗液或发热时及时来院。",
        },
        [
            (1, "术后第1天回访", True, "询问伤口疼痛、渗血情况，提醒按时换药。", ""),
            (3, "换药回访", True, "询问换药情况，有无红肿、渗液。", ""),
            (7, "拆线提醒", True, "提醒来院拆线，确认时间。", REMINDER),
            (30, "瘢痕评估回访", True, "了解瘢痕恢复和满意度。", ""),
        ],
    ),
    (
        "体检后健康管理",
        "health",
        "体检中心",
        {
            "treatment_plan": "体检异常项目按建议复查或到专科就诊。",
            "diet": "低盐低脂，多吃蔬菜水果和全谷物，控制糖分。",
            "lifestyle": "戒烟限酒，规律作息。",
            "exercise": "每周至少150分钟中等强度运动，如快走、游泳、骑车。",
            "mental_health": "保持心情舒畅，学会减压；睡眠不好或持续情绪低落请及时咨询。",
            "prevention": "每年体检一次；注意防晒，定期自查皮肤痣的变化。",
        },
        [
            (30, "健康管理一个月回访", True, "了解生活方式调整情况，解答体检报告疑问。", ""),
            (90, "三个月回访", True, "了解异常项目复查结果。", ""),
            (180, "半年复查提醒", False, "", REMINDER),
        ],
    ),
]

# Demo plans: (template, started this many days ago, timepoints before today left open). The
# timepoints due today land on clientmgr's workbench; earlier ones are done (with answers), or
# left open to show an overdue call.
PLANS = [
    ("激光术后护理", 7, False),
    ("皮肤外科术后", 3, True),
    ("痤疮疗程", 14, False),
    ("慢性湿疹", 7, False),
    ("激光术后护理", 1, False),
]
# Demo clients of follow-up come after those the front desk's morning uses (demo.front_desk).
FIRST_CLIENT = 28


def seed_templates() -> int:
    created = 0
    departments = {d.name: d for d in Department.objects.all()}
    reminder = SmsTemplate.objects.filter(code=REMINDER, active=True).order_by("pk").first()
    for name, kind, department, texts, steps in TEMPLATES:
        if CarePlanTemplate.objects.filter(name=name).exists():
            continue
        template = CarePlanTemplate.objects.create(
            name=name, kind=kind, department=departments.get(department), **texts
        )
        for day, label, call, script, code in steps:
            CarePlanTemplateStep.objects.create(
                template=template,
                day_offset=day,
                label=label,
                call=call,
                script=script,
                sms_template=reminder if code == REMINDER else None,
            )
        created += 1
    return created


def seed_plans(*, by) -> dict:
    """A few plans under way for demo clients who have none; returns what was made."""
    today = timezone.localdate()
    clients = list(
        Client.objects.filter(status=Client.Status.ACTIVE, phone__gt="").order_by("pk")[
            FIRST_CLIENT : FIRST_CLIENT + len(PLANS) + 1
        ]
    )
    made = {"plans": 0, "calls": 0}
    for client, (name, days_ago, leave_open) in zip(clients, PLANS, strict=False):
        template = CarePlanTemplate.objects.filter(name=name).first()
        if template is None or CarePlan.objects.filter(client=client).exists():
            continue
        plan = services.plan_create(
            client=client,
            by=by,
            starts_on=today - datetime.timedelta(days=days_ago),
            template=template,
        )
        made["plans"] += 1
        if leave_open:
            continue
        for call in FollowUpCall.objects.filter(plan=plan, due_on__lt=today).order_by("due_on"):
            services.call_record(
                call=call,
                by=by,
                outcome=FollowUpCall.Outcome.REACHED,
                scores={"doctor": 5, "nursing": 5, "front_desk": 4, "overall": 5},
                recommend=9,
                course=FollowUpCall.Course.IMPROVING,
                rehab_guidance=True,
                comment="恢复得不错，护士讲解很细致。",
            )
    if len(clients) > len(PLANS):
        made["calls"] += _pool_call(clients[len(PLANS)], by=by, today=today)
    return made


def _pool_call(client, *, by, today) -> int:
    """A call nobody has taken yet, for the shared pool's tab."""
    source = "demo:pool-call"
    if FollowUpCall.objects.filter(source=source).exists():
        return 0
    call = services.call_create(
        client=client,
        due_on=today,
        title="询问上次就诊后的情况",
        script="问候客户，询问上次就诊后的恢复情况和对服务的意见。",
        source=source,
        by=by,
    )
    services.call_reassign(call=call, to=None, by=by)
    return 1


def seed_followup_plans(*, by) -> dict:
    templates = seed_templates()
    return {"templates": templates, **seed_plans(by=by)}
