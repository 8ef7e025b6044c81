"""Control characters, refused at the edge (CONVENTIONS 22).

Postgres cannot hold NUL in text: a NUL that reaches a query is a server error (psycopg refuses
the statement), and only on Postgres, since SQLite stores it. The other C0 controls, DEL and the
C1 controls are never typed by a person either; stored, they make names that look blank and
break exports and SMS. Tab, carriage return and line feed are text in a multi-line field (a
textarea, a note in an imported file) and are kept there.

The edges that use this module:
- zhongdu.middleware.ControlCharacterMiddleware answers 400 with a page that says what is wrong
  for any control character in the address, the query string or a posted field (tab, CR and LF
  allowed in posted values), before a view or the access check's audit reads them;
- the file imports (client list, billing file, enterprise employees, the admin's price list)
  report a row with a control character as a row error (cells_checked);
- a view that must take what a provider sends (Twilio's webhooks) is marked
  accepts_control_characters and cleans the fields itself (strip_control_characters).
"""

import re

from django.utils.translation import gettext_lazy as _

# C0 controls, DEL and C1 controls.
_ANY = re.compile("[\x00-\x1f\x7f-\x9f]")
# The same without tab, line feed and carriage return: what a multi-line text may not hold.
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

ROW_MESSAGE = _(
    "This row contains an invisible control character (such as NUL), which cannot be stored;"
    " remove it from the file."
)


def has_control_characters(value: str, *, multiline: bool = False) -> bool:
    """Whether value holds a control character; tab, CR and LF count only when not multiline."""
    return (_NOT_TEXT if multiline else _ANY).search(value) is not None


def strip_control_characters(value: str, *, multiline: bool = False) -> str:
    """value without its control characters (keeping tab, CR and LF when multiline)."""
    return (_NOT_TEXT if multiline else _ANY).sub("", value)


def cells_checked(values: dict, *, multiline=()) -> tuple[dict, list[str]]:
    """One imported row's cells without control characters, and the row's error (a list of
    none or one message). The cells are cleaned so that the preview can be stored and shown;
    a row with an error is never imported. Columns named in multiline may keep tab and
    newlines."""
    cleaned, found = {}, False
    for key, value in values.items():
        if isinstance(value, str) and has_control_characters(value, multiline=key in multiline):
            found = True
            value = strip_control_characters(value, multiline=key in multiline)
        cleaned[key] = value
    return cleaned, [str(ROW_MESSAGE)] if found else []


def accepts_control_characters(view):
    """Marks a view that reads posted fields a provider sends, which cannot be refused (an SMS
    may hold anything): ControlCharacterMiddleware lets its posted fields through, and the view
    cleans them with strip_control_characters. Its address and query string are still
    checked."""
    view.accepts_control_characters = True
    return view
