"""An import of case histories in progress (``requests_app.importers``).

A history is replayed through the same plans as live work (``services.cases``), but what a
live change sets off per action is done once per imported case set instead: the published
annual reports the imported cases count in are flagged stale with one note per report naming
the import (``cases_imported``, received by ``reporting``), not with a
``changed_after_publication`` event per step of every case. ``importing()`` marks the
services' actions as part of an import, so that ``case_apply`` leaves that to the importer.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

from requests_app.signals import cases_imported

_IMPORTING: ContextVar[bool] = ContextVar("importing_case_histories", default=False)


@contextmanager
def importing() -> Iterator[None]:
    """Within this block the services' actions are steps of an imported history."""
    token = _IMPORTING.set(True)
    try:
        yield
    finally:
        _IMPORTING.reset(token)


def active() -> bool:
    """Whether the current action is a step of an imported history."""
    return _IMPORTING.get()


def new_run_id() -> str:
    """A name for one run of an import, under which its notes on reports are merged."""
    return uuid.uuid4().hex[:12]


def cases_imported_send(*, cases: Sequence, source: str, run: str) -> None:
    """Tell the other apps that ``cases`` (saved, with their history) were imported by the
    run ``run`` from ``source``; call it in the transaction that wrote them."""
    if cases:
        cases_imported.send(sender=type(cases[0]), cases=cases, source=source, run=run)
