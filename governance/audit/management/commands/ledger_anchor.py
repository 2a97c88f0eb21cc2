"""Print the ledger's head (seq, hash, time) as an anchor to keep outside the database."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from governance.ledger.chain import ledger_anchor


class Command(BaseCommand):
    help = (
        'Print the ledger head as JSON {"seq", "hash", "recorded_at"}. Keep it outside the database '
        "(e-mail, ticket, another system); `verify_ledger --anchor FILE` then reveals a cut tail or "
        "a chain recomputed after an edit."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", metavar="FILE", help="Also write the anchor to FILE.")

    def handle(self, *args, output=None, **options):
        anchor = json.dumps(ledger_anchor().as_dict(), sort_keys=True)
        if output:
            try:
                Path(output).write_text(anchor + "\n", encoding="utf-8")
            except OSError as error:
                raise CommandError(f"Cannot write the anchor to {output}: {error}") from None
        self.stdout.write(anchor)
