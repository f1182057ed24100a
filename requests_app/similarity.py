"""Who the applicant is, and how alike two descriptions are. Pure: no ORM.

- The applicant's identity (for fees by count and for 重复申请) is the ID number when there is
  one, otherwise the name with the phone number; ``applicant_key`` hashes it so the stored
  key reveals nothing.
- Similarity is the Jaccard index of character bigrams of the normalised descriptions
  (letters, digits and Chinese characters only, lower-cased): |A ∩ B| / |A ∪ B|. It is easy
  to explain ("share 80% of their two-character pieces"), needs no word segmentation for
  Chinese, and ignores punctuation and spacing.
"""

from __future__ import annotations

import hashlib
import unicodedata

# Boilerplate that almost every description starts with; dropping it keeps the bigrams
# about the information itself.
BOILERPLATE = (
    "本人",
    "申请公开",
    "请求公开",
    "申请获取",
    "依申请公开",
    "政府信息公开",
    "申请",
    "请公开",
    "有关",
    "相关",
)


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").lower()
    for phrase in BOILERPLATE:
        text = text.replace(phrase, "")
    return "".join(ch for ch in text if ch.isalnum())


def bigrams(text: str) -> frozenset[str]:
    """The set of two-character pieces of the normalised text (the text itself if shorter)."""
    norm = normalize(text)
    if len(norm) < 2:
        return frozenset({norm}) if norm else frozenset()
    return frozenset(norm[i : i + 2] for i in range(len(norm) - 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def similarity(text_a: str, text_b: str) -> float:
    return jaccard(bigrams(text_a), bigrams(text_b))


def applicant_identity(*, id_number: str = "", name: str = "", phone: str = "") -> str:
    """``id:<ID>`` when there is an ID number, otherwise ``np:<name>|<phone>``."""
    number = "".join((id_number or "").split()).upper()
    if number:
        return f"id:{number}"
    return (
        f"np:{''.join((name or '').split())}|{''.join(ch for ch in (phone or '') if ch.isdigit())}"
    )


def applicant_key(**identity) -> str:
    return hashlib.sha256(applicant_identity(**identity).encode()).hexdigest()
