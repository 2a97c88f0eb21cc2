from __future__ import annotations

from django.core.management.base import BaseCommand

from governance.management.commands.seed_demo import DEMO_PASSWORD, DEMO_USERS


class Command(BaseCommand):
    help = "Print the demo logins."

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for username, first_name, groups in DEMO_USERS:
            self.stdout.write(f"  {username:<14} {first_name:<10} {', '.join(groups)}")
