"""Committee membership: grant and revoke governance roles, recorded in the ledger with who did it."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from governance import roles
from governance.errors import InvalidInput, NotAllowed, SegregationOfDuties
from governance.membership import acting_as, governed_groups
from governance.services.common import require_active


def _check(actor, user, group: Group, *, verb: str):
    require_active(actor)
    if not (actor.is_superuser or roles.is_governance_admin(actor)):
        raise NotAllowed(f"Only governance admins may {verb} committee roles.")
    if group.name not in governed_groups():
        raise InvalidInput(f"“{group.name}” is not a governance role.")
    if user.pk == actor.pk:
        raise SegregationOfDuties("Nobody changes their own committee roles; ask another governance admin.")
    # Lock the member's row so that two admins changing the same membership queue up.
    return get_user_model().objects.select_for_update().get(pk=user.pk)


@transaction.atomic
def membership_grant(*, actor, user, group: Group) -> None:
    """Add `user` to the role `group` (a committee function, chair, auditors, governance admins,
    project leads). Ledger: membership.granted, with `actor` (written by governance.membership)."""
    member = _check(actor, user, group, verb="grant")
    if not member.is_active:
        raise InvalidInput(f"{member.get_username()}'s account is inactive.")
    if member.groups.filter(pk=group.pk).exists():
        raise InvalidInput(f"{member.get_username()} already holds the role “{group.name}”.")
    with acting_as(actor):
        member.groups.add(group)


@transaction.atomic
def membership_revoke(*, actor, user, group: Group) -> None:
    """Remove `user` from the role `group`. Ledger: membership.revoked, with `actor`."""
    member = _check(actor, user, group, verb="revoke")
    if not member.groups.filter(pk=group.pk).exists():
        raise InvalidInput(f"{member.get_username()} does not hold the role “{group.name}”.")
    with acting_as(actor):
        member.groups.remove(group)
