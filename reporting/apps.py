from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportingConfig(AppConfig):
    name = "reporting"
    verbose_name = _("年度报告")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # reporting reads requests_app, never the reverse: the case services send
        # case_changed, and reporting flags the published reports a change moves.
        # An import sends cases_imported once per batch of cases instead.
        from requests_app.signals import case_changed, cases_imported

        from .services import case_changed_mark_stale, cases_imported_mark_stale

        case_changed.connect(case_changed_mark_stale, dispatch_uid="reporting-mark-stale")
        cases_imported.connect(cases_imported_mark_stale, dispatch_uid="reporting-import-stale")
