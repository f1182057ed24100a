"""重复申请 (条例 Art 36(六)): the check made when an application arrives.

One row per case: a hash of the applicant's identity (the ID number, or name and phone when
there is none — never the raw values), and, when the same applicant asked the same agency for
similar information before, that earlier case and the similarity. The hash is indexed by
agency, so the check reads only that applicant's earlier applications.

A submission through the public API writes its row *pending* (``checked_at`` empty, the hash
already set so later checks see this application) and the sweep completes it
(``services.repeats``); counter intake checks at once.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class RepeatCheck(models.Model):
    case = models.OneToOneField(
        "requests_app.Case",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="repeat_check",
    )
    agency = models.ForeignKey("requests_app.Agency", on_delete=models.CASCADE, related_name="+")
    applicant_key = models.CharField(max_length=64)
    repeats = models.ForeignKey(
        "requests_app.Case",
        verbose_name=_("疑似重复的在先申请"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    similarity = models.FloatField(_("相似度"), default=0.0)
    # Empty while the check is pending (written at submission, completed by the sweep).
    checked_at = models.DateTimeField(_("核查时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("重复申请核查")
        verbose_name_plural = _("重复申请核查")
        indexes = [
            # The applicant's earlier applications to the agency, newest first, by index only.
            models.Index(
                fields=["agency", "applicant_key", "case"], name="repeat_agency_applicant"
            ),
            models.Index(
                fields=["case"], condition=Q(checked_at__isnull=True), name="repeat_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} → {self.repeats_id or '—'}"
