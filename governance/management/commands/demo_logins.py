from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from governance.access.groups import group_label
from governance.access.preferences import person_name
from governance.commands import TranslatedCommand
from governance.management.commands.seed_demo import DEMO_PASSWORD, DEMO_USERS


class Command(TranslatedCommand):
    help = gettext_lazy("Print the demo logins.")

    def handle(self, *args, **options) -> None:
        self.stdout.write(_("Demo logins (password for all: %(password)s):") % {"password": DEMO_PASSWORD})
        # The names as seeded (English, or Chinese after `seed_demo --language zh-hans`).
        people = {
            u.username: u
            for u in get_user_model().objects.filter(username__in=[u for u, _n, _g in DEMO_USERS])
        }
        for username, first_name, groups in DEMO_USERS:
            name = person_name(people[username]) if username in people else first_name
            roles_held = pgettext("between the words of a list", ", ").join(group_label(g) for g in groups)
            self.stdout.write(f"  {username:<14} {name:<10} {roles_held}")
