"""Who is who: the role groups, and the questions services ask about a user.

Every entry point (admin, commands, tasks) asks these same functions through the services.
"""

from __future__ import annotations

from django.contrib.auth.models import Group

from governance.models import CommitteeFunction, FunctionCode

PROJECT_LEADS = "Project leads"
COMMITTEE_CHAIR = "Committee chair"
AUDITORS = "Auditors"
GOVERNANCE_ADMINS = "Governance admins"

FUNCTION_GROUPS: dict[str, str] = {
    FunctionCode.BUSINESS: "Committee: business",
    FunctionCode.LEGAL: "Committee: legal",
    FunctionCode.FINANCE: "Committee: finance",
    FunctionCode.TECHNICAL: "Committee: technical",
    FunctionCode.RISK_ETHICS: "Committee: risk & ethics",
}


def ensure_roles(**kwargs) -> None:
    """Create the role groups, the committee functions and the default gate policies (idempotent).

    Runs after every migrate and flush, so a database always has them.
    """
    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Permission

    from governance.models import GatePolicy
    from governance.policies import install_default_policies

    for name in (PROJECT_LEADS, COMMITTEE_CHAIR, AUDITORS, GOVERNANCE_ADMINS):
        Group.objects.get_or_create(name=name)
    for code, group_name in FUNCTION_GROUPS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        CommitteeFunction.objects.get_or_create(code=code, defaults={"group": group})
    install_default_policies(GatePolicy)

    # Every role reads the portfolio and the committee's records in the admin; what each may
    # see of them (a lead: own initiatives) and change (nothing but through services) is
    # enforced by the admin classes and the services.
    for app_label in ("projects", "governance"):
        create_permissions(apps.get_app_config(app_label), verbosity=0)
    view = Permission.objects.filter(
        content_type__app_label__in=("projects", "governance"), codename__startswith="view_"
    )
    for group in Group.objects.filter(
        name__in=[PROJECT_LEADS, COMMITTEE_CHAIR, AUDITORS, GOVERNANCE_ADMINS, *FUNCTION_GROUPS.values()]
    ):
        group.permissions.add(*view)


def in_group(user, group_name: str) -> bool:
    if not user or not user.is_active:
        return False
    return user.groups.filter(name=group_name).exists()


def is_project_lead(user) -> bool:
    return in_group(user, PROJECT_LEADS)


def is_chair(user) -> bool:
    return in_group(user, COMMITTEE_CHAIR)


def is_auditor(user) -> bool:
    return in_group(user, AUDITORS)


def is_governance_admin(user) -> bool:
    return in_group(user, GOVERNANCE_ADMINS)


def member_functions(user) -> set[str]:
    """Codes of the committee functions the user sits for."""
    if not user or not user.is_active:
        return set()
    return set(CommitteeFunction.objects.filter(group__user=user).values_list("code", flat=True))
