"""Personal data as a caseworker without the right to see it is shown it (lists, case pages,
exports, the staff API): the ends kept, the middle starred. One rule for every edge."""

from __future__ import annotations

MASK = "*"


def mask_middle(value: str, keep_start: int, keep_end: int) -> str:
    """``5204**********123X``: the ends kept, every character between them starred."""
    if not value:
        return ""
    if len(value) <= keep_start + keep_end:
        return MASK * len(value)
    return value[:keep_start] + MASK * (len(value) - keep_start - keep_end) + value[-keep_end:]


def mask_id_number(value: str) -> str:
    return mask_middle(value, 4, 4)


def mask_phone(value: str) -> str:
    return mask_middle(value, 3, 4)


def mask_email(value: str) -> str:
    if not value:
        return ""
    if "@" not in value:  # not an address: nothing of it is shown
        return MASK * len(value)
    local, _, domain = value.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_address(value: str) -> str:
    """The first six characters (province and city, usually), then ``****``."""
    if not value:
        return ""
    return f"{value[:6]}****" if len(value) > 6 else "****"


PERSONAL_MASKS = {
    "id_number": mask_id_number,
    "phone": mask_phone,
    "email": mask_email,
    "address": mask_address,
}
