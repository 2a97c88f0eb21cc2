"""Export a period of the decision ledger as CSV or JSON, verifiable with tools/verify_export.py."""

from __future__ import annotations

import datetime as dt
import sys
from typing import BinaryIO

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from governance.audit.services import ByteSink, ledger_export
from governance.commands import TranslatedCommand
from governance.errors import DomainError
from projects.models import Initiative


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(_("%(text)s is not a date (YYYY-MM-DD).") % {"text": repr(text)}) from None


class _FileOnFirstWrite:
    """Opens the output file only when the export starts writing, so a refusal leaves no file."""

    def __init__(self, path: str):
        self.path = path
        self.file: BinaryIO | None = None

    def write(self, data: bytes) -> int:
        if self.file is None:
            self.file = open(self.path, "wb")  # closed by close()
        return self.file.write(data)

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


class _TextOut:
    """A binary sink over a text stream (stdout when it has no byte buffer, e.g. in tests)."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, data: bytes) -> int:
        self.stream.write(data.decode())
        return len(data)


class Command(TranslatedCommand):
    help = gettext_lazy(
        "Export the ledger's events of a period (UTC days, both included) with everything needed to "
        "recompute their hashes. Only auditors export; the export is recorded in the ledger."
    )

    def add_arguments(self, parser):
        parser.add_argument("--actor", required=True, metavar="USERNAME", help=_("The auditor exporting."))
        parser.add_argument(
            "--since", type=_day, metavar="YYYY-MM-DD", help=_("First day (default: the start).")
        )
        parser.add_argument("--until", type=_day, metavar="YYYY-MM-DD", help=_("Last day (default: today)."))
        parser.add_argument(
            "--initiative",
            type=int,
            metavar="ID",
            help=_("Only this initiative's events; the others in the period keep only their hashes."),
        )
        parser.add_argument("--format", choices=["csv", "json"], default="csv", dest="fmt")
        parser.add_argument("--output", metavar="FILE", help=_("Write to FILE instead of standard output."))

    def handle(
        self, *args, actor, since=None, until=None, initiative=None, fmt="csv", output=None, **options
    ):
        user = get_user_model().objects.filter(username=actor).first()
        if user is None:
            raise CommandError(_("No user named %(name)s.") % {"name": repr(actor)})
        selected = None
        if initiative is not None:
            selected = Initiative.objects.filter(pk=initiative).first()
            if selected is None:
                raise CommandError(_("No initiative with id %(id)s.") % {"id": initiative})
        out: ByteSink
        file_out: _FileOnFirstWrite | None = None
        if output:
            out = file_out = _FileOnFirstWrite(output)
        else:
            buffer = getattr(self.stdout._out, "buffer", None)
            out = (
                buffer
                if buffer is not None and self.stdout._out is sys.stdout
                else _TextOut(self.stdout._out)
            )
        try:
            summary = ledger_export(
                actor=user, out=out, fmt=fmt, since=since, until=until, initiative=selected
            )
        except DomainError as error:
            raise CommandError(error.message) from None
        except OSError as error:
            raise CommandError(_("Cannot write the export: %(error)s") % {"error": error}) from None
        finally:
            if file_out is not None:
                file_out.close()
            else:
                (out if hasattr(out, "flush") else self.stdout).flush()
        span = f"#{summary.first_seq}–#{summary.last_seq}" if summary.events else _("no events")
        if summary.withheld:
            # Translators: %(span)s is a range of events (#12–#40, or "no events").
            span = _("%(span)s, %(withheld)s withheld") % {"span": span, "withheld": summary.withheld}
        facts = {"events": summary.events, "span": span, "format": fmt, "sha256": summary.sha256}
        if output:
            exported = ngettext(
                # Translators: %(span)s is a range of events (#12–#40); %(format)s is csv or json.
                "Exported %(events)s event (%(span)s) as %(format)s to %(output)s; sha256 %(sha256)s.",
                "Exported %(events)s events (%(span)s) as %(format)s to %(output)s; sha256 %(sha256)s.",
                summary.events,
            ) % {**facts, "output": output}
        else:
            exported = (
                ngettext(
                    # Translators: %(span)s is a range of events (#12–#40); %(format)s is csv or json.
                    "Exported %(events)s event (%(span)s) as %(format)s; sha256 %(sha256)s.",
                    "Exported %(events)s events (%(span)s) as %(format)s; sha256 %(sha256)s.",
                    summary.events,
                )
                % facts
            )
        proved = ngettext(
            "Proved against the checkpoint of %(size)s event.",
            "Proved against the checkpoint of %(size)s events.",
            summary.checkpoint.size,
        ) % {"size": summary.checkpoint.size}
        recorded = _("Recorded in the ledger by %(user)s: event %(hash)s.") % {
            "user": user.get_username(),
            "hash": summary.ledger_event.hash,
        }
        self.stderr.write(f"{exported} {proved} {recorded}")
