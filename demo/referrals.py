"""Referrals' demo data (seed_demo): a few clients referred by the marketing department, a
partner clinic and a doctor, at different steps, so that the consultation desk's queue, the
referral list and the client page have something to show. Made through the real services;
idempotent (nothing is added once any referral exists)."""

from clientmgmt.models import Client
from referrals.models import Referral
from referrals.services import referral_create, referral_set_status

Source = Referral.Source
Status = Referral.Status

# (source, referrer, note, the steps after "new")
REFERRALS = [
    (Source.MARKETING, "市场部 王经理", "社区义诊发现面部色斑，希望预约激光美容科。", []),
    (Source.MARKETING, "市场部 李专员", "企业体检后转来，湿疹反复，请尽快联系。", []),
    (Source.CLINIC, "金水区康宁诊所", "痤疮口服药效果不佳，转诊进一步治疗。", [Status.CONTACTED]),
    (
        Source.DOCTOR,
        "省人民医院 赵医生",
        "银屑病，建议中医皮肤科调理。",
        [Status.CONTACTED, Status.BOOKED],
    ),
    (Source.ENTERPRISE, "中原电力工会", "职工皮肤健康咨询。", [Status.CLOSED]),
]


def seed_referrals(*, by) -> int:
    if Referral.objects.exists():
        return 0
    clients = list(
        Client.objects.filter(status=Client.Status.ACTIVE, is_vip=False)
        .exclude(phone="")
        .order_by("pk")[20 : 20 + len(REFERRALS)]
    )
    made = 0
    for client, (source, referrer, note, steps) in zip(clients, REFERRALS, strict=False):
        referral = referral_create(
            client=client, by=by, source=source, referrer=referrer, note=note
        )
        for status in steps:
            referral_set_status(
                referral=referral,
                new_status=status,
                by=by,
                note="客户已到其他医院就诊" if status == Status.CLOSED else "",
            )
        made += 1
    return made
