"""Charts drawn on the server as SVG (no script, no internet, sharp in print). Presentation
attributes only (fill, stroke), not style attributes, which the Content-Security-Policy
forbids. Values are escaped; bars and points carry a <title> for screen readers and hover."""

from html import escape

from django import template
from django.utils.safestring import mark_safe

register = template.Library()

BAR = "#0d6efd"
LINE = "#198754"


@register.simple_tag
def bar_chart(rows, value_key="average", label_key="name", maximum=5, width=560, bar=18):
    """Horizontal bars: one per row (dicts), scaled to `maximum`."""
    rows = [row for row in rows if row.get(value_key) is not None]
    if not rows:
        return ""
    label_width, gap = 150, 6
    height = len(rows) * (bar + gap) + gap
    span = width - label_width - 50
    parts = [
        f'<svg class="report-chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, row in enumerate(rows):
        y = gap + i * (bar + gap)
        value = float(row[value_key])
        length = max(span * min(value / maximum, 1.0), 1) if maximum else 1
        text = str(row.get(label_key) or "—")
        # Cut before escaping: cutting "&amp;" in two would print a broken entity.
        label, short = escape(text), escape(text[:18])
        parts.append(
            f'<text x="{label_width - 6}" y="{y + bar - 5}" text-anchor="end" '
            f'font-size="12" fill="#212529">{short}</text>'
            f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar}" fill="{BAR}">'
            f"<title>{label}: {value:.2f}</title></rect>"
            f'<text x="{label_width + length + 4:.1f}" y="{y + bar - 5}" font-size="12" '
            f'fill="#212529">{value:.2f}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 (every value above is escaped or a number)


@register.simple_tag
def line_chart(points, value_key="average", label_key="month", low=1, high=5, width=560):
    """A line over the points (dicts) from `low` to `high`; a gap where a value is missing."""
    if not points:
        return ""
    height, left, bottom, top = 180, 36, 28, 12
    span_x = (width - left - 12) / max(len(points) - 1, 1)
    span_y = height - bottom - top

    def y_of(value):
        return top + span_y * (1 - (float(value) - low) / ((high - low) or 1))

    parts = [
        f'<svg class="report-chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" xmlns="http://www.w3.org/2000/svg">',
        f'<line x1="{left}" y1="{top + span_y}" x2="{width - 12}" y2="{top + span_y}" '
        f'stroke="#adb5bd"/>',
        f'<text x="{left - 4}" y="{top + 4}" text-anchor="end" font-size="11" fill="#6c757d">'
        f"{high}</text>",
        f'<text x="{left - 4}" y="{top + span_y}" text-anchor="end" font-size="11" '
        f'fill="#6c757d">{low}</text>',
    ]
    path, previous = [], None
    for i, point in enumerate(points):
        x = left + i * span_x
        label = escape(str(point.get(label_key, "")))
        parts.append(
            f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle" font-size="10" '
            f'fill="#6c757d">{label[-2:]}</text>'
        )
        value = point.get(value_key)
        if value is None:
            previous = None
            continue
        y = y_of(value)
        path.append(f"{'L' if previous else 'M'}{x:.1f},{y:.1f}")
        previous = (x, y)
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{LINE}">'
            f"<title>{label}: {float(value):.2f}</title></circle>"
        )
    if path:
        parts.append(f'<path d="{" ".join(path)}" fill="none" stroke="{LINE}" stroke-width="2"/>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 (every value above is escaped or a number)


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
