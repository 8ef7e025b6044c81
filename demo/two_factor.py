"""Two-factor devices for the demo users whose roles must sign in with a code (seed_demo), so
that someone trying the demo can sign in as them: an authenticator-app secret (base32, what an
app takes when typed in) and a few backup codes.

Idempotent: a user's secret is made once and kept (the app set up from it keeps working after
another `make run`); backup codes are made when none is left. Made directly on django-otp's
models, as the enrolment page's wizard would leave them (the device named "default")."""

from base64 import b32encode
from dataclasses import dataclass

from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

BACKUP_CODES = 5


@dataclass
class DemoDevice:
    secret: str  # base32, for an authenticator app
    backup_codes: list[str]  # the unused ones
    created: bool  # a new secret (an app set up before no longer works)


def seed_two_factor(user) -> DemoDevice:
    device, created = TOTPDevice.objects.get_or_create(
        user=user, name="default", defaults={"confirmed": True}
    )
    if not device.confirmed:
        device.confirmed = True
        device.save(update_fields=["confirmed"])
    backup, _made = StaticDevice.objects.get_or_create(user=user, name="backup")
    if not backup.token_set.exists():
        StaticToken.objects.bulk_create(
            StaticToken(device=backup, token=StaticToken.random_token())
            for _ in range(BACKUP_CODES)
        )
    codes = list(backup.token_set.order_by("pk").values_list("token", flat=True))
    return DemoDevice(
        secret=b32encode(device.bin_key).decode(), backup_codes=codes, created=created
    )
