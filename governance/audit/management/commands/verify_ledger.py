"""Rebuild the decision ledger's tree from the database, check every signature, and name the first bad event."""

from __future__ import annotations

import getpass
import socket

from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from governance.commands import TranslatedCommand
from governance.ledger.parallel import default_workers
from governance.ledger.signing import KeyFormatError, ledger_verifier_keys, load_verifier_keys
from governance.ledger.verification import Anchor, ChainBroken, load_checkpoint, load_receipt, verify_ledger

# Exit codes: 1 the ledger was tampered with, 2 the command could not run as asked.
TAMPERED, UNUSABLE = 1, 2


def operator_name() -> str:
    try:
        return f"{getpass.getuser()}@{socket.gethostname()}"
    except (KeyError, OSError):  # no login name in some containers
        return _("unknown operator")


class Command(TranslatedCommand):
    help = gettext_lazy(
        "Rebuild the ledger's Merkle tree from the database in constant memory, checking every event's "
        "hash and signature, against the checkpoints and receipts you kept. Exit 0 with the event "
        "count and root; exit 1 naming the first bad sequence number and what is wrong."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoint",
            action="append",
            default=[],
            metavar="FILE",
            help=_(
                "A signed checkpoint kept outside the database (repeatable): reveals a cut tail, "
                "deleted, reordered or inserted events."
            ),
        )
        parser.add_argument(
            "--public-key",
            action="append",
            default=[],
            metavar="KEY",
            help=_(
                "The ledger's public key (verifier key text, or a file of them; repeatable). Without "
                "it, the keys configured on this server are trusted."
            ),
        )
        parser.add_argument(
            "--receipt",
            action="append",
            default=[],
            metavar="FILE",
            help=_("A decision's receipt (JSON, repeatable): its event must be in the ledger."),
        )
        parser.add_argument(
            "--anchor",
            metavar="FILE",
            help=_("An anchor of the hash chain written before the ledger was signed."),
        )
        parser.add_argument(
            "--strict",
            action="store_true",
            help=_("Also prove that every stored payload is in canonical form (slower)."),
        )
        parser.add_argument(
            "--progress-every",
            type=int,
            default=100_000,
            metavar="N",
            help=_("Report progress on stderr every N events (default 100000)."),
        )
        parser.add_argument(
            "--chunk-size", type=int, default=5000, help=_("Rows read per query (default 5000).")
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=default_workers(),
            metavar="N",
            help=_(
                "Processes checking hashes and signatures beside the reader (default: one per core, "
                "at most 4; 1 checks everything in this process)."
            ),
        )

    def handle(
        self,
        *args,
        anchor=None,
        checkpoint=(),
        public_key=(),
        receipt=(),
        strict=False,
        progress_every=100_000,
        chunk_size=5000,
        workers=1,
        **options,
    ):
        operator = operator_name()
        started = timezone.now()
        if progress_every < 1 or chunk_size < 1 or workers < 1:
            raise CommandError(
                _("--progress-every, --chunk-size and --workers must be positive."), returncode=UNUSABLE
            )
        loaded = None
        try:
            keys = load_verifier_keys(public_key) if public_key else ledger_verifier_keys()
            checkpoints = [load_checkpoint(path, keys) for path in checkpoint]
            receipts = [load_receipt(path) for path in receipt]
            if anchor:
                loaded = Anchor.load(anchor)
        except (KeyFormatError, ValueError) as error:
            raise CommandError(str(error), returncode=UNUSABLE) from None

        def progress(done: int, total: int) -> None:
            counts = {"done": f"{done:,}", "total": f"{total:,}"}
            if total:
                line = ngettext(
                    # Translators: %(share)s is a percentage, e.g. 42%.
                    "verified %(done)s of %(total)s event (%(share)s)",
                    "verified %(done)s of %(total)s events (%(share)s)",
                    total,
                ) % {
                    **counts,
                    "share": f"{done / total:.0%}",
                }
            else:
                line = (
                    ngettext(
                        "verified %(done)s of %(total)s event", "verified %(done)s of %(total)s events", total
                    )
                    % counts
                )
            self.stderr.write(f"  {line}")

        self.stderr.write(
            # Translators: %(operator)s is user@host; %(started)s a date and time.
            _("Verifying the ledger; run by %(operator)s at %(started)s.")
            % {"operator": operator, "started": f"{started:%Y-%m-%d %H:%M:%S %Z}"}
        )
        try:
            summary = verify_ledger(
                anchor=loaded,
                checkpoints=checkpoints,
                receipts=receipts,
                keys=keys,
                strict=strict,
                chunk_size=chunk_size,
                progress=progress,
                progress_every=progress_every,
                workers=workers,
            )
        except ValueError as error:  # a receipt signed by no known key
            raise CommandError(str(error), returncode=TAMPERED) from None
        except ChainBroken as broken:
            raise CommandError(
                # Translators: %(problem)s says what is wrong with the event; %(operator)s is user@host.
                _("Ledger verification FAILED at event #%(seq)s: %(problem)s. (run by %(operator)s)")
                % {"seq": broken.seq, "problem": broken.problem, "operator": operator},
                returncode=TAMPERED,
            ) from None
        intact = {"count": summary.count, "root": summary.head_hash, "pending": summary.pending}
        if summary.pending:
            self.stdout.write(
                ngettext(
                    "Ledger intact: %(count)s event, every signature verified, tree root %(root)s; "
                    "%(pending)s waiting to be sequenced",
                    "Ledger intact: %(count)s events, every signature verified, tree root %(root)s; "
                    "%(pending)s waiting to be sequenced",
                    summary.count,
                )
                % intact
            )
        else:
            self.stdout.write(
                ngettext(
                    "Ledger intact: %(count)s event, every signature verified, tree root %(root)s",
                    "Ledger intact: %(count)s events, every signature verified, tree root %(root)s",
                    summary.count,
                )
                % intact
            )
        for kept in checkpoints:
            self.stdout.write(
                ngettext(
                    "Checkpoint of %(size)s event (%(root)s) matches the tree.",
                    "Checkpoint of %(size)s events (%(root)s) matches the tree.",
                    kept.size,
                )
                % {"size": kept.size, "root": kept.root.hex()}
            )
        if receipts:
            self.stdout.write(
                ngettext(
                    "%(count)s receipt found in the ledger.",
                    "%(count)s receipts found in the ledger.",
                    len(receipts),
                )
                % {"count": len(receipts)}
            )
        if loaded is not None:
            self.stdout.write(
                _("Anchor #%(seq)s (%(hash)s) taken at %(at)s is in the ledger.")
                % {"seq": loaded.seq, "hash": loaded.hash, "at": loaded.recorded_at}
            )
        took = {"operator": operator, "seconds": f"{(timezone.now() - started).total_seconds():.1f}"}
        if strict:
            # Translators: %(operator)s is user@host; %(seconds)s a duration in seconds.
            self.stdout.write(_("Checked (strict) by %(operator)s in %(seconds)s s.") % took)
        else:
            # Translators: %(operator)s is user@host; %(seconds)s a duration in seconds.
            self.stdout.write(_("Checked (standard) by %(operator)s in %(seconds)s s.") % took)
