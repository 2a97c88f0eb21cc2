"""Committee membership: grant and revoke governance roles, recorded in the ledger with who did it."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.translation import gettext

from governance.access.groups import group_label
from governance.access.matrix import Operation, require
from governance.access.recording import acting_as, governed_groups
from governance.errors import InvalidInput, SegregationOfDuties
from governance.ledger.chain import ledger_append
from governance.ledger.events import ACCOUNT_CHANGED


def _check(actor, user, group: Group, *, doing: str):
    require(actor, Operation.MANAGE_MEMBERSHIP, doing=doing, target=user.get_username())
    if group.name not in governed_groups():
        # Translators: %(role)s is a group's name.
        raise InvalidInput(gettext("“%(role)s” is not a governance role.") % {"role": group.name})
    if user.pk == actor.pk:
        raise SegregationOfDuties(
            gettext("Nobody changes their own committee roles; ask another governance admin.")
        )
    # Lock the member's row so that two admins changing the same membership queue up.
    return get_user_model().objects.select_for_update(of=("self",)).get(pk=user.pk)


@transaction.atomic
def membership_grant(*, actor, user, group: Group) -> None:
    """Add `user` to the role `group` (a committee function, chair, auditors, governance admins,
    project leads). Ledger: membership.granted, with `actor` (written by governance.access.recording)."""
    # Translators: completes "Only ___ may ___."
    member = _check(actor, user, group, doing=gettext("grant committee roles"))
    if not member.is_active:
        # Translators: %(username)s is a username.
        raise InvalidInput(
            gettext("%(username)s's account is inactive.") % {"username": member.get_username()}
        )
    if member.groups.filter(pk=group.pk).exists():
        # Translators: %(username)s is a username; %(role)s a governance role ("Committee chair").
        message = gettext("%(username)s already holds the role “%(role)s”.")
        raise InvalidInput(message % {"username": member.get_username(), "role": group_label(group.name)})
    with acting_as(actor):
        member.groups.add(group)


@transaction.atomic
def membership_revoke(*, actor, user, group: Group) -> None:
    """Remove `user` from the role `group`. Ledger: membership.revoked, with `actor`."""
    # Translators: completes "Only ___ may ___."
    member = _check(actor, user, group, doing=gettext("revoke committee roles"))
    if not member.groups.filter(pk=group.pk).exists():
        # Translators: %(username)s is a username; %(role)s a governance role ("Committee chair").
        message = gettext("%(username)s does not hold the role “%(role)s”.")
        raise InvalidInput(message % {"username": member.get_username(), "role": group_label(group.name)})
    with acting_as(actor):
        member.groups.remove(group)


@transaction.atomic
def membership_set(*, actor, user, wanted: set[str], shown: set[str]) -> tuple[list[str], list[str]]:
    """Grant and revoke so that `user` holds the governance roles `wanted`: all of it or, on any
    refusal, none of it. `shown` is what the actor saw the user hold; if that changed since, the
    change is refused rather than undoing someone else's. Returns the roles granted and revoked.
    Ledger: one membership.granted / membership.revoked per change.
    """
    held = set(user.groups.filter(name__in=governed_groups()).values_list("name", flat=True))
    if held != shown:
        # Translators: %(username)s is a username.
        message = gettext(
            "%(username)s's roles changed after this page was opened; the page now shows "
            "them as they are. Make your change again."
        )
        raise InvalidInput(message % {"username": user.get_username()})
    granted, revoked = sorted(wanted - held), sorted(held - wanted)
    groups = Group.objects.in_bulk([*granted, *revoked], field_name="name")
    unknown = sorted(set(granted) - set(groups))
    if unknown:
        raise InvalidInput(gettext("“%(role)s” is not a governance role.") % {"role": unknown[0]})
    for name in granted:
        membership_grant(actor=actor, user=user, group=groups[name])
    for name in revoked:
        membership_revoke(actor=actor, user=user, group=groups[name])
    return granted, revoked


# The account flags that decide what a person may do besides their roles: an inactive account
# holds no role and is signed out; staff status opens the admin; a superuser holds the governance
# admin's and the auditor's grants (governance/access/matrix.py).
ACCOUNT_FLAGS = ("is_active", "is_staff", "is_superuser")


def account_flags(user) -> dict[str, bool]:
    return {flag: bool(getattr(user, flag)) for flag in ACCOUNT_FLAGS}


def account_changed(*, actor, user, before: dict[str, bool]) -> None:
    """Record who changed an account's flags, and how, when the change is saved (inside its
    transaction). Ledger: account.changed, unless no flag changed."""
    after = account_flags(user)
    changed = {
        flag: {"from": before[flag], "to": after[flag]}
        for flag in ACCOUNT_FLAGS
        if before[flag] != after[flag]
    }
    if changed:
        ledger_append(
            actor=actor, action=ACCOUNT_CHANGED, payload={"user": user.get_username(), "changed": changed}
        )
