from django import template
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from audit.history import FORMATS, may_export_history

register = template.Library()


@register.simple_tag(takes_context=True)
def history_export_links(context, case):
    """The case page's export buttons, for the roles that may export the history."""
    request = context.get("request")
    if case is None or request is None or not may_export_history(request.user):
        return ""
    return format_html_join(
        "",
        '<li><a class="history-export" data-format="{}" href="{}">{}</a></li>',
        (
            (
                fmt,
                reverse("audit-case-history-export", args=[case.pk, fmt]),
                format_html("导出办理记录（{}）", fmt.upper()),
            )
            for fmt in FORMATS
        ),
    )
