"""What ValueGate's management commands share: their help in the reader's language."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils.functional import Promise


class TranslatedCommand(BaseCommand):
    """A command whose `help` is a lazy text (gettext_lazy), said in the language active when its
    parser is made: argparse formats the help with str operations a lazy text does not support."""

    help: str | Promise = ""  # type: ignore[assignment]  # BaseCommand declares a str; see create_parser

    def create_parser(self, prog_name, subcommand, **kwargs):
        self.help = str(self.help)
        return super().create_parser(prog_name, subcommand, **kwargs)
