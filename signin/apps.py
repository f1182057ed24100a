from django.apps import AppConfig


class SigninConfig(AppConfig):
    name = "signin"
    verbose_name = "登录与令牌"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from signin import schema  # noqa: F401  registers the OpenAPI authentication extension
