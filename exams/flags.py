"""How a value is judged: the reference range that fits the person, and the flag it gives with
the rule written out (kept on the result, so a later change of range does not rewrite what a
released value was judged by). Pure functions over the definitions; no writes."""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from .models.results import Flag, ReferenceRange, ResultDefinition


@dataclass(frozen=True)
class Judgement:
    flag: str
    rule: str


def _number(value: Decimal | None, decimals: int) -> str:
    if value is None:
        return ""
    return f"{value:.{decimals}f}"


def range_for(definition: ResultDefinition, *, sex: str, age: int | None, ranges=None):
    """The most specific range for the person: their sex's before either sex's, then the
    narrowest age band that holds their age. With no age known only an all-ages range fits."""
    ranges = list(definition.ranges.all()) if ranges is None else list(ranges)
    fitting = []
    for candidate in ranges:
        if candidate.sex and candidate.sex != sex:
            continue
        if age is None:
            if candidate.age_from != 0 or candidate.age_to is not None:
                continue
        elif age < candidate.age_from or (candidate.age_to is not None and age > candidate.age_to):
            continue
        width = (candidate.age_to if candidate.age_to is not None else 200) - candidate.age_from
        fitting.append((0 if candidate.sex else 1, width, candidate.pk or 0, candidate))
    if not fitting:
        return None
    return min(fitting, key=lambda entry: entry[:3])[3]


def _band(candidate: ReferenceRange) -> str:
    parts = []
    if candidate.sex:
        parts.append(str(ReferenceRange.Sex(candidate.sex).label))
    if candidate.age_from or candidate.age_to is not None:
        if candidate.age_to is None:
            parts.append(_("%(age)s years and over") % {"age": candidate.age_from})
        else:
            parts.append(
                _("%(low)s–%(high)s years") % {"low": candidate.age_from, "high": candidate.age_to}
            )
    return ", ".join(parts)


def range_text(definition: ResultDefinition, candidate: ReferenceRange) -> str:
    """ "3.5–9.5 ×10⁹/L (Female, 18–60 years); critical < 2.0, > 30.0" in the active language."""
    d = definition.decimals
    low, high = _number(candidate.low, d), _number(candidate.high, d)
    if low and high:
        text = f"{low}–{high}"
    elif low:
        text = f"≥ {low}"
    elif high:
        text = f"≤ {high}"
    else:
        text = "—"
    if definition.unit:
        text = f"{text} {definition.unit}"
    band = _band(candidate)
    if band:
        text = f"{text} ({band})"
    critical = []
    if candidate.critical_low is not None:
        critical.append(f"< {_number(candidate.critical_low, d)}")
    if candidate.critical_high is not None:
        critical.append(f"> {_number(candidate.critical_high, d)}")
    if critical:
        text = _("%(range)s; critical %(limits)s") % {
            "range": text,
            "limits": ", ".join(critical),
        }
    return text


def choices_text(definition: ResultDefinition) -> str:
    """ "阴性 normal · 阳性 abnormal": each answer with the flag it gives."""
    return " · ".join(
        f"{choice['value']} {Flag(choice.get('flag', '')).label}" for choice in definition.choices
    )


def judge_number(definition, value: Decimal, *, sex: str, age: int | None, ranges=None):
    candidate = range_for(definition, sex=sex, age=age, ranges=ranges)
    if candidate is None:
        return Judgement(Flag.NONE, _("No reference range for this person."))
    rule = range_text(definition, candidate)
    if (candidate.critical_low is not None and value < candidate.critical_low) or (
        candidate.critical_high is not None and value > candidate.critical_high
    ):
        return Judgement(Flag.CRITICAL, rule)
    if (candidate.low is not None and value < candidate.low) or (
        candidate.high is not None and value > candidate.high
    ):
        return Judgement(Flag.ABNORMAL, rule)
    return Judgement(Flag.NORMAL, rule)


def judge_choice(definition, value: str) -> Judgement:
    for choice in definition.choices:
        if choice["value"] == value:
            return Judgement(choice.get("flag", Flag.NONE), choices_text(definition))
    raise ValueError(f"not an answer of {definition}: {value!r}")


def judge(definition, *, number=None, text="", sex="", age=None, ranges=None) -> Judgement:
    """The flag and rule of a value, the rule written in the hospital's language (what the
    report and the history show whoever reads them)."""
    with translation.override(settings.LANGUAGE_CODE):
        if definition.kind == ResultDefinition.Kind.NUMBER:
            return judge_number(definition, number, sex=sex, age=age, ranges=ranges)
        if definition.kind == ResultDefinition.Kind.CHOICE:
            return judge_choice(definition, text)
        return Judgement(Flag.NONE, "")
