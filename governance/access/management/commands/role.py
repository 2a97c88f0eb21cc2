"""Grant, revoke and list governance roles from the shell, through the membership services."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import CommandError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from governance.access import roles
from governance.access.groups import group_label
from governance.access.membership import membership_grant, membership_revoke
from governance.access.recording import Membership, governed_groups
from governance.commands import TranslatedCommand
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
        # Translators: %(role)s is what was typed, quoted; %(known)s lists the short names (chair, …).
        message = gettext("No governance role %(role)s. Give a role group's name or one of: %(known)s.")
        raise CommandError(message % {"role": repr(text), "known": known})
    return Group.objects.get(name=name)


# Who a username given to the command is, and the refusal when nobody has it.
NO_SUCH_USER = {
    # Translators: %(username)s is the username given, quoted.
    "actor": _("No user named %(username)s (the actor)."),
    # Translators: %(username)s is the username given, quoted.
    "person whose role changes": _("No user named %(username)s (the person whose role changes)."),
    # Translators: %(username)s is the username given, quoted.
    "person": _("No user named %(username)s (the person)."),
}


def account(username: str, *, who: str):
    """The user named `username`; `who` is one of NO_SUCH_USER's keys."""
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(str(NO_SUCH_USER[who]) % {"username": repr(username)})
    return user


class Command(TranslatedCommand):
    help = _(
        "Grant, revoke or list governance roles. Changes are made as --actor, a governance admin or "
        "a superuser, and recorded in the decision ledger with their name; nobody changes their own "
        "roles. Example: manage.py role grant --actor admin --user alice --role chair"
    )

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="command", required=True, metavar="grant|revoke|list")
        summaries = {"grant": gettext("Give a person a role."), "revoke": gettext("Take a role away.")}
        for command, summary in summaries.items():
            change = commands.add_parser(command, help=summary, description=summary)
            change.add_argument(
                "--actor",
                required=True,
                metavar="USERNAME",
                help=gettext("The governance admin making the change."),
            )
            change.add_argument(
                "--user", required=True, metavar="USERNAME", help=gettext("The person whose role changes.")
            )
            change.add_argument(
                "--role",
                required=True,
                metavar="ROLE",
                # Translators: %(aliases)s lists the short names (chair, business, …).
                help=gettext("A role group's name or one of: %(aliases)s.") % {"aliases": ", ".join(ALIASES)},
            )
        listing = commands.add_parser("list", help=gettext("Who holds which governance role."))
        listing.add_argument("--user", metavar="USERNAME", help=gettext("Only this person's roles."))

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
        if command == "grant":
            # Translators: %(role)s is a governance role; %(user)s and %(actor)s are usernames;
            # %(event)s is the ledger event's code (membership.granted), not to be translated.
            done = gettext(
                "Granted “%(role)s” to %(user)s; recorded in the decision ledger as %(event)s by %(actor)s."
            )
            event = "membership.granted"
        else:
            # Translators: %(role)s is a governance role; %(user)s and %(actor)s are usernames;
            # %(event)s is the ledger event's code (membership.revoked), not to be translated.
            done = gettext(
                "Revoked “%(role)s” from %(user)s; recorded in the decision ledger as %(event)s by %(actor)s."
            )
            event = "membership.revoked"
        self.stdout.write(
            done
            % {
                "role": group_label(group.name),
                "user": user.get_username(),
                "event": event,
                "actor": actor.get_username(),
            }
        )

    def list_roles(self, username: str | None) -> None:
        rows = Membership.objects.filter(group__name__in=governed_groups()).select_related("user", "group")
        if username is not None:
            user = account(username, who="person")
            held = sorted(row.group.name for row in rows.filter(user=user))
            roles_text = ", ".join(map(group_label, held)) if held else gettext("no governance role")
            # Translators: %(person)s is a username, maybe marked inactive; %(roles)s lists their roles.
            self.stdout.write(
                gettext("%(person)s: %(roles)s") % {"person": _person(user), "roles": roles_text}
            )
            return
        holders: dict[str, list[str]] = {name: [] for name in sorted(governed_groups())}
        for row in rows.order_by("user__username"):
            holders[row.group.name].append(_person(row.user))
        for name, people in holders.items():
            # Translators: %(role)s is a governance role; %(people)s lists its holders' usernames.
            line = gettext("%(role)s: %(people)s")
            self.stdout.write(
                line % {"role": group_label(name), "people": ", ".join(people) if people else "—"}
            )
        superusers = get_user_model().objects.filter(is_superuser=True, is_active=True).order_by("username")
        names = ", ".join(user.get_username() for user in superusers)
        if names:
            # Translators: %(names)s lists usernames.
            self.stdout.write(
                gettext("Superusers (act as governance admins and auditors): %(names)s") % {"names": names}
            )


def _person(user) -> str:
    # An inactive account holds no role, whatever its groups say.
    if user.is_active:
        return user.get_username()
    # Translators: %(username)s is a username.
    return gettext("%(username)s (inactive)") % {"username": user.get_username()}
