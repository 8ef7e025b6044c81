"""The charts of zhongdu.charts as template tags: {% load charts %} then
{% bar_chart rows "average" "name" 5 %}, {% line_chart points %} or
{% series_chart labels series kind="columns" title=_("...") %}."""

from django import template

from zhongdu import charts

register = template.Library()

register.simple_tag(charts.bar_chart)
register.simple_tag(charts.line_chart)
register.simple_tag(charts.series_chart)
