"""Shape checks for what staff type about a client: phones, identity numbers, dates, names.
Each raises django's ValidationError with a message in the user's language."""

import re

import phonenumbers
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


def clean_phone(value: str) -> str:
    """Any way staff write a number (138 1234 5678, 0371-6666 8888, +86...) -> E.164."""
    raw = (value or "").strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("Enter a valid phone number, for example 138 1234 5678 or 0371-6666 8888."),
            code="invalid_phone",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


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
