"""/oidc/authenticate/ and /oidc/callback/ (answer 404 while OIDC is not configured)."""

from django.urls import path

from signin import oidc

urlpatterns = [
    path(
        "oidc/authenticate/",
        oidc.AuthenticationRequestView.as_view(),
        name="oidc_authentication_init",
    ),
    path(
        "oidc/callback/",
        oidc.AuthenticationCallbackView.as_view(),
        name="oidc_authentication_callback",
    ),
]
