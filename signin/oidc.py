"""Sign-in through the agency's identity provider (OpenID Connect, mozilla-django-oidc).

Configured by environment (``OIDC_RP_CLIENT_ID`` … in config/settings/base.py); off when no
client id is set. Local passwords stay. A person is matched to a user by the provider's subject
(``sub``): the user ``oidc:<sub>`` is created at the first sign-in. Their agency and role come
from the table an administrator keeps (``OidcAssignment``, by ``sub`` or e-mail) or else from
the provider's claims (``OIDC_AGENCY_CLAIM`` with an agency code, ``OIDC_ROLE_CLAIM`` with a
role); with neither the sign-in is refused, and a person whose row is switched off is refused.
Each sign-in applies the current assignment, so a change at the provider or in the table takes
effect at the next one.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from mozilla_django_oidc import views
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from requests_app.choices import Role
from requests_app.models import Agency, Caseworker
from signin.models import OidcAssignment

logger = logging.getLogger(__name__)


def is_enabled() -> bool:
    return bool(getattr(settings, "OIDC_RP_CLIENT_ID", ""))


def username_for(claims: dict) -> str:
    return f"oidc:{claims['sub']}"[:150]


def assignment_for(claims: dict) -> tuple[Agency, str, bool] | None:
    """(agency, role, may see personal data) for the person, or ``None`` when nothing says."""
    sub, email = claims.get("sub", ""), (claims.get("email") or "").strip()
    rows = OidcAssignment.objects.select_related("agency").filter(
        Q(match=sub) | (Q(match__iexact=email) if email else Q(pk__in=[]))
    )
    row = min(rows, key=lambda r: r.match != sub, default=None)  # the subject's row first
    if row is not None:
        return (row.agency, row.role, row.can_view_personal_data) if row.is_active else None
    code = claims.get(settings.OIDC_AGENCY_CLAIM)
    role = claims.get(settings.OIDC_ROLE_CLAIM)
    if not isinstance(code, str) or role not in Role.values:
        return None
    agency = Agency.objects.filter(code=code).first()
    return (agency, role, False) if agency is not None else None


class AgencyOIDCBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's backend, matching by subject and placing the person in an agency
    and role. Also checks what the library leaves out: the ID token's audience is this client
    and, when OIDC_OP_ISSUER is set, its issuer is the provider."""

    def verify_token(self, token, **kwargs):
        payload = super().verify_token(token, **kwargs)
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("ID token audience is not this client")
        issuer = getattr(settings, "OIDC_OP_ISSUER", "")
        if issuer and payload.get("iss") != issuer:
            raise SuspiciousOperation("ID token issuer is not the provider")
        return payload

    def verify_claims(self, claims):
        return bool(claims.get("sub"))

    def filter_users_by_claims(self, claims):
        return self.UserModel.objects.filter(username=username_for(claims))

    def create_user(self, claims):
        if assignment_for(claims) is None:
            raise SuspiciousOperation("no agency and role for this person")
        user = self.UserModel.objects.create_user(
            username_for(claims), email=claims.get("email") or ""
        )
        return self.update_user(user, claims)

    @transaction.atomic
    def update_user(self, user, claims):
        assignment = assignment_for(claims)
        if assignment is None:
            logger.warning("oidc sign-in refused: no agency and role for %s", username_for(claims))
            raise SuspiciousOperation("no agency and role for this person")
        agency, role, can_view_personal_data = assignment
        user.email = claims.get("email") or user.email
        user.first_name = (claims.get("name") or user.first_name)[:150]
        user.is_staff = True
        user.set_unusable_password()  # signs in through the provider only
        user.save()
        Caseworker.objects.update_or_create(
            user=user,
            defaults={
                "agency": agency,
                "role": role,
                "can_view_personal_data": can_view_personal_data,
            },
        )
        logger.info("oidc sign-in: %s as %s of %s", user.username, role, agency.code)
        return user


class _EnabledOnly:
    def dispatch(self, request, *args, **kwargs):
        if not is_enabled():
            raise Http404
        return super().dispatch(request, *args, **kwargs)


class AuthenticationRequestView(_EnabledOnly, views.OIDCAuthenticationRequestView):
    pass


class AuthenticationCallbackView(_EnabledOnly, views.OIDCAuthenticationCallbackView):
    pass


def login_context(request) -> dict:
    """Template context: whether the sign-in page offers the identity provider, and whether
    the last attempt through it failed."""
    return {
        "oidc_enabled": is_enabled(),
        "oidc_failed": request.GET.get("oidc") == "failed",
    }
