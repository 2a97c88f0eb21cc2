"""Sign a checkpoint of the ledger's tree and publish it to the witnesses (and print it)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from governance.ledger.checkpoints import CheckpointRefused, publish_checkpoint


class Command(BaseCommand):
    help = (
        "Sequence what is pending, check the tree since the last checkpoint, and sign a checkpoint "
        "(C2SP tlog-checkpoint in a signed note). It is written once to every witness directory "
        "(VALUEGATE_LEDGER_WITNESS_DIRS, or --witness) and printed; keep it outside the database. "
        "`verify_ledger --checkpoint FILE --public-key KEY` then reveals any change made before it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", metavar="FILE", help="Also write the checkpoint to FILE.")
        parser.add_argument(
            "--witness",
            action="append",
            metavar="DIR",
            help="Publish to DIR instead of the configured witness directories (repeatable).",
        )

    def handle(self, *args, output=None, witness=None, **options):
        try:
            publication = publish_checkpoint(directories=witness)
        except CheckpointRefused as refused:
            raise CommandError(f"No checkpoint signed: {refused}. Run verify_ledger.") from None
        note = publication.checkpoint.note
        if output:
            try:
                Path(output).write_text(note, encoding="utf-8")
            except OSError as error:
                raise CommandError(f"Cannot write the checkpoint to {output}: {error}") from None
        for path in publication.written:
            self.stderr.write(f"Published to {path}")
        for failure in publication.failed:
            self.stderr.write(f"NOT published to {failure}")
        self.stdout.write(note, ending="")
        if publication.failed:
            raise CommandError(f"{len(publication.failed)} witness(es) could not be written.")
