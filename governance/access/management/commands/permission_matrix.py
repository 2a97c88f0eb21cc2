"""Print the permission matrix: who may do what, as declared in governance/access/matrix.py."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from governance.access.matrix import MATRIX, Role, Scope

CELL = {Scope.ANY: "any", Scope.OWN: "own", Scope.OWN_FUNCTION: "own function"}


def matrix_table() -> str:
    """The matrix as a Markdown table: one row per operation, one column per role."""
    header = ["operation", *(role.value for role in Role)]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for operation, grants in MATRIX.items():
        cells = [CELL[grants[role]] if role in grants else "—" for role in Role]
        lines.append("| " + " | ".join([operation.value, *cells]) + " |")
    return "\n".join(lines)


class Command(BaseCommand):
    help = (
        "Print who may do what (roles × operations): 'any' on every target, 'own' on their own "
        "initiative, condition or token, 'own function' for the committee function they sit for."
    )

    def handle(self, *args, **options) -> None:
        self.stdout.write(matrix_table())
