from django import template

from zhongdu import private_query, workbench

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


@register.simple_tag(takes_context=True)
def record_parts(context, record) -> list:
    """What the apps above show on `record`'s page (zhongdu.workbench.register_record_part)."""
    return workbench.record_parts(context["request"], record)


@register.simple_tag(takes_context=True)
def dial_button(context, worklist, task_id) -> str:
    """The call button (拨打) for a task of a worklist: `{% dial_button "followup" call.pk %}`;
    nothing when no app places calls or the user is no agent (zhongdu.workbench)."""
    return workbench.dial_button(context.get("request"), worklist, task_id)
