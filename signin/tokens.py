"""Integration tokens: create (the token is returned once, only its digest kept) and revoke."""

from __future__ import annotations

import datetime as dt
import logging

from knox.settings import knox_settings

from signin.models import ApiToken

logger = logging.getLogger(__name__)


def token_create(*, user, name: str, expires_in_days: int | None = None) -> tuple[ApiToken, str]:
    """A new token for ``user``: the row (digest, first characters, expiry) and the token,
    which is nowhere else afterwards. ``expires_in_days`` defaults to API_TOKEN_TTL_DAYS."""
    expiry = (
        dt.timedelta(days=expires_in_days)
        if expires_in_days is not None
        else knox_settings.TOKEN_TTL
    )
    token, secret = ApiToken.objects.create(user=user, expiry=expiry, name=name)
    logger.info("api token %s… created for %s (%s)", token.token_key, user.get_username(), name)
    return token, secret


def token_revoke(*, token: ApiToken, actor) -> None:
    """Delete ``token``: the next request made with it is a 401."""
    logger.info(
        "api token %s… of %s revoked by %s",
        token.token_key,
        token.user.get_username(),
        actor.get_username(),
    )
    token.delete()
