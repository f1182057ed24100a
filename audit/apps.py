from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "审计"
    default_auto_field = "django.db.models.BigAutoField"
