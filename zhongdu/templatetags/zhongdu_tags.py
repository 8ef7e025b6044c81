from django import template

from zhongdu import private_query

register = template.Library()


@register.simple_tag
def full_number_digits() -> int:
    """How many digits make a full phone or ID number (zhongdu.private_query), for the live
    searches' script, which reads it from base.html's <body data-full-number-digits>."""
    return private_query.FULL_NUMBER_DIGITS


@register.filter
def minutes(value) -> int:
    """A timedelta as whole minutes (for messages such as the sign-in lockout)."""
    try:
        return int(value.total_seconds() // 60)
    except AttributeError:
        return 0
