"""Small helpers for the case page's 复议与诉讼 / 文书 panels."""

from __future__ import annotations

from django import template
from django.utils import timezone
from django.utils.html import format_html

from requests_app.services.letters import SERVICE_METHODS

register = template.Library()


@register.simple_tag
def due(due_on, done_on=None):
    """A deadline of a proceeding: red with （已逾期） when it passed with nothing done."""
    if due_on is None:
        return "—"
    if done_on is None and due_on < timezone.localdate():
        return format_html(
            '<strong class="case-overdue">{}（已逾期）</strong>', f"{due_on:%Y-%m-%d}"
        )
    return f"{due_on:%Y-%m-%d}"


@register.filter
def service_method(value: str) -> str:
    return SERVICE_METHODS.get(value, value or "—")
