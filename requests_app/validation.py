"""Checks on what applicants and caseworkers type, shared by the API and the admin forms.

Pure functions: each returns the cleaned value or raises ``ValueError`` with a Chinese message
(the API adds the English one from ``MESSAGES_EN``).
"""

from __future__ import annotations

import json
import re
from typing import Any

# GB 11643-1999: the 18th character of a mainland ID number is a checksum.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$")
# GB 32100-2015: 统一社会信用代码, 18 characters with a checksum.
_CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE_RE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")
_POSTAL_RE = re.compile(r"^\d{6}$")

MESSAGES_EN = {
    "身份证号码格式不正确。": "The ID card number is malformed.",
    "身份证号码校验位不正确。": "The ID card number's check digit is wrong.",
    "身份证号码中的出生日期无效。": "The birth date in the ID card number is invalid.",
    "统一社会信用代码格式不正确。": "The unified social credit code is malformed.",
    "统一社会信用代码校验位不正确。": "The unified social credit code's check character is wrong.",
    "电话号码格式不正确（手机号 11 位，或区号-座机号）。": "The phone number is malformed (11-digit mobile, or area code-number).",
    "邮政编码应为 6 位数字。": "The postal code must be 6 digits.",
}


def mainland_id_number(value: str) -> str:
    import datetime as dt

    value = (value or "").strip().upper()
    if not _ID_RE.match(value):
        raise ValueError("身份证号码格式不正确。")
    try:
        dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError as exc:
        raise ValueError("身份证号码中的出生日期无效。") from exc
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != value[17]:
        raise ValueError("身份证号码校验位不正确。")
    return value


def mainland_id_check_digit(first17: str) -> str:
    """The check character for 17 digits (used by factories and the demo data)."""
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def credit_code(value: str) -> str:
    value = (value or "").strip().upper()
    if not _CREDIT_RE.match(value):
        raise ValueError("统一社会信用代码格式不正确。")
    total = sum(
        _CREDIT_ALPHABET.index(c) * w for c, w in zip(value[:17], _CREDIT_WEIGHTS, strict=True)
    )
    check = _CREDIT_ALPHABET[(31 - total % 31) % 31]
    if check != value[17]:
        raise ValueError("统一社会信用代码校验位不正确。")
    return value


def credit_code_check_char(first17: str) -> str:
    total = sum(
        _CREDIT_ALPHABET.index(c) * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True)
    )
    return _CREDIT_ALPHABET[(31 - total % 31) % 31]


def phone_number(value: str) -> str:
    value = re.sub(r"[\s()]", "", value or "")
    if value.startswith("+86"):
        value = value[3:]
    if not (_MOBILE_RE.match(value) or _LANDLINE_RE.match(value)):
        raise ValueError("电话号码格式不正确（手机号 11 位，或区号-座机号）。")
    return value


def is_mobile_number(value: str) -> bool:
    """A mainland mobile number (text messages go only to these)."""
    try:
        return bool(_MOBILE_RE.match(phone_number(value)))
    except ValueError:
        return False


def postal_code(value: str) -> str:
    value = (value or "").strip()
    if value and not _POSTAL_RE.match(value):
        raise ValueError("邮政编码应为 6 位数字。")
    return value


def id_number(id_type: str, value: str) -> str:
    """Validate an identity document number by its type."""
    if id_type == "mainland_id":
        return mainland_id_number(value)
    if id_type == "credit_code":
        return credit_code(value)
    value = (value or "").strip()
    if not value or len(value) > 40 or not re.match(r"^[A-Za-z0-9()\-]+$", value):
        raise ValueError("证件号码格式不正确。")
    return value


MESSAGES_EN["证件号码格式不正确。"] = "The document number is malformed."


# JSON escapes of text PostgreSQL cannot store: NUL, and (possibly lone) UTF-16 surrogates.
SUSPECT_JSON_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


def unstorable_text(obj: Any) -> str:
    """Why the database could not store the text in this parsed JSON (a NUL character, which
    PostgreSQL's text and jsonb refuse, or a lone surrogate, which no UTF-8 text holds), or
    ''. The importer and the API's free-form objects ask, so that such input is refused with
    a reason instead of failing the write."""
    text = json.dumps(obj, ensure_ascii=False)
    if "\\u0000" in text:
        return "文本含有空字符 / the text contains a NUL character (\\u0000)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "文本含有无效的 Unicode 字符 / the text contains a lone UTF-16 surrogate"
    return ""
