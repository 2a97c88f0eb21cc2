"""Sign a checkpoint of the ledger's tree and publish it to the witnesses (and print it)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from governance.commands import TranslatedCommand
from governance.ledger.checkpoints import CheckpointRefused, publish_checkpoint


class Command(TranslatedCommand):
    help = gettext_lazy(
        "Sequence what is pending, check the tree since the last checkpoint, and sign a checkpoint "
        "(C2SP tlog-checkpoint in a signed note). It is written once to every witness directory "
        "(VALUEGATE_LEDGER_WITNESS_DIRS, or --witness) and printed; keep it outside the database. "
        "`verify_ledger --checkpoint FILE --public-key KEY` then reveals any change made before it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", metavar="FILE", help=_("Also write the checkpoint to FILE."))
        parser.add_argument(
            "--witness",
            action="append",
            metavar="DIR",
            help=_("Publish to DIR instead of the configured witness directories (repeatable)."),
        )

    def handle(self, *args, output=None, witness=None, **options):
        try:
            publication = publish_checkpoint(directories=witness)
        except CheckpointRefused as refused:
            raise CommandError(
                # Translators: %(reason)s says why the ledger cannot be checkpointed.
                _("No checkpoint signed: %(reason)s. Run verify_ledger.") % {"reason": refused}
            ) from None
        note = publication.checkpoint.note
        if output:
            try:
                Path(output).write_text(note, encoding="utf-8")
            except OSError as error:
                raise CommandError(
                    _("Cannot write the checkpoint to %(path)s: %(error)s") % {"path": output, "error": error}
                ) from None
        for path in publication.written:
            self.stderr.write(_("Published to %(path)s") % {"path": path})
        for failure in publication.failed:
            # Translators: %(failure)s is a witness directory and the error writing to it.
            self.stderr.write(_("NOT published to %(failure)s") % {"failure": failure})
        self.stdout.write(note, ending="")
        if publication.failed:
            raise CommandError(
                ngettext(
                    "%(count)s witness could not be written.",
                    "%(count)s witnesses could not be written.",
                    len(publication.failed),
                )
                % {"count": len(publication.failed)}
            )
