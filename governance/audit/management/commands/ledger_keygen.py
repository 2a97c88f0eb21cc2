"""Generate the Ed25519 key the application signs ledger events and checkpoints with."""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from governance.ledger.signing import KeyFormatError, SigningKey

DEFAULT_ORIGIN = "valuegate.local/ledger"


class Command(BaseCommand):
    help = (
        "Generate a new ledger signing key (Ed25519, in the golang.org/x/mod/sumdb/note format). "
        "With --output FILE the private key is written to FILE (mode 0600, never overwritten); "
        "without it, it is printed on stdout. The public verifier key is always printed, to hand "
        "to auditors. Point VALUEGATE_LEDGER_SIGNING_KEY at the file; keep the key out of the database."
    )

    # Runs before a key exists: the system checks would refuse for want of one.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--name",
            metavar="NAME",
            help="The key name (default: VALUEGATE_LEDGER_ORIGIN, or valuegate.local/ledger).",
        )
        parser.add_argument(
            "--output",
            metavar="FILE",
            help="Write the private key to FILE, created with mode 0600; an existing FILE is refused.",
        )

    def handle(self, *args, name=None, output=None, **options):
        name = name or getattr(settings, "VALUEGATE_LEDGER_ORIGIN", "") or DEFAULT_ORIGIN
        try:
            key = SigningKey.generate(name)
        except KeyFormatError as error:
            raise CommandError(f"Invalid key name {name!r}: {error}.") from None

        if output:
            write_private_key(Path(output), key.text + "\n")
            self.stderr.write(
                f"Signing key {key.name}+{key.key_id} written to {output} (mode 0600). "
                f"Set VALUEGATE_LEDGER_SIGNING_KEY={output}; keep the file secret and backed up."
            )
            self.stderr.write("Verifier (public) key, for auditors:")
            self.stdout.write(key.verifier.text)
        else:
            # stdout holds the private key alone, so that it can be piped; the rest goes to stderr.
            self.stderr.write(
                "WARNING: the private signing key follows on stdout. Anyone holding it can sign "
                "ledger checkpoints: keep it out of shells' history, logs and the database "
                "(prefer --output FILE)."
            )
            self.stdout.write(key.text)
            self.stderr.write(f"Verifier (public) key, for auditors:\n{key.verifier.text}")


def write_private_key(path: Path, text: str) -> None:
    """Create `path` with mode 0600 and write `text`; refuse an existing file or link."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except FileExistsError:
        raise CommandError(f"{path} already exists; refusing to overwrite a signing key.") from None
    except OSError as error:
        raise CommandError(f"Cannot create {path}: {error.strerror or error}") from None
    try:
        os.fchmod(descriptor, 0o600)  # whatever the umask
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as error:
        path.unlink(missing_ok=True)
        raise CommandError(f"Cannot write the signing key to {path}: {error.strerror or error}") from None
