"""Print the verifier (public) key of the ledger's signing key, for auditors."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from governance.commands import TranslatedCommand
from governance.ledger.signing import ledger_signing_key, ledger_verifier_keys


class Command(TranslatedCommand):
    # Runs before a key exists: the system checks would refuse for want of one.
    requires_system_checks: list[str] = []
    help = gettext_lazy(
        "Print the verifier (public) key of VALUEGATE_LEDGER_SIGNING_KEY, in the "
        "golang.org/x/mod/sumdb/note format. With --all, also the older verifier keys kept in "
        "VALUEGATE_LEDGER_VERIFIER_KEYS after a rotation: one key per line, the current one first."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--all",
            action="store_true",
            dest="include_older",
            help=_("Also print the older verifier keys (VALUEGATE_LEDGER_VERIFIER_KEYS)."),
        )

    def handle(self, *args, include_older=False, **options):
        try:
            current = ledger_signing_key().verifier
            keys = [current]
            if include_older:
                keys += [key for key in ledger_verifier_keys().values() if key != current]
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from None
        self.stdout.write("\n".join(key.text for key in keys))
