"""Demo SMS templates (seed_demo): the messages the centre sends most."""

from messaging.models import Approval, Channel, Kind, Purpose, SmsTemplate

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
    # The portal's sign-in code (portal.services.CODE_TEMPLATE): the code, its validity and the
    # signature, nothing else; registered with the provider as a verification template (验证码).
    (
        "portal_sign_in_code",
        Purpose.SIGN_IN_CODE,
        Kind.VERIFICATION,
        "{signature}您的验证码为{code}，{minutes}分钟内有效。如非本人操作，请忽略本短信。",
    ),
    # The desk answered an online question (portal.consult_services.ANSWER_TEMPLATE): where to
    # look, never a word of the question or the answer.
    (
        "portal_consult_answer",
        Purpose.OTHER,
        Kind.SERVICE,
        "{signature}您在{hospital}网上咨询的问题已有回复，请登录网上医院查看。",
    ),
    (
        "event_invitation",
        Purpose.EVENT_INVITATION,
        Kind.MARKETING,
        "{signature}{name}您好，诚邀您和家人{date} {time}参加{text}。回复TD退订",
    ),
]


# Reminders read out by telephone (语音通知, consult.services.VOICE_REMINDER_TEMPLATE) and the
# replies to the keys of its menu (messaging.services.REMINDER_MENU): the demo's codes stand for
# ones approved in the voice service's console.
VOICE_TEMPLATES = [
    (
        "booking_reminder_voice",
        "TTS_200001",
        "{name}您好，这里是{hospital}。提醒您明天{time}在{department}就诊。"
        "确认就诊请按1，需要我们回电请按2，今后不再接收语音提醒请按9。",
    ),
    ("booking_reminder_voice_confirm", "TTS_200002", "已为您确认预约，期待您的到来，再见。"),
    ("booking_reminder_voice_callback", "TTS_200003", "好的，我们的工作人员会尽快给您回电，再见。"),
    ("booking_reminder_voice_stop", "TTS_200004", "好的，今后不再给您拨打语音提醒，再见。"),
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
    for code, provider_code, body in VOICE_TEMPLATES:
        _template, was_created = SmsTemplate.objects.get_or_create(
            code=code,
            language="zh-hans",
            defaults={
                "purpose": Purpose.BOOKING_REMINDER,
                "kind": Kind.SERVICE,
                "channel": Channel.VOICE,
                "body": body,
                "provider_code": provider_code,
                "approval": Approval.APPROVED,
            },
        )
        created += was_created
    return created
