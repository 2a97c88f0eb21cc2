"""The role groups in the database: created after every migrate, each given the Django permissions
the permission matrix (governance/access/matrix.py) derives for its role. The groups' names and
roles are declared in governance/access/groups.py."""

from __future__ import annotations

from django.contrib.auth.models import Group

from governance.access.groups import (  # noqa: F401  (the group names are read as roles.X)
    AUDITORS,
    COMMITTEE_CHAIR,
    FUNCTION_GROUPS,
    GOVERNANCE_ADMINS,
    GROUP_ROLES,
    PROJECT_LEADS,
)
from governance.access.matrix import django_permissions
from governance.models import CommitteeFunction


def ensure_roles(**kwargs) -> None:
    """Create the role groups and the committee functions, and grant each group its permissions
    (idempotent). Runs after every migrate and flush, so a database always has them.
    """
    for name in (PROJECT_LEADS, COMMITTEE_CHAIR, AUDITORS, GOVERNANCE_ADMINS):
        Group.objects.get_or_create(name=name)
    for code, group_name in FUNCTION_GROUPS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        CommitteeFunction.objects.get_or_create(code=code, defaults={"group": group})
    grant_role_permissions()


# The Django permissions of each role group, derived from the matrix: what a role's admin menus,
# lists and add forms offer. ensure_roles sets every role group's permissions to exactly this
# after each migrate. The admin further limits them to the role's own objects and every change
# still goes through a service, which asks the matrix again.
#
# Permissions are not granted in a data migration because Django creates them only after all
# migrations ran (post_migrate); the roles are therefore applied by the post_migrate handler
# above, which every `migrate` (and every test database flush) runs.
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    group: django_permissions([role]) for group, role in GROUP_ROLES.items()
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
