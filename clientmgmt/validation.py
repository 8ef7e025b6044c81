"""Shape checks for what staff type about a client: identity numbers, dates, names (phone numbers:
zhongdu.phones.normalise). Each raises django's ValidationError in the user's language."""

import re

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength


def clean_name(value: str) -> str:
    name = re.sub(r"\s+", " ", value or "").strip()
    if not name:
        raise ValidationError(_("Enter the client's name."), code="required")
    return name


def clean_id_number(value: str) -> str:
    """An 18-character resident identity card number, checksum, region and birth date checked."""
    raw = re.sub(r"\s", "", value or "").upper()
    if not raw:
        return ""
    try:
        return ric.validate(raw)
    except InvalidLength:
        message = _("An ID card number has 18 characters.")
    except InvalidChecksum:
        message = _("This ID card number is not valid: its check digit does not match.")
    except InvalidComponent:
        message = _("This ID card number is not valid: its region or birth date does not exist.")
    except InvalidFormat:
        message = _("An ID card number is 17 digits followed by a digit or X.")
    raise ValidationError(message, code="invalid_id_number")


def id_number_birth_date(number: str):
    return ric.get_birth_date(number)


def id_number_sex(number: str) -> str:
    return "male" if int(number[16]) % 2 else "female"


def clean_date_of_birth(value):
    if value and value > timezone.localdate():
        raise ValidationError(_("The date of birth cannot be in the future."), code="future")
    if value and value.year < 1900:
        raise ValidationError(_("Check the year of birth."), code="too_old")
    return value
