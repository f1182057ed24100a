from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The applicants' own pages: apply, follow, answer 补正, withdraw, ask, receive."""

    name = "portal"
    verbose_name = "申请人页面"
