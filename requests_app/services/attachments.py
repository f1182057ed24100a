"""The applicant's files: the identity document and an agent's 授权委托书 with an application,
the files of a 补正 answered online.

Checked before anything is stored (``attachment_check``: typed by content — PDF, JPEG or PNG —
not empty, not over ``settings.PORTAL["UPLOAD_MAX_BYTES"]``), so a refused form keeps nothing;
stored through the records storage with one ``attachment_added`` event for the files of one
step (``attachments_store``, inside the caller's transaction; a failure removes the files
already written).
"""

from __future__ import annotations

import hashlib
import os

from django.conf import settings

import redaction
from requests_app.models import Attachment, AttachmentKind, Case, EventKind
from requests_app.services.cases import APPLICANT_LABEL, case_perform_action
from requests_app.services.errors import InvalidInput

ACCEPTED_KINDS = ("pdf", "jpeg", "png")
_CHUNK = 64 * 1024


def attachment_check(upload, *, field: str) -> dict:
    """The upload's content kind, SHA-256 and size, read in chunks. Raises ``InvalidInput``
    naming ``field``: empty, too large, or not a PDF, JPEG or PNG (by content)."""
    limit = settings.PORTAL["UPLOAD_MAX_BYTES"]
    size = getattr(upload, "size", None) or 0
    if size > limit:
        raise InvalidInput(
            f"文件过大（上限 {limit // (1024 * 1024)} MB）。",
            f"The file is larger than {limit} bytes.",
            fields={field: ["too_large"]},
        )
    digest = hashlib.sha256()
    total = 0
    for chunk in upload.chunks(_CHUNK):
        digest.update(chunk)
        total += len(chunk)
    upload.seek(0)
    if total == 0:
        raise InvalidInput("文件为空。", "The file is empty.", fields={field: ["empty"]})
    try:
        kind = redaction.sniff_file(upload)
    except redaction.RedactionError as exc:
        kind = None
        cause = exc
    else:
        cause = None
    if kind not in ACCEPTED_KINDS:
        raise InvalidInput(
            "只接受 PDF、JPG 或 PNG 文件（按文件内容判断，不看扩展名）。",
            "Only PDF, JPEG or PNG files (by content, not by name).",
            fields={field: ["unsupported_type"]},
        ) from cause
    upload.seek(0)
    return {"content_kind": kind, "sha256": digest.hexdigest(), "size": total}


def attachments_store(*, case: Case, files: list[tuple[str, object]], at=None) -> list[Attachment]:
    """Store ``files`` — (``AttachmentKind``, upload) pairs, already checked or not — as the
    applicant's, with one ``attachment_added`` event. Runs inside the caller's transaction;
    when anything fails, the files written so far are removed and the error propagates (the
    transaction rolls the rows back). Raises InvalidInput."""
    if not files:
        return []
    checked = []
    for kind, upload in files:
        if kind not in AttachmentKind.values:
            raise InvalidInput(
                "材料类型无效。", "Unknown attachment kind.", fields={kind: ["invalid"]}
            )
        checked.append((kind, upload, attachment_check(upload, field=kind)))
    created: list[Attachment] = []

    def apply(locked: Case) -> None:
        for kind, upload, facts in checked:
            row = Attachment(
                case=locked,
                kind=kind,
                original_name=os.path.basename(getattr(upload, "name", "") or "")[:255],
                **facts,
            )
            row.file.save(f"upload.{facts['content_kind']}", upload, save=False)
            created.append(row)
            row.save()

    try:
        case_perform_action(
            case=case,
            actor=None,
            kind=EventKind.ATTACHMENT_ADDED,
            apply=apply,
            effective_at=at,
            data={
                "files": [
                    {"kind": kind, "content_kind": facts["content_kind"], "size": facts["size"]}
                    for kind, _upload, facts in checked
                ]
            },
            label=APPLICANT_LABEL,
        )
    except BaseException:
        for row in created:
            if row.file:
                row.file.storage.delete(row.file.name)
        raise
    return created
