"""Client search: what a query means, and the search tokens stored with each client.

Staff type a full phone, its last four digits, an ID number, a Chinese name or part of it, its
pinyin (`zhangwei`) or pinyin initials (`zw`). The name forms are matched against
`Client.search_terms`, which holds, separated by spaces, every substring of the name and the
pinyin and initials of every suffix of it (张伟 -> 张 伟 张伟 zhangwei wei zw w), so a token-prefix
match answers all of them with one index.
"""

import re
from dataclasses import dataclass

from django.db.models import Lookup
from pypinyin import Style, lazy_pinyin

from zhongdu import phones

from .models import SearchTermsField

MAX_SUBSTRING_NAME = 8  # longer names (rare) keep prefixes and suffixes only
_TOKEN_CLEAN = re.compile(r"[^\w]|_", re.UNICODE)
_ID_NUMBER = re.compile(r"^\d{17}[\dXx]$")
# A membership card number: letters then digits, as printed on the card (ZD00001234).
CARD_NUMBER = re.compile(r"^[A-Za-z]{1,4}\d{4,12}$")


def _is_han(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def build_search_terms(name: str) -> tuple[str, str]:
    """(name_pinyin, search_terms) for a client's name."""
    words = [_TOKEN_CLEAN.sub("", word).lower() for word in name.split()]
    name = "".join(words)
    if not name:
        return "", ""
    tokens: list[str] = []
    if _is_han(name):
        chars = list(name)
        n = len(chars)
        if n <= MAX_SUBSTRING_NAME:
            tokens += ["".join(chars[i:j]) for i in range(n) for j in range(i + 1, n + 1)]
        else:
            tokens += ["".join(chars[:j]) for j in range(1, n + 1)]
            tokens += ["".join(chars[i:]) for i in range(1, n)]
        syllables = [s.lower() for s in lazy_pinyin(chars)]
        initials = [s[:1].lower() for s in lazy_pinyin(chars, style=Style.FIRST_LETTER)]
        tokens += ["".join(syllables[i:]) for i in range(n)]
        tokens += ["".join(initials[i:]) for i in range(n)]
        pinyin = "".join(syllables)
    else:
        tokens += [name, *words]
        pinyin = name
    unique = list(dict.fromkeys(token for token in tokens if token))
    # The leading space lets the portable LIKE form match a token's start: '% zhang%'.
    return pinyin[:200], " " + " ".join(unique)


@dataclass(frozen=True)
class ClientQuery:
    kind: str  # "empty" | "phone" | "last4" | "id_number" | "card" | "name"
    value: str


def parse_query(raw: str) -> ClientQuery:
    text = (raw or "").strip()
    if not text:
        return ClientQuery("empty", "")
    compact = re.sub(r"[\s\-()]", "", text)
    if _ID_NUMBER.match(compact):
        return ClientQuery("id_number", compact.upper())
    if CARD_NUMBER.match(compact):
        return ClientQuery("card", compact.upper())
    if compact.isdigit() and len(compact) == 4:
        return ClientQuery("last4", compact)
    phone = phones.e164(compact)
    if phone:
        return ClientQuery("phone", phone)
    term = _TOKEN_CLEAN.sub("", text).lower()[:50]
    if not term:
        return ClientQuery("empty", "")
    return ClientQuery("name", term)


@SearchTermsField.register_lookup
class TermPrefix(Lookup):
    """`search_terms__term_prefix="zw"`: some token starts with the term.

    The term must already be cleaned to word characters (parse_query does), so it cannot carry
    tsquery or LIKE syntax.
    """

    lookup_name = "term_prefix"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        if exact_only(self.rhs):
            return f"({lhs} LIKE %s OR {lhs} LIKE %s)", [
                *lhs_params,
                f"% {self.rhs} %",
                *lhs_params,
                f"% {self.rhs}",
            ]
        return f"{lhs} LIKE %s", [*lhs_params, f"% {self.rhs}%"]

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        # Matches the GIN index of migration clientmgmt 0002 exactly.
        sql = f"to_tsvector('simple'::regconfig, {lhs}) @@ to_tsquery('simple'::regconfig, %s)"
        term = self.rhs if exact_only(self.rhs) else f"{self.rhs}:*"
        return sql, [*lhs_params, term]


def exact_only(term: str) -> bool:
    """One or two Latin letters ("zw") match whole tokens only: as a prefix they match tens of
    thousands of names at a million clients (every "zw…" initials), which no index can cut short.
    "zw" still finds 张伟; for 张伟华, type "zwh"."""
    return len(term) <= 2 and term.isascii()
