"""URL converters. `<id:pk>` is a row id: digits, at most 18 of them, so that an address with
a number no database column holds (/vip/99999999999999999999999/) is "not found" rather than an
error deep in a query (SQLite cannot even bind it)."""


class IdConverter:
    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(value)
