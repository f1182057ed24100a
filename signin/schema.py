"""OpenAPI: the staff API's lock-out aware HTTP Basic is HTTP Basic (drf-spectacular)."""

from drf_spectacular.authentication import BasicScheme


class LockoutBasicScheme(BasicScheme):
    target_class = "signin.authentication.BasicAuthentication"
