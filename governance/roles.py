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
    from governance.models import GatePolicy
    from governance.policies import install_default_policies

    for name in (PROJECT_LEADS, COMMITTEE_CHAIR, AUDITORS, GOVERNANCE_ADMINS):
        Group.objects.get_or_create(name=name)
    for code, group_name in FUNCTION_GROUPS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        CommitteeFunction.objects.get_or_create(code=code, defaults={"group": group})
    install_default_policies(GatePolicy)

    grant_role_permissions()


# What each role may do in the admin, as Django permissions ("app_label.codename"; a trailing
# "*" takes every permission of that app starting with the prefix, so a new model's view
# permission reaches the roles that read everything). This is the declared source of truth:
# ensure_roles sets every role group's permissions to exactly this after each migrate.
#
# Permissions are not granted in a data migration because Django creates them only after all
# migrations ran (post_migrate); the roles are therefore applied by the post_migrate handler
# above, which every `migrate` (and every test database flush) runs.
#
# A permission says what a role's pages and buttons offer; the admin further limits it to the
# role's own objects (a lead's initiatives, a member's function) and every change still goes
# through a service, which checks the same rules again.
READ_EVERYTHING = ("projects.view_*", "governance.view_*")
_SIGN = ("governance.add_signoff",)
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    PROJECT_LEADS: frozenset(
        {
            "projects.view_initiative",
            "projects.add_initiative",  # register an initiative
            "projects.change_initiative",  # edit own draft, submit it
            "projects.view_businesscase",
            "projects.add_businesscase",
            "projects.change_businesscase",
            "projects.view_kpi",
            "projects.add_kpi",
            "projects.view_kpimeasurement",
            "projects.add_kpimeasurement",
            "projects.view_experiment",
            "projects.add_experiment",
            "projects.view_financialentry",
            "projects.add_financialentry",
            "projects.view_evidence",
            "projects.add_evidence",
            "governance.view_gatereview",
            "governance.add_gatereview",  # request a gate review of own initiative
            "governance.view_signoff",
            "governance.view_condition",
            "governance.change_condition",  # close a condition they own
            "governance.view_gatepolicy",
            "governance.view_committeefunction",
            "governance.view_valuereview",  # their own initiatives' monthly value reviews
        }
    ),
    COMMITTEE_CHAIR: frozenset(
        {
            *READ_EVERYTHING,
            "governance.add_gatereview",  # open a review
            "governance.change_gatereview",  # hold, kill, advance
            "governance.change_condition",  # close any condition
        }
    ),
    AUDITORS: frozenset(READ_EVERYTHING),
    GOVERNANCE_ADMINS: frozenset(
        {*READ_EVERYTHING, "governance.add_gatepolicy", "governance.change_gatepolicy"}
    ),
    **{group: frozenset({*READ_EVERYTHING, *_SIGN}) for group in FUNCTION_GROUPS.values()},
}


def grant_role_permissions() -> None:
    """Give each role group exactly the permissions ROLE_PERMISSIONS declares."""
    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Permission

    for app_label in ("projects", "governance"):
        create_permissions(apps.get_app_config(app_label), verbosity=0)
    by_name = {
        f"{app_label}.{codename}": pk
        for pk, app_label, codename in Permission.objects.filter(
            content_type__app_label__in=("projects", "governance")
        ).values_list("pk", "content_type__app_label", "codename")
    }
    for group_name, declared in ROLE_PERMISSIONS.items():
        wanted = set()
        for entry in declared:
            if entry.endswith("*"):
                wanted |= {pk for name, pk in by_name.items() if name.startswith(entry[:-1])}
            elif entry in by_name:
                wanted.add(by_name[entry])
            else:
                raise LookupError(f"ROLE_PERMISSIONS names an unknown permission {entry!r}.")
        group, _ = Group.objects.get_or_create(name=group_name)
        group.permissions.set(wanted)


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
