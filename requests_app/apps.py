from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RequestsAppConfig(AppConfig):
    name = "requests_app"
    verbose_name = _("依申请公开办理")
    default_auto_field = "django.db.models.BigAutoField"
