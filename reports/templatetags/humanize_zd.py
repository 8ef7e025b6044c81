"""Number formats of the reports: figures as the centre writes them."""

from decimal import Decimal

from django import template

from voice.selectors import clock as minutes_seconds

register = template.Library()


@register.filter
def whole(value):
    if value is None or value == "":
        return "—"
    return f"{int(Decimal(str(value))):,}"


@register.filter
def money(value):
    if value is None or value == "":
        return "—"
    return f"{Decimal(str(value)):,.2f}"


@register.filter
def percent(value):
    return "—" if value is None else f"{value}%"


@register.filter
def score(value):
    return "—" if value is None else f"{float(value):.2f}"


@register.filter
def get(mapping, key):
    """mapping[key] in a template (dict rows of the report data)."""
    if not mapping:
        return None
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def clock(value):
    """Seconds as minutes:seconds, as the hotline's wallboard writes them (voice.selectors)."""
    return minutes_seconds(None if value is None or value == "" else Decimal(str(value)))
