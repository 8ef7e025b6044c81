"""Masking of identity numbers and names for display, exports and logs: every page shows ID
numbers masked unless the viewer pressed "show" (which is audited), and pages the public may read
show names masked. Phone numbers are masked by zhongdu.phones."""


def mask_id_number(value: str) -> str:
    """110***********1234: at most the first three and the last four characters."""
    if not value:
        return ""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_name(value: str) -> str:
    """张*伟, 张*, 欧**明: a person's name where strangers may read it (the waiting-room display).
    The first and the last character stay (one character only for a two-character name); a name
    in Latin letters keeps each word's initial (J*** S****)."""
    name = " ".join((value or "").split())
    if not name:
        return ""
    if any(_is_cjk(char) for char in name):
        # Spaces typed into a Chinese name ("李 娜") would otherwise keep each character whole.
        name = name.replace(" ", "")
    if " " in name:
        return " ".join(word[0] + "*" * (len(word) - 1) for word in name.split(" "))
    if len(name) == 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def _is_cjk(char: str) -> bool:
    """A character of a Chinese (or Japanese, Korean) name: the CJK ideograph blocks."""
    code = ord(char)
    return 0x3400 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0x20000 <= code <= 0x3FFFF
