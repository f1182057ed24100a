"""Recompute the clock of every open case, in bulk: run it after changing a clock setting
(``settings.DISCLOSURE``: ``SUPPLEMENT_PERIOD_DAYS``, ``REMINDER_DAYS_BEFORE``,
``COUNT_RECEIPT_DAY``, ``PAUSE_CLOCK_FOR_FEE``) or an agency's own 补正 period. Stored
deadlines do not move by themselves when settings change.

    manage.py recompute_clocks                    # every open case
    manage.py recompute_clocks --agency xixiu     # one agency and its descendants

Cases are recomputed by ``services.clock.cases_clock_recompute``: locked and written in
batches (one transaction each; events read in one query per batch), each moved due date
recorded as a ``due_changed`` event with the reason. Idempotent: a second run changes nothing.
A case whose next action moved to today or earlier is taken by the next deadline sweep.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from requests_app.choices import OPEN_STATES
from requests_app.models import Agency, Case
from requests_app.services.clock import cases_clock_recompute

DEFAULT_REASON = "settings changed: clock recomputed (recompute_clocks)"


class Command(BaseCommand):
    help = "Recompute the clock (due dates, reminders) of every open case, in bulk."

    def add_arguments(self, parser):
        parser.add_argument("--agency", help="only this agency (code) and its descendants")
        parser.add_argument("--reason", default=DEFAULT_REASON, help="the due_changed reason")
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, agency=None, reason, batch_size, **options):
        cases = Case.objects.filter(state__in=sorted(OPEN_STATES))
        if agency:
            try:
                found = Agency.objects.get(code=agency)
            except Agency.DoesNotExist as exc:
                raise CommandError(f"unknown agency {agency!r}") from exc
            cases = cases.filter(agency__path__startswith=found.path)
        ids = list(cases.order_by("pk").values_list("pk", flat=True))
        changed = cases_clock_recompute(case_ids=ids, reason=reason, batch_size=batch_size)
        self.stdout.write(f"recomputed {len(ids)} open cases; {changed} clocks changed")
