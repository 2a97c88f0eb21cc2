"""Generate the Ed25519 key the application signs ledger events and checkpoints with."""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from governance.commands import TranslatedCommand
from governance.ledger.signing import KeyFormatError, SigningKey

DEFAULT_ORIGIN = "valuegate.local/ledger"


class Command(TranslatedCommand):
    # Runs before a key exists: the system checks would refuse for want of one.
    requires_system_checks: list[str] = []
    help = gettext_lazy(
        "Generate a new ledger signing key (Ed25519, in the golang.org/x/mod/sumdb/note format). "
        "With --output FILE the private key is written to FILE (mode 0600, never overwritten); "
        "without it, it is printed on stdout. The public verifier key is always printed, to hand "
        "to auditors. Point VALUEGATE_LEDGER_SIGNING_KEY at the file; keep the key out of the database."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--name",
            metavar="NAME",
            help=_("The key name (default: VALUEGATE_LEDGER_ORIGIN, or valuegate.local/ledger)."),
        )
        parser.add_argument(
            "--output",
            metavar="FILE",
            help=_("Write the private key to FILE, created with mode 0600; an existing FILE is refused."),
        )

    def handle(self, *args, name=None, output=None, **options):
        name = name or getattr(settings, "VALUEGATE_LEDGER_ORIGIN", "") or DEFAULT_ORIGIN
        try:
            key = SigningKey.generate(name)
        except KeyFormatError as error:
            raise CommandError(
                _("Invalid key name %(name)s: %(error)s.") % {"name": repr(name), "error": error}
            ) from None

        if output:
            write_private_key(Path(output), key.text + "\n")
            self.stderr.write(
                _(
                    # Translators: %(key)s is the key's name and id; %(path)s the file it was written to.
                    "Signing key %(key)s written to %(path)s (mode 0600). "
                    "Set VALUEGATE_LEDGER_SIGNING_KEY=%(path)s; keep the file secret and backed up."
                )
                % {"key": f"{key.name}+{key.key_id}", "path": output}
            )
            self.stderr.write(_("Verifier (public) key, for auditors:"))
            self.stdout.write(key.verifier.text)
        else:
            # stdout holds the private key alone, so that it can be piped; the rest goes to stderr.
            self.stderr.write(
                _(
                    "WARNING: the private signing key follows on stdout. Anyone holding it can sign "
                    "ledger checkpoints: keep it out of shells' history, logs and the database "
                    "(prefer --output FILE)."
                )
            )
            self.stdout.write(key.text)
            self.stderr.write(_("Verifier (public) key, for auditors:") + f"\n{key.verifier.text}")


def write_private_key(path: Path, text: str) -> None:
    """Create `path` with mode 0600 and write `text`; refuse an existing file or link."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except FileExistsError:
        raise CommandError(
            _("%(path)s already exists; refusing to overwrite a signing key.") % {"path": path}
        ) from None
    except OSError as error:
        raise CommandError(
            _("Cannot create %(path)s: %(error)s") % {"path": path, "error": error.strerror or error}
        ) from None
    try:
        os.fchmod(descriptor, 0o600)  # whatever the umask
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as error:
        path.unlink(missing_ok=True)
        raise CommandError(
            _("Cannot write the signing key to %(path)s: %(error)s")
            % {"path": path, "error": error.strerror or error}
        ) from None
