"""Demo SMS templates (seed_demo): the messages the centre sends most."""

from messaging.models import Kind, Purpose, SmsTemplate

TEMPLATES = [
    (
        "booking_confirmation",
        Purpose.BOOKING_CONFIRMATION,
        Kind.SERVICE,
        "{signature}{name}您好，您已预约{date} {time}{department}{expert}专家门诊，"
        "请提前15分钟到{floor}导医台报到。",
    ),
    (
        "booking_reminder",
        Purpose.BOOKING_REMINDER,
        Kind.SERVICE,
        "{signature}{name}您好，提醒您明天{time}在{department}就诊，如需改期请致电{phone}。",
    ),
    (
        "greeting",
        Purpose.GREETING,
        Kind.SERVICE,
        "{signature}{name}您好，感谢您今天来院就诊。用药期间请注意防晒、清淡饮食，如有不适请随时联系我们。",
    ),
    (
        "followup_reminder",
        Purpose.FOLLOWUP_REMINDER,
        Kind.SERVICE,
        "{signature}{name}您好，您的复诊时间是{date}，请按时来院复查。",
    ),
    (
        "health_tip",
        Purpose.HEALTH_TIP,
        Kind.MARKETING,
        "{signature}{name}您好，冬季皮肤易干燥，洗澡水温不宜过高，浴后及时涂抹保湿霜。回复TD退订",
    ),
    (
        "event_invitation",
        Purpose.EVENT_INVITATION,
        Kind.MARKETING,
        "{signature}{name}您好，诚邀您和家人{date} {time}参加{text}。回复TD退订",
    ),
]


def seed_templates() -> int:
    """Create the demo templates that are missing; keeps administrators' edits."""
    created = 0
    for code, purpose, kind, body in TEMPLATES:
        _template, was_created = SmsTemplate.objects.get_or_create(
            code=code,
            language="zh-hans",
            defaults={"purpose": purpose, "kind": kind, "body": body},
        )
        created += was_created
    return created
