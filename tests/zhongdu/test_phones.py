"""zhongdu.phones: the one module that reads, writes, masks and classifies phone numbers."""

import pytest
from django.core.exceptions import ValidationError

from zhongdu import phones


@pytest.mark.parametrize(
    "typed",
    ["13812345678", "138 1234 5678", "138-1234-5678", "+86 138 1234 5678", " +8613812345678 "],
)
def test_any_way_staff_write_a_mobile_normalises_to_e164(typed):
    assert phones.normalise(typed) == "+8613812345678"


def test_a_landline_keeps_its_area_code():
    assert phones.normalise("0371-6666 8888") == "+8637166668888"


def test_a_foreign_number_keeps_its_country_code():
    assert phones.normalise("+1 415 555 2671") == "+14155552671"


def test_nothing_typed_normalises_to_nothing():
    assert phones.normalise("") == ""
    assert phones.normalise("   ") == ""
    assert phones.normalise(None) == ""


@pytest.mark.parametrize(
    "typed", ["12345", "abc", "1381234567", "138123456789", "+", "00000000000"]
)
def test_a_bad_number_is_refused_with_a_field_message(typed):
    with pytest.raises(ValidationError) as refused:
        phones.normalise(typed)
    assert refused.value.code == "invalid_phone"


def test_a_normalised_number_passes_through_normalise_again_untouched(monkeypatch):
    number = phones.normalise("138 1234 5678")

    def parse_again(*args, **kwargs):
        raise AssertionError("parsed twice")

    monkeypatch.setattr(phones.phonenumbers, "parse", parse_again)
    assert phones.normalise(number) == "+8613812345678"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("13812345678", "+8613812345678"),
        ("138 1234 5678", "+8613812345678"),
        ("(0371) 6666-8888", "+8637166668888"),
        ("+14155552671", "+14155552671"),
        ("1234", ""),
        ("张伟", ""),
        ("", ""),
        ("1" * 16, ""),
    ],
)
def test_a_searched_number_reads_as_e164_or_not_at_all(typed, expected):
    assert phones.e164(typed) == expected


@pytest.mark.parametrize(
    ("value", "shaped"),
    [
        ("+8613812345678", True),
        ("+14155552671", True),
        ("13812345678", False),
        ("+0123456789", False),
        ("+86 138 1234 5678", False),
        ("", False),
    ],
)
def test_the_gateway_checks_the_e164_shape(value, shaped):
    assert phones.is_e164(value) is shaped


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("+8613812341234", "138****1234"),
        ("+8637166668888", "037****8888"),
        ("+14155552671", "+14****2671"),
        ("", ""),
    ],
)
def test_a_number_is_masked_to_its_first_three_and_last_four_digits(value, masked):
    assert phones.mask(value) == masked


def test_national_digits_drop_the_mainland_country_code_only():
    assert phones.national_digits("+8613812341234") == "13812341234"
    assert phones.national_digits("+8601012345678") == "01012345678"
    assert phones.national_digits("+14155552671") == "+14155552671"
    assert phones.national_digits("not a number") == "not a number"
    assert phones.national_digits("") == ""


@pytest.mark.parametrize(
    ("value", "mainland_mobile"),
    [
        ("+8613812345678", True),
        ("+8619912345678", True),
        ("+8637166668888", False),  # a landline
        ("+14155552671", False),  # abroad
        ("+8612345", False),  # not valid
        ("13812345678", False),  # not E.164: stored numbers always are
        ("", False),
        ("garbage", False),
    ],
)
def test_it_tells_a_mainland_mobile_from_everything_else(value, mainland_mobile):
    assert phones.is_mainland_mobile(value) is mainland_mobile


def test_classify_reads_country_validity_and_type_in_one_parse():
    mobile = phones.classify("+8613812345678")
    assert (mobile.country_code, mobile.valid, mobile.mobile, mobile.mainland) == (
        86,
        True,
        True,
        True,
    )
    landline = phones.classify("+8637166668888")
    assert (landline.mainland, landline.valid, landline.mobile) == (True, True, False)
    abroad = phones.classify("+14155552671")
    assert (abroad.country_code, abroad.mainland, abroad.valid) == (1, False, True)
    assert phones.classify("nonsense") == phones.NOT_A_NUMBER
    assert phones.classify("").country_code is None
