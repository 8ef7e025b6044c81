"""The monthly report's charts (drawn by zhongdu.charts, the one home of the product's charts)
and the change from the previous month."""

from django import template

from zhongdu.charts import bar_chart, line_chart

register = template.Library()

register.simple_tag(bar_chart)
register.simple_tag(line_chart)


@register.filter
def delta(value, previous):
    """The change from the previous month, signed, or "" when either is missing."""
    if value is None or previous is None:
        return ""
    change = float(value) - float(previous)
    return (
        f"{change:+.2f}"
        if isinstance(value, float) or isinstance(previous, float)
        else f"{change:+.0f}"
    )
