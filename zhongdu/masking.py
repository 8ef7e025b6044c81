"""Masking of identity numbers for display, exports and logs: every page shows them masked
unless the viewer pressed "show" (which is audited). Phone numbers are masked by zhongdu.phones."""


def mask_id_number(value: str) -> str:
    """110***********1234: at most the first three and the last four characters."""
    if not value:
        return ""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
