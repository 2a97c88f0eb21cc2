"""Issuing, rotating and revoking API tokens: the only code that changes them. Each lands in the ledger.

A token expires (VALUEGATE_API_TOKEN_DAYS after issue, at most VALUEGATE_API_TOKEN_MAX_DAYS);
rotating one issues its replacement and keeps the old secret working for an overlap
(VALUEGATE_API_TOKEN_OVERLAP_HOURS). A token dies with its use: when its owner is deactivated, or
loses the role that made it useful (governance/api/lifecycle.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from governance.access.checks import require_on
from governance.access.matrix import Operation, Scope, require, scope
from governance.api.models import ApiToken
from governance.errors import InvalidInput, WrongStage
from governance.ledger.chain import ledger_append
from governance.ledger.events import API_TOKEN_ISSUED, API_TOKEN_REVOKED, API_TOKEN_ROTATED
from projects.models import Initiative

SECRET_PREFIX = "vg_"
# last_used_at is bookkeeping: written at most once a minute per token, not on every request.
TOUCH_EVERY = dt.timedelta(minutes=1)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def may_manage_all_tokens(user) -> bool:
    """Governance admins see and revoke everyone's tokens; everyone else only their own."""
    return scope(user, Operation.MANAGE_API_TOKENS) == Scope.ANY


def lifetime(days: int | None) -> dt.timedelta:
    """How long a token issued now lives: `days`, or the default; refused beyond the maximum."""
    longest = int(settings.VALUEGATE_API_TOKEN_MAX_DAYS)
    days = int(settings.VALUEGATE_API_TOKEN_DAYS) if days is None else days
    if not 1 <= days <= longest:
        raise InvalidInput(
            ngettext(
                # Translators: %(longest)s is a number of days.
                "A token lives from 1 to %(longest)s day.",
                "A token lives from 1 to %(longest)s days.",
                longest,
            )
            % {"longest": longest}
        )
    return dt.timedelta(days=days)


def _new_secret() -> tuple[str, str, str]:
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    return secret, secret[: len(SECRET_PREFIX) + 6], hash_secret(secret)


@transaction.atomic
def token_issue(
    *,
    actor,
    name: str,
    initiative: Initiative | None = None,
    days: int | None = None,
    now: dt.datetime | None = None,
) -> tuple[ApiToken, str]:
    """Issue a token to `actor`; return it with its secret, which is never stored or shown again.

    A token bound to an initiative may be issued only by that initiative's project lead.
    Ledger: api_token.issued.
    """
    now = now or timezone.now()
    require(
        actor,
        Operation.MANAGE_API_TOKENS,
        owner_id=actor.pk,
        # Translators: completes "Only ___ may ___."
        doing=gettext("issue API tokens"),
        target_noun="token",
    )
    name = (name or "").strip()
    if not name:
        raise InvalidInput(gettext("A token needs a name saying what uses it."))
    if initiative is not None:
        # An integration token pushes the initiative's KPIs and evidence: its lead issues it.
        # Translators: completes "Only ___ may ___."; "it" is the initiative.
        doing = gettext("issue a token bound to it")
        require_on(actor, Operation.RECORD_MEASUREMENTS, initiative, action=doing)
    secret, prefix, digest = _new_secret()
    token = ApiToken.objects.create(
        name=name,
        user=actor,
        initiative=initiative,
        prefix=prefix,
        token_hash=digest,
        created_at=now,
        expires_at=now + lifetime(days),
    )
    ledger_append(
        actor=actor,
        action=API_TOKEN_ISSUED,
        initiative=initiative,
        payload={
            "token": token.pk,
            "name": name,
            "prefix": token.prefix,
            "owner": actor.get_username(),
            "expires_at": token.expires_at,
        },
    )
    return token, secret


def _lock_live(actor, token: ApiToken, *, now: dt.datetime, doing: str) -> ApiToken:
    token = ApiToken.objects.select_for_update(of=("self",)).get(pk=token.pk)
    require(
        actor,
        Operation.MANAGE_API_TOKENS,
        owner_id=token.user_id,
        doing=doing,
        target=f"API token {token.prefix}",
        target_noun="token",
    )
    if token.revoked_at is not None:
        raise WrongStage(gettext("This token is already revoked."))
    if token.expires_at <= now:
        raise WrongStage(gettext("This token has expired; issue a new one."))
    return token


@transaction.atomic
def token_rotate(*, actor, token: ApiToken, now: dt.datetime | None = None) -> tuple[ApiToken, str]:
    """Replace a live token with a new secret (same owner, name and initiative, a fresh lifetime);
    the old secret keeps working for the overlap, then expires. Its owner or a governance admin.
    Ledger: api_token.rotated."""
    now = now or timezone.now()
    # Translators: completes "Only ___ may ___."; "it" is an API token.
    old = _lock_live(actor, token, now=now, doing=gettext("rotate it"))
    secret, prefix, digest = _new_secret()
    new = ApiToken.objects.create(
        name=old.name,
        user_id=old.user_id,
        initiative_id=old.initiative_id,
        prefix=prefix,
        token_hash=digest,
        created_at=now,
        expires_at=now + lifetime(None),
    )
    overlap_end = min(
        old.expires_at, now + dt.timedelta(hours=int(settings.VALUEGATE_API_TOKEN_OVERLAP_HOURS))
    )
    ApiToken.objects.filter(pk=old.pk).update(expires_at=overlap_end)
    ledger_append(
        actor=actor,
        action=API_TOKEN_ROTATED,
        initiative=old.initiative,
        payload={
            "token": old.pk,
            "prefix": old.prefix,
            "replaced_by": new.pk,
            "new_prefix": new.prefix,
            "old_expires_at": overlap_end,
            "new_expires_at": new.expires_at,
        },
    )
    return new, secret


@transaction.atomic
def token_revoke(*, actor, token: ApiToken, now: dt.datetime | None = None) -> ApiToken:
    """Revoke a token: it answers 401 from now on. Its owner or a governance admin. Ledger: api_token.revoked."""
    now = now or timezone.now()
    token = ApiToken.objects.select_for_update(of=("self",)).get(pk=token.pk)
    require(
        actor,
        Operation.MANAGE_API_TOKENS,
        owner_id=token.user_id,
        # Translators: completes "Only ___ may ___."; "it" is an API token.
        doing=gettext("revoke it"),
        target=f"API token {token.prefix}",
        target_noun="token",
    )
    if token.revoked_at is not None:
        raise WrongStage(gettext("This token is already revoked."))
    return _revoke(actor, token, now=now)


@transaction.atomic
def tokens_outlive_their_use(*, actor, user, reason: str, bound_only: bool = False) -> int:
    """Revoke `user`'s live tokens (only those bound to an initiative, with `bound_only`) because
    `reason`: called when the owner is deactivated or loses a role, in that change's transaction,
    whoever made it. Ledger: api_token.revoked with the reason, per token."""
    now = timezone.now()
    live = ApiToken.objects.select_for_update(of=("self",)).filter(
        user=user, revoked_at__isnull=True, expires_at__gt=now
    )
    if bound_only:
        live = live.filter(initiative__isnull=False)
    tokens = list(live.select_related("initiative"))
    for token in tokens:
        _revoke(actor, token, now=now, reason=reason)
    return len(tokens)


def _revoke(actor, token: ApiToken, *, now: dt.datetime, reason: str = "") -> ApiToken:
    token.revoked_at = now
    token.save(update_fields=["revoked_at"])
    payload = {"token": token.pk, "name": token.name, "prefix": token.prefix}
    ledger_append(
        actor=actor,
        action=API_TOKEN_REVOKED,
        initiative=token.initiative,
        payload={**payload, "reason": reason} if reason else payload,
    )
    return token


def token_touch(token: ApiToken, *, now: dt.datetime | None = None) -> None:
    """Note when the token was last used (at most once a minute)."""
    now = now or timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
