"""Recompute the decision ledger's hash chain and name the first broken event."""

from __future__ import annotations

import getpass
import socket

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from governance.ledger.chain import Anchor, ChainBroken, verify_ledger

# Exit codes: 1 the ledger was tampered with, 2 the command could not run as asked.
TAMPERED, UNUSABLE = 1, 2


def operator_name() -> str:
    try:
        return f"{getpass.getuser()}@{socket.gethostname()}"
    except (KeyError, OSError):  # no login name in some containers
        return "unknown operator"


class Command(BaseCommand):
    help = (
        "Recompute the ledger's hash chain from the database, in constant memory. Exit 0 with the "
        "event count and head hash; exit 1 naming the first bad sequence number and what is wrong."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--anchor",
            metavar="FILE",
            help="An anchor written earlier by ledger_anchor: reveals a cut tail or a recomputed chain.",
        )
        parser.add_argument(
            "--strict",
            action="store_true",
            help="Also prove that every stored payload is in canonical form (slower).",
        )
        parser.add_argument(
            "--progress-every",
            type=int,
            default=100_000,
            metavar="N",
            help="Report progress on stderr every N events (default 100000).",
        )
        parser.add_argument(
            "--chunk-size", type=int, default=5000, help="Rows read per query (default 5000)."
        )

    def handle(self, *args, anchor=None, strict=False, progress_every=100_000, chunk_size=5000, **options):
        operator = operator_name()
        started = timezone.now()
        if progress_every < 1 or chunk_size < 1:
            raise CommandError("--progress-every and --chunk-size must be positive.", returncode=UNUSABLE)
        loaded = None
        if anchor:
            try:
                loaded = Anchor.load(anchor)
            except ValueError as error:
                raise CommandError(str(error), returncode=UNUSABLE) from None

        def progress(done: int, total: int) -> None:
            share = f" ({done / total:.0%})" if total else ""
            self.stderr.write(f"  verified {done:,} of {total:,} events{share}")

        self.stderr.write(f"Verifying the ledger; run by {operator} at {started:%Y-%m-%d %H:%M:%S %Z}.")
        try:
            summary = verify_ledger(
                anchor=loaded,
                strict=strict,
                chunk_size=chunk_size,
                progress=progress,
                progress_every=progress_every,
            )
        except ChainBroken as broken:
            raise CommandError(
                f"Ledger verification FAILED at event #{broken.seq}: {broken.problem}. (run by {operator})",
                returncode=TAMPERED,
            ) from None
        self.stdout.write(
            f"Ledger intact: {summary.count} events, head #{summary.head_seq} hash {summary.head_hash}"
        )
        if loaded is not None:
            self.stdout.write(
                f"Anchor #{loaded.seq} ({loaded.hash}) taken at {loaded.recorded_at} is in the chain."
            )
        mode = "strict" if strict else "chain"
        self.stdout.write(
            f"Checked ({mode}) by {operator} in {(timezone.now() - started).total_seconds():.1f} s."
        )
