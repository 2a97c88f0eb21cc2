"""Grant, revoke and list governance roles from the shell, through the membership services."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from governance.access import roles
from governance.access.membership import membership_grant, membership_revoke
from governance.access.recording import Membership, governed_groups
from governance.errors import DomainError

# Short names for the role groups, in the order a committee is usually set up.
ALIASES: dict[str, str] = {
    "chair": roles.COMMITTEE_CHAIR,
    **{str(code): group for code, group in roles.FUNCTION_GROUPS.items()},
    "auditors": roles.AUDITORS,
    "govadmins": roles.GOVERNANCE_ADMINS,
    "leads": roles.PROJECT_LEADS,
}


def role_group(text: str) -> Group:
    """The role group named `text`, by its name or its short name (either case)."""
    wanted = text.strip().casefold()
    by_name = {name.casefold(): name for name in governed_groups()}
    by_name.update({alias: name for alias, name in ALIASES.items() if name in governed_groups()})
    name = by_name.get(wanted)
    if name is None:
        known = ", ".join(ALIASES)
        raise CommandError(f"No governance role {text!r}. Give a role group's name or one of: {known}.")
    return Group.objects.get(name=name)


def account(username: str, *, who: str):
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"No user named {username!r} (the {who}).")
    return user


class Command(BaseCommand):
    help = (
        "Grant, revoke or list governance roles. Changes are made as --actor, a governance admin or "
        "a superuser, and recorded in the decision ledger with their name; nobody changes their own "
        "roles. Example: manage.py role grant --actor admin --user alice --role chair"
    )

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="command", required=True, metavar="grant|revoke|list")
        for command, summary in (("grant", "Give a person a role."), ("revoke", "Take a role away.")):
            change = commands.add_parser(command, help=summary, description=summary)
            change.add_argument(
                "--actor", required=True, metavar="USERNAME", help="The governance admin making the change."
            )
            change.add_argument(
                "--user", required=True, metavar="USERNAME", help="The person whose role changes."
            )
            change.add_argument(
                "--role",
                required=True,
                metavar="ROLE",
                help=f"A role group's name or one of: {', '.join(ALIASES)}.",
            )
        listing = commands.add_parser("list", help="Who holds which governance role.")
        listing.add_argument("--user", metavar="USERNAME", help="Only this person's roles.")

    def handle(self, *args, command: str, **options) -> None:
        if command == "list":
            self.list_roles(options.get("user"))
            return
        actor = account(options["actor"], who="actor")
        user = account(options["user"], who="person whose role changes")
        group = role_group(options["role"])
        service = membership_grant if command == "grant" else membership_revoke
        try:
            service(actor=actor, user=user, group=group)
        except DomainError as error:
            raise CommandError(error.message) from None
        done, preposition, event = (
            ("Granted", "to", "membership.granted")
            if command == "grant"
            else ("Revoked", "from", "membership.revoked")
        )
        self.stdout.write(
            f"{done} “{group.name}” {preposition} {user.get_username()}; recorded in the decision ledger "
            f"as {event} by {actor.get_username()}."
        )

    def list_roles(self, username: str | None) -> None:
        rows = Membership.objects.filter(group__name__in=governed_groups()).select_related("user", "group")
        if username is not None:
            user = account(username, who="person")
            held = sorted(row.group.name for row in rows.filter(user=user))
            roles_text = ", ".join(held) if held else "no governance role"
            self.stdout.write(f"{user.get_username()}{_inactive(user)}: {roles_text}")
            return
        holders: dict[str, list[str]] = {name: [] for name in sorted(governed_groups())}
        for row in rows.order_by("user__username"):
            holders[row.group.name].append(f"{row.user.get_username()}{_inactive(row.user)}")
        for name, people in holders.items():
            self.stdout.write(f"{name}: {', '.join(people) if people else '—'}")
        superusers = get_user_model().objects.filter(is_superuser=True, is_active=True).order_by("username")
        names = ", ".join(user.get_username() for user in superusers)
        if names:
            self.stdout.write(f"Superusers (act as governance admins and auditors): {names}")


def _inactive(user) -> str:
    # An inactive account holds no role, whatever its groups say.
    return "" if user.is_active else " (inactive)"
