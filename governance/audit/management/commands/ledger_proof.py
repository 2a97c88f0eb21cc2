"""Print the proof that an event is in a checkpoint, or that one checkpoint extends another."""

from __future__ import annotations

import json

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from governance.commands import TranslatedCommand
from governance.ledger.checkpoints import event_inclusion, receipt_inclusion, tree_consistency


class Command(TranslatedCommand):
    help = gettext_lazy(
        "Print as JSON the RFC 9162 inclusion proof of an event (--seq N or --hash H) in a published "
        "checkpoint (--size, default the latest), or the consistency proof between two checkpoints "
        "(--consistency OLD_SIZE [NEW_SIZE]). Check it with tools/verify_export.py --proof."
    )

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--seq", type=int, metavar="N", help=_("The event's sequence number."))
        which.add_argument("--hash", metavar="HASH", help=_("The event's hash, e.g. from a receipt."))
        which.add_argument(
            "--consistency",
            type=int,
            nargs="+",
            metavar="SIZE",
            help=_("OLD_SIZE [NEW_SIZE] of two checkpoints."),
        )
        parser.add_argument("--size", type=int, metavar="N", help=_("The checkpoint's tree size."))

    def handle(self, *args, seq=None, hash=None, consistency=None, size=None, **options):
        try:
            if consistency is not None:
                if len(consistency) > 2:
                    raise CommandError(_("--consistency takes OLD_SIZE and at most one NEW_SIZE."))
                proof = tree_consistency(
                    old_size=consistency[0], new_size=consistency[1] if len(consistency) == 2 else None
                )
            elif hash is not None:
                proof = receipt_inclusion(event_hash=hash.strip().lower(), size=size).as_dict()
            else:
                proof = event_inclusion(seq=seq, size=size).as_dict()
        except LookupError as missing:
            raise CommandError(str(missing).strip("'\"")) from None
        self.stdout.write(json.dumps(proof, indent=2, sort_keys=True))
