"""Issuing and revoking API tokens: the only code that changes them. Both land in the ledger."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from governance.access.checks import require_on
from governance.access.matrix import Operation, Scope, require, scope
from governance.api.models import ApiToken
from governance.errors import InvalidInput, WrongStage
from governance.ledger.chain import ledger_append
from governance.ledger.events import API_TOKEN_ISSUED, API_TOKEN_REVOKED
from projects.models import Initiative

SECRET_PREFIX = "vg_"
# last_used_at is bookkeeping: written at most once a minute per token, not on every request.
TOUCH_EVERY = dt.timedelta(minutes=1)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def may_manage_all_tokens(user) -> bool:
    """Governance admins see and revoke everyone's tokens; everyone else only their own."""
    return scope(user, Operation.MANAGE_API_TOKENS) == Scope.ANY


@transaction.atomic
def token_issue(*, actor, name: str, initiative: Initiative | None = None) -> tuple[ApiToken, str]:
    """Issue a token to `actor`; return it with its secret, which is never stored or shown again.

    A token bound to an initiative may be issued only by that initiative's project lead.
    Ledger: api_token.issued.
    """
    require(
        actor, Operation.MANAGE_API_TOKENS, owner_id=actor.pk, doing="issue API tokens", target_noun="token"
    )
    name = (name or "").strip()
    if not name:
        raise InvalidInput("A token needs a name saying what uses it.")
    if initiative is not None:
        # An integration token pushes the initiative's KPIs and evidence: its lead issues it.
        require_on(actor, Operation.RECORD_MEASUREMENTS, initiative, action="issue a token bound to it")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        name=name,
        user=actor,
        initiative=initiative,
        prefix=secret[: len(SECRET_PREFIX) + 6],
        token_hash=hash_secret(secret),
    )
    ledger_append(
        actor=actor,
        action=API_TOKEN_ISSUED,
        initiative=initiative,
        payload={"token": token.pk, "name": name, "prefix": token.prefix, "owner": actor.get_username()},
    )
    return token, secret


@transaction.atomic
def token_revoke(*, actor, token: ApiToken, now: dt.datetime | None = None) -> ApiToken:
    """Revoke a token: it answers 401 from now on. Its owner or a governance admin. Ledger: api_token.revoked."""
    token = ApiToken.objects.select_for_update(of=("self",)).get(pk=token.pk)
    require(
        actor,
        Operation.MANAGE_API_TOKENS,
        owner_id=token.user_id,
        doing="revoke it",
        target=f"API token {token.prefix}",
        target_noun="token",
    )
    if token.revoked_at is not None:
        raise WrongStage("This token is already revoked.")
    token.revoked_at = now or timezone.now()
    token.save(update_fields=["revoked_at"])
    ledger_append(
        actor=actor,
        action=API_TOKEN_REVOKED,
        initiative=token.initiative,
        payload={"token": token.pk, "name": token.name, "prefix": token.prefix},
    )
    return token


def token_touch(token: ApiToken, *, now: dt.datetime | None = None) -> None:
    """Note when the token was last used (at most once a minute)."""
    now = now or timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
