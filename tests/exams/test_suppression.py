"""exams.teams.suppress: groups of fewer than five people are never shown, and complementary
suppression leaves no hidden figure that can be worked out from the shown ones and the totals."""

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exams.teams import MINIMUM, Table, percent, suppress, with_margins


def lines(table):
    """Every additive equation of the table: each row with its total, each column with its."""
    rows, columns = len(table.values), len(table.values[0])
    yield from ([(r, c) for c in range(columns)] for r in range(rows))
    yield from ([(r, c) for r in range(rows)] for c in range(columns))


def attack(table):
    """What a reader works out by subtraction: in any row or column (cells and their total)
    with exactly one unknown entry, the unknown is the total less the others (or the cells'
    sum); repeated with what was learnt until nothing more comes. Returns {(r, c): value}."""
    rows, columns = len(table.values), len(table.values[0])
    known = {
        (r, c): table.values[r][c]
        for r in range(rows)
        for c in range(columns)
        if not table.hidden[r][c]
    }
    learnt = {}
    changed = True
    while changed:
        changed = False
        for line in lines(table):
            unknown = [rc for rc in line if rc not in known]
            if len(unknown) != 1:
                continue
            (r, c), total_at = unknown[0], line[-1]
            cells = line[:-1]
            if unknown[0] == total_at:
                value = sum(known[rc] for rc in cells)
            else:
                value = known[total_at] - sum(known[rc] for rc in cells if rc != unknown[0])
            known[(r, c)] = learnt[(r, c)] = value
            changed = True
    return learnt


def determined(table):
    """The hidden entries the published figures determine exactly, by linear algebra (not by
    the suppression's own reasoning): every row and every column with its total is an
    equation (cells minus total = 0); the unknowns are the hidden entries. A hidden entry x_i
    is determined iff the unit vector e_i lies in the row space of the equations' coefficients
    on the hidden entries, i.e. iff in the reduced row echelon form x_i is a pivot whose row
    has no other non-zero coefficient. Gaussian elimination over fractions. Returns
    {(r, c): value}, the values solved from the shown figures."""
    rows, columns = len(table.values), len(table.values[0])
    unknowns = [(r, c) for r in range(rows) for c in range(columns) if table.hidden[r][c]]
    index = {rc: i for i, rc in enumerate(unknowns)}
    equations = []  # [coefficients..., constant]: sum(coefficient * unknown) = constant
    for line in lines(table):
        coefficients = [Fraction(0)] * len(unknowns)
        constant = Fraction(0)
        for position, (r, c) in enumerate(line):
            sign = -1 if position == len(line) - 1 else 1  # the line's total
            if table.hidden[r][c]:
                coefficients[index[(r, c)]] += sign
            else:
                constant -= sign * table.values[r][c]
        equations.append([*coefficients, constant])
    pivots, row = [], 0
    for column in range(len(unknowns)):
        chosen = next((i for i in range(row, len(equations)) if equations[i][column]), None)
        if chosen is None:
            continue
        equations[row], equations[chosen] = equations[chosen], equations[row]
        pivot = equations[row][column]
        equations[row] = [value / pivot for value in equations[row]]
        for i, other in enumerate(equations):
            if i != row and other[column]:
                factor = other[column]
                equations[i] = [a - factor * b for a, b in zip(other, equations[row], strict=True)]
        pivots.append(column)
        row += 1
    found = {}
    for i, column in enumerate(pivots):
        coefficients = equations[i][:-1]
        if all(value == 0 for j, value in enumerate(coefficients) if j != column):
            found[unknowns[column]] = equations[i][-1]
    return found


def sensitive(value, group, *, of_group):
    if group == 0:
        return False
    if group < MINIMUM or 0 < value < MINIMUM:
        return True
    return of_group and value > 0 and group - value < MINIMUM


counts = st.integers(min_value=0, max_value=40)
shapes = st.tuples(st.integers(1, 6), st.integers(1, 4))


@st.composite
def tables(draw):
    rows, columns = draw(shapes)
    small = st.one_of(st.integers(0, 6), counts)  # many small cells, the interesting case
    return [[draw(small) for _c in range(columns)] for _r in range(rows)]


@st.composite
def finding_tables(draw):
    groups = draw(tables())
    cells = [[draw(st.integers(0, group)) for group in row] for row in groups]
    return cells, groups


def check(table, cells, groups=None):
    full = with_margins(cells)
    sizes = with_margins(groups) if groups is not None else full
    assert [list(row) for row in table.values] == full  # the true totals are given
    for r, row in enumerate(full):
        for c, value in enumerate(row):
            if sensitive(value, sizes[r][c], of_group=groups is not None):
                assert table.hidden[r][c], (r, c, value)
    for line in lines(table):
        assert sum(table.hidden[r][c] for r, c in line) != 1
    assert attack(table) == {}
    assert determined(table) == {}


@settings(max_examples=400, deadline=None)
@given(tables())
def test_no_hidden_count_of_people_can_be_worked_out(cells):
    check(suppress(cells), cells)


@settings(max_examples=400, deadline=None)
@given(finding_tables())
def test_no_hidden_count_of_a_finding_can_be_worked_out(data):
    cells, groups = data
    check(suppress(cells, groups), cells, groups)


def test_a_hidden_entry_linking_two_groups_of_hidden_entries_is_protected():
    # With "every row and column has none or two hidden entries or more" only, these cells
    # were published as [[0, #, 6, #], [d, 20, f, 30], [0, #, h, #], [c, 25, C, 43]] (# and
    # the letters hidden, the last row and column the totals). Every line has two hidden
    # entries, yet the first column gives c = d, the totals row C = 43 - 25 - c = 18 - d, the
    # second row f = 10 - d, and the third column h = C - 6 - f = 18 - d - 6 - (10 - d) = 2.
    cells = [[0, 4, 6], [7, 20, 3], [0, 1, 2]]
    table = suppress(cells)
    check(table, cells)
    # The counterexample's publication itself is caught by the exact check.
    leaky = Table(
        values=table.values,
        hidden=(
            (False, True, False, True),
            (True, False, True, False),
            (False, True, True, True),
            (True, False, True, False),
        ),
        groups=table.groups,
    )
    assert attack(leaky) == {}
    assert determined(leaky)[(2, 2)] == 2


def test_the_exact_check_finds_what_subtraction_finds():
    table = Table(
        values=tuple(map(tuple, with_margins([[3, 10], [8, 12]]))),
        hidden=((True, True, False), (False, False, False), (False, False, False)),
        groups=(),
    )
    assert attack(table) == {(0, 0): 3, (0, 1): 10} == determined(table)


def test_one_small_cell_takes_the_next_smallest_of_its_row_and_column():
    table = suppress([[3, 10, 20], [8, 12, 30], [9, 40, 50]])
    hidden = {(r, c) for r, row in enumerate(table.hidden) for c, h in enumerate(row) if h}
    # 3 is hidden; its row's next smallest (10) and its column's (8) go with it, and then the
    # cell where their row and column cross (12), so that every line has two hidden entries.
    assert hidden == {(0, 0), (0, 1), (1, 0), (1, 1)}
    assert table.shown(0, 3) == 33 and table.shown(3, 0) == 20 and table.shown(3, 3) == 182
    assert attack(table) == {}


def test_a_small_total_is_hidden_with_its_cells():
    table = suppress([[2, 1], [10, 20]])
    assert table.hidden[0][2]  # the first row's total, 3
    assert table.hidden[0][0] and table.hidden[0][1]
    # The second row's total (30) would give the first's away from the grand total (33), and
    # then its cells would have to go too; the column totals stay shown.
    assert table.hidden[1] == (True, True, True)
    assert [table.shown(2, c) for c in range(3)] == [12, 21, 33]
    assert attack(table) == {}


def test_a_zero_is_a_last_resort_complement():
    table = suppress([[3, 0, 9]])
    # Beside the 3, the 9 is hidden rather than the 0: hiding a zero would give the 3 away
    # within a range of nothing.
    assert table.hidden[0][0] and table.hidden[0][2] and not table.hidden[0][1]
    assert determined(table) == {}


def test_a_table_of_large_groups_is_shown_whole():
    table = suppress([[5, 6], [7, 8]])
    assert not any(any(row) for row in table.hidden)


def test_a_finding_everyone_in_a_group_has_is_hidden():
    table = suppress([[6, 0], [0, 0]], [[6, 10], [10, 10]])
    # All six people of the first group have it: each one's result would be known.
    assert table.hidden[0][0]
    assert attack(table) == {}


def test_a_finding_in_a_group_under_five_is_hidden_even_at_zero():
    table = suppress([[0, 0], [5, 5]], [[3, 20], [20, 20]])
    assert table.hidden[0][0]
    assert attack(table) == {}


def test_bad_tables_are_refused():
    with pytest.raises(ValueError):
        suppress([])
    with pytest.raises(ValueError):
        suppress([[1, 2], [3]])
    with pytest.raises(ValueError):
        suppress([[-1]])
    with pytest.raises(ValueError):
        suppress([[1, 2]], [[1, 2, 3]])


def test_percentages_only_of_shown_figures_of_groups_of_five():
    assert percent(2, 10) == 20.0
    assert percent(None, 10) is None
    assert percent(1, None) is None
    assert percent(1, 4) is None
