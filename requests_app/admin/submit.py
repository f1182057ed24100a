"""How the admin's own forms write: a valid form goes to one service, and the service's answer
comes back as the caseworker expects — the same for a case action, counter intake's siblings
and a complaint step."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect

from requests_app.services.errors import CaseNotFound, InvalidInput, ServiceError


def invalid_on_field(form, exc: InvalidInput) -> None:
    """The service's InvalidInput on the field it names (or the whole form)."""
    named = [name for name in exc.fields if name in form.fields]
    form.add_error(named[0] if named else None, exc.message)


def run_service(
    request,
    form,
    run: Callable,
    *,
    label: str,
    back_url: str,
    done_url: str | Callable[[object], str] | None = None,
) -> HttpResponse | None:
    """Call ``run(form)`` for a valid bound ``form``.

    Success: "已完成“label”。" and a redirect to ``done_url`` (a URL, or a function of what the
    service returned; ``back_url`` when absent). The service's InvalidInput: the message on
    its field, and ``None`` — the caller shows the form again. Another refusal (a state that
    does not allow the step, a missing permission, someone else acted first): its message and
    back to ``back_url``, which shows the record as it is now. A vanished case is a 404."""
    try:
        result = run(form)
    except CaseNotFound as exc:
        raise Http404(exc.message) from exc
    except InvalidInput as exc:
        invalid_on_field(form, exc)
        return None
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect(back_url)
    messages.success(request, f"已完成“{label}”。")
    if callable(done_url):
        return redirect(done_url(result))
    return redirect(done_url or back_url)
