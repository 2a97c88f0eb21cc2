"""Committee membership in the ledger: every grant and revocation of a governance role.

Roles are Django groups (governance/access/roles.py). Whatever changes a membership — the services in
governance/access/membership.py (behind the admin's people-and-roles page and `manage.py
role`), a shell — goes through the many-to-many manager, which sends m2m_changed; the receivers
here append membership.granted or membership.revoked in the same transaction. A signal does not know who acted: a change made inside
`acting_as(actor)` (the membership services) is recorded with that actor, any other with none
("system" in the ledger). Each change is recorded once, by these receivers only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import Group
from django.db.models.signals import m2m_changed, pre_delete
from django.dispatch import receiver

from governance.access import roles
from governance.ledger.chain import ledger_append
from governance.ledger.events import MEMBERSHIP_GRANTED, MEMBERSHIP_REVOKED, LedgerEventType

User = get_user_model()
Membership = User.groups.through

_actor: ContextVar = ContextVar("membership_actor", default=None)


def governed_groups() -> frozenset[str]:
    """The groups whose membership is a governance role."""
    return frozenset(
        {
            roles.PROJECT_LEADS,
            roles.COMMITTEE_CHAIR,
            roles.AUDITORS,
            roles.GOVERNANCE_ADMINS,
            *roles.FUNCTION_GROUPS.values(),
        }
    )


def current_actor():
    """Who is changing memberships or accounts here (None: someone outside the services)."""
    return _actor.get()


@contextmanager
def acting_as(actor) -> Iterator[None]:
    """Membership changes made inside are recorded with `actor`."""
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)


def _record(action: LedgerEventType, memberships: Iterable[tuple[AbstractBaseUser, Group]]) -> None:
    actor = _actor.get()
    for user, group in memberships:
        ledger_append(
            actor=actor,
            action=action,
            payload={"user": user.get_username(), "group": group.name},
        )


def _memberships(instance, reverse: bool, pk_set) -> list[tuple[AbstractBaseUser, Group]]:
    """Existing governed memberships that the change touches, as (user, group), in id order."""
    rows = Membership.objects.filter(group__name__in=governed_groups())
    if reverse:  # group.user_set.<change>(users)
        rows = rows.filter(group=instance)
        if pk_set is not None:
            rows = rows.filter(user_id__in=pk_set)
    else:  # user.groups.<change>(groups)
        rows = rows.filter(user=instance)
        if pk_set is not None:
            rows = rows.filter(group_id__in=pk_set)
    return [
        (row.user, row.group) for row in rows.select_related("user", "group").order_by("user_id", "group_id")
    ]


@receiver(m2m_changed, sender=Membership, dispatch_uid="governance.access.recording.groups_changed")
def groups_changed(sender, instance, action, reverse, model, pk_set, **kwargs) -> None:
    if action == "post_add" and pk_set:
        # Django passes only the ids that were not members yet.
        _record(MEMBERSHIP_GRANTED, _memberships(instance, reverse, pk_set))
    elif action in ("pre_remove", "pre_clear"):
        # Read what will really go before it goes: remove() passes ids that may not be members.
        instance._membership_leaving = _memberships(instance, reverse, pk_set)
    elif action in ("post_remove", "post_clear"):
        _record(MEMBERSHIP_REVOKED, instance.__dict__.pop("_membership_leaving", []))


@receiver(pre_delete, sender=User, dispatch_uid="governance.access.recording.user_deleted")
def user_deleted(sender, instance, **kwargs) -> None:
    """Deleting an account removes its memberships without m2m_changed: record them first."""
    _record(MEMBERSHIP_REVOKED, _memberships(instance, False, None))


@receiver(pre_delete, sender=Group, dispatch_uid="governance.access.recording.group_deleted")
def group_deleted(sender, instance, **kwargs) -> None:
    _record(MEMBERSHIP_REVOKED, _memberships(instance, True, None))
