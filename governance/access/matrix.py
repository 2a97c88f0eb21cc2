"""The permission matrix: which role may do which operation, declared once.

Every entry point asks this module, through the services: the admin (pages, buttons, actions),
the REST API, the management commands that act for a person, and the background tasks (which act
as the scheduler). The Django permissions of each role group are derived from it too
(governance/access/roles.py), so the admin's menus can never offer what the matrix does not grant.
tests/security/test_permission_matrix.py walks every cell through every entry point.

A grant has a scope:
- ANY: whatever the target;
- OWN: only a target the person owns (the initiative they lead, a condition or an API token
  assigned to them);
- OWN_FUNCTION: only for a committee function the person sits for.

Roles come from the role groups (governance/access/roles.py). A superuser is an operator: they hold the
governance admin's and the auditor's grants, never a lead's, a committee member's or the chair's,
so segregation of duties cannot be sidestepped with a superuser account. An inactive account
holds no role.

Written by hand rather than with a rules library (django-rules, django-guardian): what matters
here is the table itself as data — printable, derivable into Django permissions, and walkable by a
test — and scope checks on three kinds of ownership; a predicate library would hide the table in
code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from django.utils.translation import gettext, gettext_noop, pgettext
from django.utils.translation import gettext_lazy as _

from governance.access.groups import FUNCTION_GROUPS, GROUP_ROLES, Role
from governance.errors import NotAllowed

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser


class Scope(StrEnum):
    ANY = "any"
    OWN = "own"
    OWN_FUNCTION = "own function"


class Operation(StrEnum):
    # The values are the operations' stable names (in the refusal log and the matrix's tests);
    # gettext_noop only marks them, so that `label` can word them in the active language.
    VIEW_INITIATIVE = gettext_noop("see an initiative, its reviews, KPIs and evidence")
    VIEW_ESCALATIONS = gettext_noop("see escalations and follow-ups")
    REGISTER_INITIATIVE = gettext_noop("register an initiative")
    EDIT_DRAFT = gettext_noop("edit a draft, its business case and KPIs")
    SUBMIT_INITIATIVE = gettext_noop("submit a draft")
    RECORD_MEASUREMENTS = gettext_noop("record KPI measurements")
    RECORD_EXPERIMENT = gettext_noop("record experiment results")
    RECORD_MONEY = gettext_noop("record costs and benefits")
    UPLOAD_EVIDENCE = gettext_noop("upload evidence")
    REQUEST_REVIEW = gettext_noop("request a gate review")
    SIGN_OFF = gettext_noop("sign off for a committee function")
    DECIDE_REVIEW = gettext_noop("hold or kill a review")
    ADVANCE_INITIATIVE = gettext_noop("advance an initiative through a passing gate")
    CLOSE_CONDITION = gettext_noop("close a condition")
    OPEN_VALUE_REVIEW = gettext_noop("open a monthly value review")
    MEASURE_FROM_SOURCE = gettext_noop("measure KPIs from their systems of record")
    EDIT_POLICY = gettext_noop("edit gate policies (as a new version)")
    MANAGE_MEMBERSHIP = gettext_noop("grant and revoke governance roles")
    READ_MEMBERSHIP = gettext_noop("see who holds which governance role, and who granted it when")
    MANAGE_API_TOKENS = gettext_noop("issue and revoke API tokens")
    READ_LEDGER = gettext_noop("read the decision ledger")
    EXPORT_LEDGER = gettext_noop("export the decision ledger")
    SEE_DELIVERIES = gettext_noop("see notification deliveries, dead ones included")
    RETRY_NOTIFICATIONS = gettext_noop("retry dead notification deliveries")
    OWN_NOTIFICATIONS = gettext_noop("see one's own notifications and choose their channels")

    @property
    def label(self) -> str:
        """The operation in words, in the active language ("record KPI measurements")."""
        return gettext(self.value)


LEAD, MEMBER, CHAIR = Role.PROJECT_LEAD, Role.COMMITTEE_MEMBER, Role.CHAIR
AUDITOR, GOVERNANCE_ADMIN, SCHEDULER_ROLE = Role.AUDITOR, Role.GOVERNANCE_ADMIN, Role.SCHEDULER
ANY, OWN, OWN_FUNCTION = Scope.ANY, Scope.OWN, Scope.OWN_FUNCTION

# The matrix. A role missing from an operation's row may not do it at all.
MATRIX: dict[Operation, dict[Role, Scope]] = {
    Operation.VIEW_INITIATIVE: {LEAD: OWN, MEMBER: ANY, CHAIR: ANY, AUDITOR: ANY, GOVERNANCE_ADMIN: ANY},
    Operation.VIEW_ESCALATIONS: {MEMBER: ANY, CHAIR: ANY, AUDITOR: ANY, GOVERNANCE_ADMIN: ANY},
    Operation.REGISTER_INITIATIVE: {LEAD: ANY},
    Operation.EDIT_DRAFT: {LEAD: OWN},
    Operation.SUBMIT_INITIATIVE: {LEAD: OWN},
    Operation.RECORD_MEASUREMENTS: {LEAD: OWN},
    Operation.RECORD_EXPERIMENT: {LEAD: OWN},
    Operation.RECORD_MONEY: {LEAD: OWN},
    Operation.UPLOAD_EVIDENCE: {LEAD: OWN},
    Operation.REQUEST_REVIEW: {CHAIR: ANY, SCHEDULER_ROLE: ANY, LEAD: OWN},
    Operation.SIGN_OFF: {MEMBER: OWN_FUNCTION},
    Operation.DECIDE_REVIEW: {CHAIR: ANY},
    Operation.ADVANCE_INITIATIVE: {CHAIR: ANY, LEAD: OWN},
    Operation.CLOSE_CONDITION: {CHAIR: ANY, LEAD: OWN, MEMBER: OWN},
    Operation.OPEN_VALUE_REVIEW: {SCHEDULER_ROLE: ANY},
    Operation.MEASURE_FROM_SOURCE: {SCHEDULER_ROLE: ANY},
    Operation.EDIT_POLICY: {CHAIR: ANY, GOVERNANCE_ADMIN: ANY},  # the chair edits gate policies too
    Operation.MANAGE_MEMBERSHIP: {GOVERNANCE_ADMIN: ANY},
    # Reviewing role assignments is an auditor's job.
    Operation.READ_MEMBERSHIP: {AUDITOR: ANY, GOVERNANCE_ADMIN: ANY},
    # A token acts as its owner, so it never carries more than its owner may do.
    Operation.MANAGE_API_TOKENS: {GOVERNANCE_ADMIN: ANY, LEAD: OWN, MEMBER: OWN, CHAIR: OWN, AUDITOR: OWN},
    Operation.READ_LEDGER: {MEMBER: ANY, CHAIR: ANY, AUDITOR: ANY, GOVERNANCE_ADMIN: ANY},
    Operation.EXPORT_LEDGER: {AUDITOR: ANY},
    # Dead deliveries are the chair's (a committee that was not told) and the operator's (a channel down).
    Operation.SEE_DELIVERIES: {CHAIR: ANY, GOVERNANCE_ADMIN: ANY},
    Operation.RETRY_NOTIFICATIONS: {CHAIR: ANY, GOVERNANCE_ADMIN: ANY},
    Operation.OWN_NOTIFICATIONS: {LEAD: OWN, MEMBER: OWN, CHAIR: OWN, AUDITOR: OWN, GOVERNANCE_ADMIN: OWN},
}

# The Django permissions an operation needs in the admin (its menus, lists and add forms). A role
# group gets the union over the operations it is granted (governance/access/roles.py); a trailing "*"
# takes every permission of that app starting with the prefix.
OPERATION_PERMISSIONS: dict[Operation, tuple[str, ...]] = {
    Operation.VIEW_INITIATIVE: (
        "projects.view_*",
        "governance.view_gatereview",
        "governance.view_signoff",
        "governance.view_condition",
        "governance.view_gatepolicy",
        "governance.view_committeefunction",
        "governance.view_valuereview",
    ),
    Operation.VIEW_ESCALATIONS: (
        "governance.view_signofffollowup",
        "governance.view_pilotescalation",
        "governance.view_exitcriteriabreach",
    ),
    Operation.REGISTER_INITIATIVE: ("projects.add_initiative",),
    Operation.EDIT_DRAFT: (
        "projects.change_initiative",
        "projects.add_businesscase",
        "projects.change_businesscase",
        "projects.add_kpi",
    ),
    Operation.SUBMIT_INITIATIVE: ("projects.change_initiative",),
    Operation.RECORD_MEASUREMENTS: ("projects.add_kpimeasurement",),
    Operation.RECORD_EXPERIMENT: ("projects.add_experiment", "projects.add_experimentlook"),
    Operation.RECORD_MONEY: ("projects.add_financialentry",),
    Operation.UPLOAD_EVIDENCE: ("projects.add_evidence",),
    Operation.REQUEST_REVIEW: ("governance.add_gatereview",),
    Operation.SIGN_OFF: ("governance.add_signoff",),
    Operation.DECIDE_REVIEW: ("governance.change_gatereview",),
    Operation.ADVANCE_INITIATIVE: (),  # a button on the review page; no Django form behind it
    Operation.CLOSE_CONDITION: ("governance.change_condition",),
    Operation.OPEN_VALUE_REVIEW: (),
    Operation.MEASURE_FROM_SOURCE: (),
    Operation.EDIT_POLICY: ("governance.add_gatepolicy", "governance.change_gatepolicy"),
    Operation.MANAGE_MEMBERSHIP: (),
    Operation.READ_MEMBERSHIP: (),
    Operation.MANAGE_API_TOKENS: (),
    Operation.READ_LEDGER: (
        "governance.view_ledgerevent",
        "governance.view_ledgerhead",
        "governance.view_ledgertreenode",
        "governance.view_ledgercheckpoint",
    ),
    Operation.EXPORT_LEDGER: (),
    Operation.SEE_DELIVERIES: ("governance.view_notificationdelivery",),
    Operation.RETRY_NOTIFICATIONS: (),  # an action on the deliveries list
    # The preferences page asks the matrix itself (one's own rows only): no model permission.
    Operation.OWN_NOTIFICATIONS: ("governance.view_notification",),
}

# How a refusal names who may do it instead.
# Each completes "Only ___ may <do something>." (see refusal()).
_ANYONE_IN_ROLE = {
    LEAD: _("project leads"),
    MEMBER: _("committee members"),
    CHAIR: _("the committee chair"),
    AUDITOR: _("auditors"),
    GOVERNANCE_ADMIN: _("governance admins"),
}
# Who owns the target a refusal names, by its kind (`target_noun`) and whether the owner is
# necessarily the project lead. Whole phrases, so that each is translated as one; a pair not listed
# here (none is today) is worded in English by _owner_of().
_OWNER_OF_TARGET = {
    # Translators: completes "Only ___ may <do something>."
    ("initiative", True): _("the initiative's project lead"),
    # Translators: completes "Only ___ may <do something>."
    ("initiative", False): _("the initiative's owner"),
    # Translators: completes "Only ___ may <do something>." An API token.
    ("token", False): _("the token's owner"),
    # Translators: completes "Only ___ may <do something>." A condition of an approval.
    ("condition", False): _("the condition's owner"),
    # Translators: completes "Only ___ may <do something>." A notification preference.
    ("preference", False): _("the preference's owner"),
}


@dataclass(frozen=True)
class Principal:
    """Who acts: a person's roles and committee functions (read once), or the scheduler."""

    user: AbstractBaseUser | None
    roles: frozenset[Role]
    functions: frozenset[str]

    @property
    def pk(self) -> int | None:
        return getattr(self.user, "pk", None)

    def __str__(self) -> str:
        return self.user.get_username() if self.user is not None else "scheduler"


SCHEDULER = Principal(user=None, roles=frozenset({Role.SCHEDULER}), functions=frozenset())


def principal_from_groups(user, group_names: Iterable[str]) -> Principal:
    """The principal of `user` holding the role groups `group_names` (no query)."""
    if user is None or not getattr(user, "is_active", False):
        return Principal(user=user, roles=frozenset(), functions=frozenset())
    names = frozenset(group_names)
    held = {role for group, role in GROUP_ROLES.items() if group in names}
    functions = frozenset(code for code, group in FUNCTION_GROUPS.items() if group in names)
    if functions:
        held.add(MEMBER)
    if user.is_superuser:
        held |= {GOVERNANCE_ADMIN, AUDITOR}
    return Principal(user=user, roles=frozenset(held), functions=functions)


def principal(who) -> Principal:
    """`who` as a Principal: a user's role groups are read with one query."""
    if isinstance(who, Principal):
        return who
    if who is None or not getattr(who, "is_active", False):
        return principal_from_groups(who, ())
    return principal_from_groups(who, who.groups.values_list("name", flat=True))


def scope(who, operation: Operation) -> Scope | None:
    """The broadest scope in which `who` may do `operation`, or None."""
    grants = MATRIX[operation]
    held = [grants[role] for role in principal(who).roles if role in grants]
    for broadest in (ANY, OWN_FUNCTION, OWN):
        if broadest in held:
            return broadest
    return None


def allowed(who, operation: Operation, *, owner_id: int | None = None, function: str | None = None) -> bool:
    """May `who` do `operation` on a target owned by `owner_id` (for a committee `function`)?

    Without an owner or a function, an OWN or OWN_FUNCTION grant answers "yes, on some targets":
    what a menu asks before it lists the person's own rows.
    """
    who = principal(who)
    grants = MATRIX[operation]
    for role in who.roles:
        granted = grants.get(role)
        if granted == ANY:
            return True
        if granted == OWN and (owner_id is None or (who.pk is not None and owner_id == who.pk)):
            return True
        if granted == OWN_FUNCTION and (function in who.functions if function else bool(who.functions)):
            return True
    return False


def _owner_of(target: str, *, lead: bool) -> str:
    phrase = _OWNER_OF_TARGET.get((target, lead))
    if phrase is not None:
        return str(phrase)
    return f"the {target}'s " + ("project lead" if lead else "owner")  # a kind of target not listed above


def _either(choices: list[str]) -> str:
    """ "a, b or c", in the active language."""
    if len(choices) == 1:
        return choices[0]
    # Translators: separates the items of a list ("project leads, auditors or …").
    separator = pgettext("between the words of a list", ", ")
    # Translators: the last choice of a list: %(others)s is the list so far, %(last)s its last item.
    return gettext("%(others)s or %(last)s") % {"others": separator.join(choices[:-1]), "last": choices[-1]}


def who_may(operation: Operation, *, target: str = "initiative") -> str:
    """In words: who may do `operation` ("the committee chair or the initiative's project lead")."""
    grants = MATRIX[operation]
    anyone = [
        str(_ANYONE_IN_ROLE[role])
        for role, granted in grants.items()
        if granted == ANY and role in _ANYONE_IN_ROLE
    ]
    owned = [role for role, granted in grants.items() if granted == OWN]
    if owned:
        anyone.append(_owner_of(target, lead=owned == [LEAD]))
    if any(granted == OWN_FUNCTION for granted in grants.values()):
        # Translators: completes "Only ___ may <do something>."
        anyone.append(gettext("members of that committee function"))
    if not anyone:
        # Translators: completes "Only ___ may <do something>."
        return gettext("ValueGate itself")
    return _either(anyone)


def refusal(operation: Operation, *, doing: str | None = None, target_noun: str = "initiative") -> str:
    """Why `operation` is refused, in the active language: "Only <who may> may <doing>."

    `doing` words the operation for this refusal (translated by the caller), else its label.
    """
    # Translators: %(who)s lists who may ("the committee chair or the initiative's project lead");
    # %(action)s is what was refused ("record KPI measurements").
    return gettext("Only %(who)s may %(action)s.") % {
        "who": who_may(operation, target=target_noun),
        "action": doing or operation.label,
    }


def require(
    who,
    operation: Operation,
    *,
    owner_id: int | None = None,
    function: str | None = None,
    doing: str | None = None,
    target: object = "",
    target_noun: str = "initiative",
) -> Principal:
    """Refuse with NotAllowed (logged with actor and target) unless the matrix grants it.

    `doing` words the operation in the refusal ("record its KPI measurements"), translated by the
    caller (`gettext("record its KPI measurements")`). Returns the
    principal, so a service that asks more than once reads the roles once.
    """
    who = principal(who)
    if not who.roles and (who.user is None or not who.user.is_active):
        raise NotAllowed(
            gettext("An active user account is required."),
            actor=who.user,
            target=target,
            operation=str(operation),
        )
    if not allowed(who, operation, owner_id=owner_id, function=function):
        raise NotAllowed(
            refusal(operation, doing=doing, target_noun=target_noun),
            actor=who.user,
            target=target,
            operation=str(operation),
        )
    return who


def django_permissions(granted_roles: Iterable[Role]) -> frozenset[str]:
    """The Django permissions of a holder of `granted_roles` (for the role groups)."""
    wanted: set[str] = set()
    for operation, grants in MATRIX.items():
        if any(role in grants for role in granted_roles):
            wanted.update(OPERATION_PERMISSIONS[operation])
    return frozenset(wanted)
