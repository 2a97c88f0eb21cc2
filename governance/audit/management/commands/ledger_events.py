"""Print the catalogue of ledger events: each action, its label and its payload, as declared in
governance/ledger/events.py."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from governance.commands import TranslatedCommand
from governance.ledger.events import CATALOGUE, describe


def catalogue_table() -> str:
    """The catalogue as a Markdown table: one row per action, in declaration order."""
    lines = ["| action | label | payload |", "| --- | --- | --- |"]
    for code, event in CATALOGUE.items():
        declared = event.payload.keys() if event.payload is not None else []
        keys = ", ".join(
            f"`{key}{'' if required else '?'}` {describe(kind)}" for key, kind, required in declared
        )
        lines.append(f"| `{code}` | {event.label} | {keys.replace('|', '&#124;')} |")
    return "\n".join(lines)


class Command(TranslatedCommand):
    help = gettext_lazy(
        "Print every ledger action with its label and payload keys (`?`: a key some events of the "
        "action carry); decimals, dates and datetimes are stored as text."
    )

    def handle(self, *args, **options) -> None:
        self.stdout.write(catalogue_table())
