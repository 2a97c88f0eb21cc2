"""Run the ledger's sequencer: seal committed events in batches, as soon as they appear."""

from __future__ import annotations

import time

from django.core.management.base import CommandError
from django.db import close_old_connections
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from governance.commands import TranslatedCommand
from governance.ledger.models import LedgerEvent
from governance.ledger.sequencer import seal_pending


class Command(TranslatedCommand):
    help = gettext_lazy(
        "Seal committed ledger events into the Merkle tree as they appear (VALUEGATE_LEDGER_SEALING="
        "sequencer: decisions then only insert their events). Run exactly one, next to the web and "
        "worker processes; another one started by mistake waits for the first's lock."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--interval",
            type=float,
            default=0.02,
            metavar="SECONDS",
            help=_("How long to wait when nothing is pending (default 0.02 s)."),
        )
        parser.add_argument("--once", action="store_true", help=_("Seal what is pending now, then stop."))

    def handle(self, *args, interval=0.02, once=False, **options):
        if interval <= 0:
            raise CommandError(_("--interval must be positive."))
        refused: set[int] = set()  # forged rows stay unsequenced; reported once, then not waited on
        sealed_total = 0
        while True:
            close_old_connections()
            if LedgerEvent.objects.filter(seq__isnull=True).exclude(id__in=refused).exists():
                sealed = seal_pending()
                sealed_total += sealed.sealed
                new = set(sealed.refused) - refused
                if new:
                    refused |= new
                    self.stderr.write(
                        ngettext(
                            # Translators: %(ids)s lists up to ten event ids, e.g. [12, 15].
                            "Refused to seal %(count)s event that is not genuine (id %(ids)s): run verify_ledger.",
                            "Refused to seal %(count)s events that are not genuine (ids %(ids)s): run verify_ledger.",
                            len(new),
                        )
                        % {"count": len(new), "ids": sorted(new)[:10]}
                    )
            elif once:
                break
            else:
                time.sleep(interval)
            if once:
                break
        self.stdout.write(
            ngettext("Sealed %(count)s event.", "Sealed %(count)s events.", sealed_total)
            % {"count": sealed_total}
        )
