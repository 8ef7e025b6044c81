"""URL converters. `<id:pk>` is a row id: digits, at most 18 of them, so that an address with
a number no database column holds (/vip/99999999999999999999999/) is "not found" rather than an
error deep in a query (SQLite cannot even bind it)."""

import re

ROW_ID = re.compile(r"[0-9]{1,18}")


def row_id(value) -> int | None:
    """A row id given in a query string (`?recall=`, `?call=`), by the same rule as `<id:pk>`:
    its number, or None when it is none."""
    if isinstance(value, str) and value.isascii() and ROW_ID.fullmatch(value):
        return int(value)
    return None


class IdConverter:
    regex = ROW_ID.pattern

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(value)
