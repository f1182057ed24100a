"""The admin index's inbox banner: the current user's unread in-app notifications."""

from django import template

from requests_app.admin.access import is_admin_user
from requests_app.models import Notification

register = template.Library()


def unread_notifications(user):
    return Notification.objects.filter(
        recipient=user, channel=Notification.Channel.INBOX, read_at__isnull=True
    )


@register.simple_tag(takes_context=True)
def inbox_summary(context) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not is_admin_user(user):
        return {"is_caseworker": False, "unread": 0}
    return {"is_caseworker": True, "unread": unread_notifications(user).count()}
