"""The results' core: flags from the range that fits the person, the history of every value,
corrections after release with a reason, release once and only when complete."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from clientmgmt.models import Client
from exams import flags, services
from exams.models import ExamResult, ExamResultRevision, ResultRelease
from tests.clientmgmt.factories import ClientFactory
from zhongdu import private_files

from .factories import (
    add_range,
    choice_definition,
    file_definition,
    item_of,
    number_definition,
    order_with,
    record,
    release,
    text_definition,
)

pytestmark = pytest.mark.django_db


def _born(age):
    today = timezone.localdate()
    return datetime.date(today.year - age, 1, 1) if age else None


@pytest.mark.parametrize(
    ("value", "flag"),
    [
        ("5.0", "normal"),
        ("3.5", "normal"),
        ("9.6", "abnormal"),
        ("3.4", "abnormal"),
        ("1.9", "critical"),
        ("30.1", "critical"),
        ("30.0", "abnormal"),
    ],
)
def test_a_number_is_flagged_by_its_range_with_the_rule_written_out(value, flag):
    definition = number_definition()
    order = order_with(definition)
    result = record(order, definition, number=value)
    assert result.flag == flag
    assert "3.5–9.5 ×10⁹/L" in result.rule
    assert "2.0" in result.rule and "30.0" in result.rule


def test_the_range_of_the_persons_sex_and_age_band_is_used():
    definition = number_definition(low="1", high="100", critical_low=None, critical_high=None)
    add_range(definition, sex="female", age_from=18, age_to=60, low="10", high="20")
    add_range(definition, sex="female", age_from=0, age_to=None, low="5", high="50")
    woman = ClientFactory(sex=Client.Sex.FEMALE, date_of_birth=_born(30))
    man = ClientFactory(sex=Client.Sex.MALE, date_of_birth=_born(30))
    older = ClientFactory(sex=Client.Sex.FEMALE, date_of_birth=_born(70))
    assert record(order_with(definition, client=woman), definition, number="25").flag == "abnormal"
    assert record(order_with(definition, client=man), definition, number="25").flag == "normal"
    assert record(order_with(definition, client=older), definition, number="25").flag == "normal"
    with translation.override("en"):
        ranges = definition.ranges.all()
        chosen = flags.range_for(definition, sex="female", age=30, ranges=ranges)
    assert (chosen.low, chosen.high) == (Decimal("10"), Decimal("20"))


def test_no_fitting_range_leaves_the_value_unflagged_and_says_so():
    definition = number_definition()
    definition.ranges.update(age_from=18)
    unknown_age = ClientFactory(date_of_birth=None)
    result = record(order_with(definition, client=unknown_age), definition, number="50")
    assert result.flag == ""
    assert result.rule


def test_choices_text_and_files():
    fungus, opinion, dermoscopy = choice_definition(), text_definition(), file_definition()
    order = order_with(fungus, opinion, dermoscopy)
    assert record(order, fungus, text="阳性").flag == "abnormal"
    assert record(order, opinion, text="  双颊色素沉着  ").value_text == "双颊色素沉着"
    stored = record(order, dermoscopy, file=("lesion.png", "image/png", b"\x89PNG fake"))
    assert stored.file_label == "lesion.png"
    assert private_files.read(stored.file) == b"\x89PNG fake"
    with pytest.raises(ValidationError):
        record(order, fungus, text="可疑")
    with pytest.raises(ValidationError):
        record(order, dermoscopy, file=("x.exe", "application/x-msdownload", b"MZ"))


def test_numbers_are_read_as_typed_and_nonsense_is_refused():
    definition = number_definition()
    assert services.parse_number("５．２", definition) == Decimal("5.2")
    for bad in ("", "abc", "1e400", "NaN", "Infinity", "12\x00"):
        with pytest.raises(ValidationError):
            services.parse_number(bad, definition)


def test_release_needs_every_result_and_happens_once():
    wbc, fungus = number_definition(), choice_definition()
    order = order_with(wbc, fungus)
    with pytest.raises(ValidationError):
        release(order)
    record(order, wbc, number="5")
    with pytest.raises(ValidationError, match="真菌镜检"):
        release(order)
    record(order, fungus, text="阴性")
    release(order)
    assert ResultRelease.objects.filter(order=order).count() == 1
    with pytest.raises(services.NotAllowed):
        release(order)
    assert order.items.filter(done_at__isnull=True).count() == 0


def test_a_correction_after_release_needs_a_reason_and_keeps_the_earlier_value():
    wbc = number_definition()
    order = order_with(wbc)
    record(order, wbc, number="5")
    release(order)
    with pytest.raises(ValidationError):
        record(order, wbc, number="12")
    corrected = record(order, wbc, number="12", reason="Transcription error")
    assert corrected.revision == 2 and corrected.flag == "abnormal"
    history = list(ExamResultRevision.objects.filter(result=corrected).order_by("revision"))
    assert [(h.value_number, h.flag, h.after_release) for h in history] == [
        (Decimal("5.0000"), "normal", False),
        (Decimal("12.0000"), "abnormal", True),
    ]
    assert history[1].reason == "Transcription error"


def test_a_cancelled_order_takes_no_results():
    wbc = number_definition()
    order = order_with(wbc)
    from guide import services as guide_services

    guide_services.exam_order_cancel(order=order, reason="Client left", by=None)
    with pytest.raises(services.NotAllowed):
        record(order, wbc, number="5")
    assert not ExamResult.objects.filter(item=item_of(order, wbc)).exists()
