"""Print the permission matrix: who may do what, as declared in governance/access/matrix.py."""

from __future__ import annotations

from django.utils.translation import gettext, gettext_lazy, pgettext_lazy

from governance.access.matrix import MATRIX, Role, Scope
from governance.commands import TranslatedCommand

# Translators: the cells of the permission matrix, as the command's help explains them.
CELL = {
    Scope.ANY: pgettext_lazy("permission scope", "any"),
    Scope.OWN: pgettext_lazy("permission scope", "own"),
    Scope.OWN_FUNCTION: pgettext_lazy("permission scope", "own function"),
}


def matrix_table() -> str:
    """The matrix as a Markdown table, in the active language: one row per operation, one column
    per role."""
    # Translators: the first column's heading of the permission matrix.
    header = [gettext("operation"), *(role.label for role in Role)]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for operation, grants in MATRIX.items():
        cells = [str(CELL[grants[role]]) if role in grants else "—" for role in Role]
        lines.append("| " + " | ".join([operation.label, *cells]) + " |")
    return "\n".join(lines)


class Command(TranslatedCommand):
    help = gettext_lazy(
        "Print who may do what (roles × operations): 'any' on every target, 'own' on their own "
        "initiative, condition or token, 'own function' for the committee function they sit for."
    )

    def handle(self, *args, **options) -> None:
        self.stdout.write(matrix_table())
