"""Reading a table of a rendered page as a reader (or a screen reader) would: the text of each
cell, row by row, of the table marked data-testid="...". The charts' tests read the numbers a
chart's table gives."""

from html.parser import HTMLParser


class _TableReader(HTMLParser):
    def __init__(self, testid: str):
        super().__init__()
        self.testid = testid
        self.depth = 0  # tables open inside the wanted one, the wanted one counting 1
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            if self.depth or dict(attrs).get("data-testid") == self.testid:
                self.depth += 1
        elif self.depth and tag == "tr":
            self.rows.append([])
        elif self.depth and tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "table" and self.depth:
            self.depth -= 1
        elif self.depth and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def table_rows(html: str, testid: str) -> list[list[str]]:
    """Every row of the table data-testid=`testid` (header rows too) as a list of cell texts;
    an empty list when the page has no such table."""
    reader = _TableReader(testid)
    reader.feed(html)
    return reader.rows
