"""Rebuild the decision ledger's tree from the database, check every signature, and name the first bad event."""

from __future__ import annotations

import getpass
import socket

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from governance.ledger.signing import KeyFormatError, ledger_verifier_keys, load_verifier_keys
from governance.ledger.verification import Anchor, ChainBroken, load_checkpoint, load_receipt, verify_ledger

# Exit codes: 1 the ledger was tampered with, 2 the command could not run as asked.
TAMPERED, UNUSABLE = 1, 2


def operator_name() -> str:
    try:
        return f"{getpass.getuser()}@{socket.gethostname()}"
    except (KeyError, OSError):  # no login name in some containers
        return "unknown operator"


class Command(BaseCommand):
    help = (
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
            help="A signed checkpoint kept outside the database (repeatable): reveals a cut tail, "
            "deleted, reordered or inserted events.",
        )
        parser.add_argument(
            "--public-key",
            action="append",
            default=[],
            metavar="KEY",
            help="The ledger's public key (verifier key text, or a file of them; repeatable). Without "
            "it, the keys configured on this server are trusted.",
        )
        parser.add_argument(
            "--receipt",
            action="append",
            default=[],
            metavar="FILE",
            help="A decision's receipt (JSON, repeatable): its event must be in the ledger.",
        )
        parser.add_argument(
            "--anchor",
            metavar="FILE",
            help="An anchor of the hash chain written before the ledger was signed.",
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
        **options,
    ):
        operator = operator_name()
        started = timezone.now()
        if progress_every < 1 or chunk_size < 1:
            raise CommandError("--progress-every and --chunk-size must be positive.", returncode=UNUSABLE)
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
            share = f" ({done / total:.0%})" if total else ""
            self.stderr.write(f"  verified {done:,} of {total:,} events{share}")

        self.stderr.write(f"Verifying the ledger; run by {operator} at {started:%Y-%m-%d %H:%M:%S %Z}.")
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
            )
        except ValueError as error:  # a receipt signed by no known key
            raise CommandError(str(error), returncode=TAMPERED) from None
        except ChainBroken as broken:
            raise CommandError(
                f"Ledger verification FAILED at event #{broken.seq}: {broken.problem}. (run by {operator})",
                returncode=TAMPERED,
            ) from None
        self.stdout.write(
            f"Ledger intact: {summary.count} events, every signature verified, tree root {summary.head_hash}"
            + (f"; {summary.pending} waiting to be sequenced" if summary.pending else "")
        )
        for kept in checkpoints:
            self.stdout.write(f"Checkpoint of {kept.size} events ({kept.root.hex()}) matches the tree.")
        if receipts:
            self.stdout.write(f"{len(receipts)} receipt(s) found in the ledger.")
        if loaded is not None:
            self.stdout.write(
                f"Anchor #{loaded.seq} ({loaded.hash}) taken at {loaded.recorded_at} is in the ledger."
            )
        mode = "strict" if strict else "standard"
        self.stdout.write(
            f"Checked ({mode}) by {operator} in {(timezone.now() - started).total_seconds():.1f} s."
        )
