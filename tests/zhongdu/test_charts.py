"""The one chart module (zhongdu.charts): round axes, escaped text, every value drawn once with
its title, gaps for missing values, nothing at all for nothing to draw."""

from zhongdu import charts


def test_the_axis_tops_at_a_round_number():
    assert charts.round_maximum(0) == 1
    assert charts.round_maximum(None) == 1
    assert charts.round_maximum(3) == 5
    assert charts.round_maximum(7) == 10
    assert charts.round_maximum(10) == 10
    assert charts.round_maximum(11) == 20
    assert charts.round_maximum(180) == 200
    assert charts.round_maximum(0.3) == 0.5


def test_columns_draw_every_value_with_its_title_and_escape_the_text():
    svg = charts.series_chart(
        ["w<1", "w2"], [("A&B", [3, 0]), ("到院", [1, None])], kind="columns", title="<x>"
    )
    assert svg.startswith('<svg class="report-chart" role="img" aria-label="&lt;x&gt;"')
    assert "<title>A&amp;B, w&lt;1: 3</title>" in svg
    assert "<title>A&amp;B, w2: 0</title>" in svg
    assert "<title>到院, w&lt;1: 1</title>" in svg
    assert "到院, w2" not in svg  # a missing value draws nothing
    assert svg.count("</rect>") == 3
    assert "<x>" not in svg and "A&B" not in svg


def test_lines_break_where_a_value_is_missing():
    svg = charts.series_chart(["1", "2", "3", "4"], [("n", [1, 2, None, 4])])
    path = svg.split('<path d="')[1].split('"')[0]
    assert path.count("M") == 2 and path.count("L") == 1
    assert svg.count("<circle") == 3


def test_nothing_to_draw_draws_nothing_and_zeros_still_have_an_axis():
    assert charts.series_chart([], [("n", [])]) == ""
    assert charts.series_chart(["a"], []) == ""
    assert charts.bar_chart([{"name": "x", "average": None}]) == ""
    assert charts.line_chart([]) == ""
    svg = charts.series_chart(["a", "b"], [("n", [0, 0])])
    assert "<title>n, a: 0</title>" in svg and ">1</text>" in svg  # the axis from 0 to 1


def test_a_bar_prints_its_value_with_the_unit():
    svg = charts.bar_chart(
        [{"name": "电视", "rate": 33.3}], "rate", "name", 100, places=1, unit="%", title="t"
    )
    assert "<title>电视: 33.3%</title>" in svg and ">33.3%</text>" in svg
