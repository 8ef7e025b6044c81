"""The demo hospital's profile: what its SMS, slips and public pages tell patients."""

from zhongdu.models import HospitalProfile
from zhongdu.services import hospital_profile_add

PROFILE = {
    "full_name": "郑州中都皮肤病医院",
    "display_name": "中都皮肤病医院",
    "address": "郑州市金水区花园路88号",
    "hotline": "0371-65588120",
    "opening_hours": "每天 8:00–17:30",
    "website": "www.zhongdu-pfb.cn",
    "sms_signature": "【中都皮肤病医院】",
    "privacy_notice": (
        "本院仅为诊疗、预约提醒、回访和满意度调查使用您的个人信息，不向第三方提供；"
        "营销短信仅在您同意后发送，回复TD即可退订。"
    ),
    "privacy_notice_version": "2026-01",
}


def seed_hospital_profile() -> bool:
    """Add the demo profile as a new version unless a profile with a hotline exists already
    (this one, or an administrator's). True when a version was added."""
    if HospitalProfile.objects.exclude(hotline="").exists():
        return False
    hospital_profile_add(by=None, note="演示数据", **PROFILE)
    return True
