"""Token authentication: `Authorization: Bearer <secret>` (or `Token <secret>`).

The secret is hashed and the hash looked up; the secret itself is never stored. A revoked or
expired token, an inactive owner, or a bound token whose initiative changed hands answers 401.
"""

from __future__ import annotations

import hmac

from django.utils import timezone
from django.utils.translation import gettext
from rest_framework import authentication, exceptions

from governance.api.models import ApiToken
from governance.api.tokens import hash_secret, token_touch

KEYWORDS = ("bearer", "token")
MAX_SECRET_LENGTH = 200


class ApiTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        parts = header.split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None  # another scheme: not ours to judge
        if len(parts) != 2 or len(parts[1]) > MAX_SECRET_LENGTH:
            raise exceptions.AuthenticationFailed(
                gettext("Send the token as 'Authorization: Bearer <token>'.")
            )
        digest = hash_secret(parts[1])
        token = ApiToken.objects.select_related("user", "initiative").filter(token_hash=digest).first()
        if token is None or not hmac.compare_digest(token.token_hash, digest):
            raise exceptions.AuthenticationFailed(gettext("Unknown API token."))
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(gettext("This API token was revoked."))
        if token.expires_at <= timezone.now():
            # Translators: %(expired_at)s is a UTC date and time, e.g. 2025-03-01 14:00.
            message = gettext("This API token expired at %(expired_at)s UTC; issue a new one.")
            raise exceptions.AuthenticationFailed(
                message % {"expired_at": f"{token.expires_at:%Y-%m-%d %H:%M}"}
            )
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(gettext("The token's owner account is inactive."))
        if token.initiative is not None and token.initiative.owner_id != token.user_id:
            raise exceptions.AuthenticationFailed(
                gettext("The token's initiative has another project lead now.")
            )
        token_touch(token)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


def bound_initiative_id(request) -> int | None:
    """The initiative an integration token is bound to, or None for a person's own access."""
    token = getattr(request, "auth", None)
    if isinstance(token, ApiToken):
        return token.initiative_id
    return None
