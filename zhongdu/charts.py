"""Charts drawn on the server as SVG: no script, no internet, sharp on screen, in print and in
the PDFs (zhongdu.pdf). Every chart of the product is drawn here; templates load them through
the `charts` tag library (zhongdu/templatetags/charts.py).

Presentation attributes only (fill, stroke), not style attributes, which the
Content-Security-Policy forbids. Values are escaped; bars and points carry a <title> for hover.
A chart names itself to screen readers (`title`: role="img" with an aria-label); the page puts
its numbers in a table beside or under it, since a screen reader cannot read a drawing.

- bar_chart: horizontal bars, one per row (averages by dimension, a rate by channel).
- line_chart: one line over months with a fixed scale (the satisfaction trend, 1-5).
- series_chart: a few series over the same labels (days, weeks) as lines or grouped columns,
  scaled from zero to a round maximum, with a legend.
"""

import math
from collections.abc import Sequence
from html import escape

from django.utils.safestring import SafeString, mark_safe

BAR = "#0d6efd"
LINE = "#198754"
# Series colours, in order: told apart in greyscale print by their lightness too.
PALETTE = ("#0d6efd", "#fd7e14", "#198754", "#6f42c1", "#6c757d")
TEXT = "#212529"
MUTED = "#6c757d"
GRID = "#dee2e6"
AXIS = "#adb5bd"


def _open(width: int, height: int, title: str, *, fill: bool = True) -> str:
    """The chart's <svg>: as wide as its box (`fill`), or at most its own size (bars, whose
    text would grow with a wide box), shrinking on a narrow screen (app.css)."""
    named = f' aria-label="{escape(str(title))}"' if title else ""
    size = 'width="100%"' if fill else f'width="{width}"'
    kind = "report-chart" if fill else "report-chart report-chart-fixed"
    return (
        f'<svg class="{kind}" role="img"{named} viewBox="0 0 {width} {height}" '
        f'{size} xmlns="http://www.w3.org/2000/svg">'
    )


def _safe(parts: list[str]) -> SafeString:
    return mark_safe("".join(parts))  # noqa: S308 (every value in the parts is escaped or a number)


def _number(value, places: int) -> str:
    return f"{float(value):,.{places}f}"


def _text_width(text: str, size: float) -> float:
    """About how wide `text` is drawn: a Chinese character is square, a Latin one narrower."""
    return sum(size if ord(char) >= 0x2E80 else size * 0.6 for char in text)


def bar_chart(
    rows,
    value_key="average",
    label_key="name",
    maximum=5,
    width=560,
    bar=18,
    *,
    places=2,
    unit="",
    title="",
):
    """Horizontal bars: one per row (dicts), scaled to `maximum`; each value printed beside its
    bar with `places` decimals and `unit` (e.g. "%")."""
    rows = [row for row in rows if row.get(value_key) is not None]
    if not rows:
        return ""
    label_width, gap = 150, 6
    height = len(rows) * (bar + gap) + gap
    span = width - label_width - 50
    parts = [_open(width, height, title, fill=False)]
    for i, row in enumerate(rows):
        y = gap + i * (bar + gap)
        value = float(row[value_key])
        length = max(span * min(value / maximum, 1.0), 1) if maximum else 1
        text = str(row.get(label_key) or "—")
        # Cut before escaping: cutting "&amp;" in two would print a broken entity.
        label, short = escape(text), escape(text[:18])
        shown = f"{_number(value, places)}{escape(unit)}"
        parts.append(
            f'<text x="{label_width - 6}" y="{y + bar - 5}" text-anchor="end" '
            f'font-size="12" fill="{TEXT}">{short}</text>'
            f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar}" fill="{BAR}">'
            f"<title>{label}: {shown}</title></rect>"
            f'<text x="{label_width + length + 4:.1f}" y="{y + bar - 5}" font-size="12" '
            f'fill="{TEXT}">{shown}</text>'
        )
    parts.append("</svg>")
    return _safe(parts)


def line_chart(
    points, value_key="average", label_key="month", low=1, high=5, width=560, *, title=""
):
    """A line over the points (dicts) from `low` to `high`; a gap where a value is missing."""
    if not points:
        return ""
    height, left, bottom, top = 180, 36, 28, 12
    span_x = (width - left - 12) / max(len(points) - 1, 1)
    span_y = height - bottom - top

    def y_of(value):
        return top + span_y * (1 - (float(value) - low) / ((high - low) or 1))

    parts = [
        _open(width, height, title),
        f'<line x1="{left}" y1="{top + span_y}" x2="{width - 12}" y2="{top + span_y}" '
        f'stroke="{AXIS}"/>',
        f'<text x="{left - 4}" y="{top + 4}" text-anchor="end" font-size="11" fill="{MUTED}">'
        f"{high}</text>",
        f'<text x="{left - 4}" y="{top + span_y}" text-anchor="end" font-size="11" '
        f'fill="{MUTED}">{low}</text>',
    ]
    path, previous = [], None
    for i, point in enumerate(points):
        x = left + i * span_x
        label = escape(str(point.get(label_key, "")))
        parts.append(
            f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle" font-size="10" '
            f'fill="{MUTED}">{label[-2:]}</text>'
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
    return _safe(parts)


def round_maximum(value) -> float:
    """The axis's top: the smallest 1, 2, 2.5 or 5 times a power of ten at or above `value`
    (1 for nothing, so that an empty chart still has an axis)."""
    value = float(value or 0)
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power + 1e-9:
            return step * power
    return 10 * power  # pragma: no cover (the loop ends at 10)


def series_chart(
    labels: Sequence,
    series: Sequence,
    *,
    kind: str = "line",
    title: str = "",
    width: int = 560,
    height: int = 200,
    every: int = 1,
    places: int = 0,
) -> str:
    """A few series over the same labels: `series` is [(name, [value per label])], a value None
    where there is none. As lines (kind "line") or grouped columns ("columns"), from zero to a
    round maximum, a label under every `every`-th point, a legend on top."""
    labels = [str(label) for label in labels]
    series = [(str(name), list(values)) for name, values in series]
    if not labels or not series:
        return ""
    left, right, top, bottom = 44, 12, 26, 24
    plot_w, plot_h = width - left - right, height - top - bottom
    found = [float(v) for _name, values in series for v in values if v is not None]
    maximum = round_maximum(max(found, default=0))

    def y_of(value):
        return top + plot_h * (1 - float(value) / maximum)

    parts = [_open(width, height, title)]
    # Legend, then the grid: zero, half and the maximum.
    x = left
    for n, (name, _values) in enumerate(series):
        colour = PALETTE[n % len(PALETTE)]
        parts.append(
            f'<rect x="{x}" y="4" width="10" height="10" fill="{colour}"/>'
            f'<text x="{x + 14}" y="13" font-size="11" fill="{TEXT}">{escape(name)}</text>'
        )
        x += 14 + _text_width(name, 11) + 14
    for fraction in (0, 0.5, 1):
        value, y = maximum * fraction, y_of(maximum * fraction)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
            f'stroke="{AXIS if fraction == 0 else GRID}"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="10" '
            f'fill="{MUTED}">{_number(value, 0 if value == int(value) else 1)}</text>'
        )
    band = plot_w / len(labels)
    for i, label in enumerate(labels):
        if i % max(every, 1) == 0 or i == len(labels) - 1:
            parts.append(
                f'<text x="{left + band * (i + 0.5):.1f}" y="{height - 8}" text-anchor="middle" '
                f'font-size="10" fill="{MUTED}">{escape(label)}</text>'
            )
    for n, (name, values) in enumerate(series):
        colour = PALETTE[n % len(PALETTE)]
        path, joined = [], False
        for i, value in enumerate(values[: len(labels)]):
            if value is None:
                joined = False
                continue
            tip = f"<title>{escape(name)}, {escape(labels[i])}: {_number(value, places)}</title>"
            if kind == "columns":
                width_each = band * 0.8 / len(series)
                x0 = left + band * i + band * 0.1 + width_each * n
                y = y_of(value)
                parts.append(
                    f'<rect x="{x0:.1f}" y="{y:.1f}" width="{width_each:.1f}" '
                    f'height="{top + plot_h - y:.1f}" fill="{colour}">{tip}</rect>'
                )
                continue
            cx, cy = left + band * (i + 0.5), y_of(value)
            path.append(f"{'L' if joined else 'M'}{cx:.1f},{cy:.1f}")
            joined = True
            parts.append(
                f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="2.5" fill="{colour}">{tip}</circle>'
            )
        if path:
            parts.append(
                f'<path d="{" ".join(path)}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
    parts.append("</svg>")
    return _safe(parts)
