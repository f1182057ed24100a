"""The year-end run (Art 49): on 1 January, every agency's report for the year before.

Departments publish by 31 January, the government of a level (aggregating its departments
and lower levels) by 31 March. The beat entry ``annual-reports-year-end`` in
``CELERY_BEAT_SCHEDULE`` runs :func:`generate_year_end_reports_task`; it is safe to run twice
(an existing report is left alone, notifications have unique keys).
"""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.db import IntegrityError
from django.utils import timezone

from requests_app.choices import AgencyKind, Role
from requests_app.models import Agency, Caseworker, Notification

from .engine import compute_tree_reports
from .formats import format_for_year
from .models import AnnualReport, ReportStatus
from .services import report_generate

logger = logging.getLogger(__name__)

# Art 49: governments (a level's 人民政府, counties/districts) by 31 March; others 31 January.
GOVERNMENT_KINDS = frozenset({AgencyKind.GOVERNMENT, AgencyKind.DISTRICT})
NOTIFIED_ROLES = (Role.APPROVER, Role.ADMINISTRATOR)


def publication_deadline(agency: Agency, year: int) -> dt.date:
    """The day the ``year`` report of ``agency`` must be published (Art 49)."""
    if agency.kind in GOVERNMENT_KINDS:
        return dt.date(year + 1, 3, 31)
    return dt.date(year + 1, 1, 31)


def generate_year_end_reports(year: int | None = None) -> dict[str, int]:
    """Generate (once) the ``year`` report, with descendants, of every agency; notify.

    Each government tree is computed at once (``compute_tree_reports``: one pass over the
    tree's cases, every agency's numbers summed from its subtree), then stored agency by
    agency; an agency whose report exists keeps it."""
    year = year or timezone.localdate().year - 1
    fmt = format_for_year(year)
    created = existing = failed = 0
    for root in Agency.objects.filter(parent__isnull=True).order_by("path"):
        try:
            results = compute_tree_reports(root, year=year, format=fmt)
        except Exception:
            logger.exception("annual reports %s for the tree of %s failed", year, root.code)
            results = {}
        for agency in Agency.objects.subtree(root).order_by("path").iterator():
            report = AnnualReport.objects.filter(
                agency=agency, year=year, format=fmt.code, include_descendants=True
            ).first()
            if report is not None:
                existing += 1
            else:
                try:
                    report = report_generate(
                        agency=agency, year=year, format=fmt, result=results.get(agency.pk)
                    )
                    created += 1
                except IntegrityError:  # another worker generated it first
                    report = AnnualReport.objects.get(
                        agency=agency, year=year, format=fmt.code, include_descendants=True
                    )
                    existing += 1
                except Exception:
                    logger.exception("annual report %s for %s failed", year, agency.code)
                    failed += 1
                    continue
            notify_report_ready(report)
    return {"created": created, "existing": existing, "failed": failed}


def notify_report_ready(report: AnnualReport) -> int:
    """Inbox messages to the agency's approvers and administrators (once per person)."""
    deadline = publication_deadline(report.agency, report.year)
    failed = len(report.failed_checks)
    body = (
        f"{report.agency.name}{report.year}年度政府信息公开工作年度报告已根据办理记录生成，"
        f"请审核数据、填写文字部分并于 {deadline:%Y年%m月%d日} 前发布（《条例》第四十九条）。"
        + (f"注意：有 {failed} 项校验未通过。" if failed else "")
    )
    rows = [
        Notification(
            dedup_key=f"annual-report:{report.pk}:user:{user_id}",
            recipient_id=user_id,
            channel=Notification.Channel.INBOX,
            kind="annual_report_generated",
            subject=f"{report.year}年度报告已生成：{report.agency.name}"[:200],
            body=body,
        )
        for user_id in Caseworker.objects.filter(
            agency=report.agency, role__in=NOTIFIED_ROLES
        ).values_list("user_id", flat=True)
    ]
    return len(Notification.objects.bulk_create(rows, ignore_conflicts=True))


@shared_task(name="reporting.generate_year_end_reports_task")
def generate_year_end_reports_task(year: int | None = None) -> dict[str, int]:
    return generate_year_end_reports(year)


def subordinate_report_status(
    agency: Agency, year: int, today: dt.date | None = None
) -> list[dict]:
    """For the supervising office: each agency of the subtree, its ``year`` report's status,
    its Art 49 deadline and whether it is overdue. One query for agencies, one for reports."""
    today = today or timezone.localdate()
    fmt = format_for_year(year)
    reports = {
        r.agency_id: r
        for r in AnnualReport.objects.filter(
            agency__path__startswith=agency.path,
            year=year,
            format=fmt.code,
            include_descendants=True,
        )
    }
    rows = []
    for member in Agency.objects.subtree(agency).order_by("path"):
        report = reports.get(member.pk)
        deadline = publication_deadline(member, year)
        status = report.status if report else "missing"
        rows.append(
            {
                "agency": member.code,
                "name": member.name,
                "depth": member.depth,
                "kind": member.kind,
                "status": status,
                "status_label": str(ReportStatus(status).label) if report else "未生成",
                "report_id": report.pk if report else None,
                "generated_at": report.generated_at if report else None,
                "reviewed_at": report.reviewed_at if report else None,
                "published_at": report.published_at if report else None,
                "is_stale": bool(report and report.is_stale),
                "failed_checks": len(report.failed_checks) if report else 0,
                "deadline": deadline,
                "is_overdue": status != ReportStatus.PUBLISHED and today > deadline,
            }
        )
    return rows
