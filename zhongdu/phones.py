"""Phone numbers, in one place: every form, search, outbox and the SMS gateway go through here.

Numbers are stored in E.164 (+8613812341234). A number is parsed once on the way in
(`normalise`, which forms and services share: what it returns passes through it again untouched)
and classified once on the way out (`classify`, at send time); the gateway only checks the shape
(`is_e164`). Pages, exports and logs show numbers masked (`mask`).
"""

import re
from dataclasses import dataclass

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

REGION = "CN"  # a number typed without a country code is a mainland one
MAINLAND = 86

# E.164: "+", a country code that does not start with 0, at most 15 digits in all.
E164_SHAPE = re.compile(r"\+[1-9]\d{6,14}")
# What staff type into a search box once spaces, dashes and brackets are gone.
_TYPED_NUMBER = re.compile(r"\+?\d{7,15}")
_SEPARATORS = re.compile(r"[\s\-()]")
_MOBILE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


class E164(str):
    """A number `normalise` has already parsed and checked: normalising it again is free (forms
    normalise to show a field error, the services they call normalise for every other caller)."""


def _parse(value: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None


def _format(number: phonenumbers.PhoneNumber) -> E164:
    return E164(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def normalise(value: str) -> str:
    """Any way staff write a number (138 1234 5678, 0371-6666 8888, +86...) -> E.164; "" for
    nothing; a ValidationError (code "invalid_phone") for anything that is not a valid number."""
    if isinstance(value, E164):
        return value
    raw = (value or "").strip()
    if not raw:
        return ""
    number = _parse(raw, REGION)
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("Enter a valid phone number, for example 138 1234 5678 or 0371-6666 8888."),
            code="invalid_phone",
        )
    return _format(number)


def e164(value: str) -> str:
    """A number typed into a search box -> E.164, or "" when it cannot be a phone number. Looser
    than `normalise`: a possible number is enough (a search finds a number stored before the
    numbering plan changed)."""
    compact = _SEPARATORS.sub("", value or "")
    if not _TYPED_NUMBER.fullmatch(compact):
        return ""
    number = _parse(compact, REGION)
    if number is None or not phonenumbers.is_possible_number(number):
        return ""
    return _format(number)


def is_e164(value: str) -> bool:
    """The shape of an E.164 number, no parsing: what the SMS gateway accepts."""
    return bool(value) and E164_SHAPE.fullmatch(value) is not None


def national_digits(value: str) -> str:
    """+8613812341234 -> 13812341234; a landline keeps its trunk prefix: 01012345678. A foreign
    number stays in E.164."""
    if not value:
        return ""
    number = _parse(value, None)
    if number is None:
        return value
    if number.country_code == MAINLAND:
        national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        return "".join(ch for ch in national if ch.isdigit())
    return value


def mask(value: str) -> str:
    """138****1234: the first three and the last four digits."""
    if len(value) == 14 and value.startswith("+861"):
        # A mainland mobile, nearly every number here: no need to parse (30 µs a row on lists).
        return f"{value[3:6]}****{value[-4:]}"
    digits = national_digits(value)
    if not digits:
        return ""
    if len(digits) <= 7:
        return "*" * (len(digits) - 4) + digits[-4:] if len(digits) > 4 else "****"
    return f"{digits[:3]}****{digits[-4:]}"


@dataclass(frozen=True)
class Classified:
    """What a stored number is. `country_code` is None when it is not a phone number at all."""

    country_code: int | None
    valid: bool
    mobile: bool

    @property
    def mainland(self) -> bool:
        return self.country_code == MAINLAND

    @property
    def mainland_mobile(self) -> bool:
        return self.mainland and self.valid and self.mobile


NOT_A_NUMBER = Classified(country_code=None, valid=False, mobile=False)


def classify(value: str) -> Classified:
    """One parse of a stored (E.164) number: its country, whether it is valid, whether a mobile."""
    number = _parse(value, None) if value else None
    if number is None:
        return NOT_A_NUMBER
    return Classified(
        country_code=number.country_code,
        valid=phonenumbers.is_valid_number(number),
        mobile=phonenumbers.number_type(number) in _MOBILE_TYPES,
    )


def is_mainland_mobile(value: str) -> bool:
    """A valid mainland mobile number (E.164), the only kind a mainland SMS route reaches."""
    return classify(value).mainland_mobile
