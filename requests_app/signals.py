"""Signals ``requests_app`` sends for other apps to react to, without importing them.

``case_changed`` is sent by the one applier of actions (``services.cases.case_apply``)
inside the action's transaction (not for the steps of an imported history), once the case is
saved and its history event written, with:

- ``case``: the saved case; ``event``: the ``CaseEvent`` just written; ``actor``: the user
  (``None`` for the system);
- ``before``: the case's column values (``attname`` → value) before the action.

Receivers must not change the case themselves: one that needs a record on the case returns
what it found and calls a ``requests_app`` service (e.g. ``reporting`` flags published
annual reports stale and has ``case_record_change_after_publication`` write the event).
"""

from django.dispatch import Signal

case_changed = Signal()

# ``cases_imported`` is sent by the history importer (``services.importing``) in the
# transaction that wrote imported cases, with ``cases`` (the saved cases), ``source`` (the
# file imported) and ``run`` (one name per run of the import). Each step of an imported history
# sends no ``case_changed``: the receivers see the imported cases once, as they end up.
cases_imported = Signal()
