"""API tokens die with their use: when their owner is deactivated, or loses the role that made them
useful (any governance role for a personal token; project lead for one bound to an initiative).

Whatever deactivates an account or removes a role — the admin's pages, `manage.py role`, a shell —
sends post_save or m2m_changed; these receivers revoke the tokens in that same transaction, each
revocation a ledger event naming why and, inside the membership services, who acted.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models.signals import m2m_changed, post_save

from governance.access import roles
from governance.access.recording import current_actor, governed_groups
from governance.api.models import ApiToken
from governance.api.tokens import tokens_outlive_their_use

User = get_user_model()
DEACTIVATED = "its owner's account was deactivated"
NO_ROLE = "its owner holds no governance role any more"
NOT_A_LEAD = "its owner is no longer a project lead"


def _account_saved(sender, instance, **kwargs) -> None:
    if not instance.is_active and ApiToken.objects.filter(user=instance, revoked_at__isnull=True).exists():
        tokens_outlive_their_use(actor=current_actor(), user=instance, reason=DEACTIVATED)


def _roles_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    if action not in ("post_remove", "post_clear"):
        return
    if not reverse:  # user.groups.remove(...) / clear()
        owners = [instance]
    else:  # group.user_set.remove(users) / clear(): whoever still has live tokens may be concerned
        owners = list(
            User.objects.filter(
                pk__in=pk_set if pk_set is not None else ApiToken.objects.values("user_id"),
                api_tokens__revoked_at__isnull=True,
            ).distinct()
        )
    for owner in owners:
        held = set(owner.groups.values_list("name", flat=True)) & governed_groups()
        if not held:
            tokens_outlive_their_use(actor=current_actor(), user=owner, reason=NO_ROLE)
        elif roles.PROJECT_LEADS not in held:
            tokens_outlive_their_use(actor=current_actor(), user=owner, reason=NOT_A_LEAD, bound_only=True)


def connect() -> None:
    post_save.connect(_account_saved, sender=User, dispatch_uid="api-tokens-account-saved")
    m2m_changed.connect(_roles_changed, sender=User.groups.through, dispatch_uid="api-tokens-roles-changed")
