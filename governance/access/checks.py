"""Helpers every service uses: locking, ownership checks."""

from __future__ import annotations

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from governance.access.matrix import Operation, Principal, require
from governance.errors import InvalidInput, NotAllowed, WrongStage
from projects.models import Initiative
from projects.text import control_characters
from projects.vocabulary import TERMINAL_STAGES, Stage

# Why a finished initiative refuses a change, by its stage: a whole sentence each.
_TERMINAL = {
    Stage.RETIRED: _("The initiative is retired; it can no longer change."),
    Stage.REJECTED: _("The initiative is rejected; it can no longer change."),
}
# The one-line fields services check, as a refusal names them (others: the field's name, capitalized).
_SINGLE_LINE_LABELS = {
    "title": _("Title"),
    "department": _("Department"),
    "name": _("Name"),
    "unit": _("Unit"),
    "data_source": _("Data source"),
    "success_definition": _("Success definition"),
    "description": _("Description"),
}


def lock_initiative(initiative: Initiative | int, **annotations) -> Initiative:
    """Lock the initiative's row and return it fresh from the database.

    On PostgreSQL the row lock makes a concurrent service wait, then re-read the stage it left.
    SQLite has no row locks; there the IMMEDIATE transaction mode (config/settings.py) already
    holds the database's write lock since the transaction began. `annotations` are read with the
    row (on PostgreSQL, subqueries among them see the database as it was before the lock waited).
    """
    pk = initiative.pk if isinstance(initiative, Initiative) else initiative
    # The owner comes along (most services notify or check them); only the initiative's row is locked.
    locked = Initiative.objects.select_for_update(of=("self",)).select_related("owner")
    return (locked.annotate(**annotations) if annotations else locked).get(pk=pk)


def require_active(actor) -> None:
    if actor is None or not actor.is_active:
        raise NotAllowed(gettext("An active user account is required."))


def require_on(
    actor, operation: Operation, initiative: Initiative, *, action: str | None = None
) -> Principal:
    """Refuse unless the permission matrix grants `operation` on this initiative to `actor`."""
    return require(
        actor,
        operation,
        owner_id=initiative.owner_id,
        doing=action,
        target=f"initiative #{initiative.pk} {initiative.title}",
    )


def require_not_terminal(initiative: Initiative) -> None:
    if initiative.stage in TERMINAL_STAGES:
        message = _TERMINAL.get(initiative.stage)  # every terminal stage is listed there
        raise WrongStage(
            str(message) if message else f"The initiative is {initiative.stage}; it can no longer change."
        )


def lock_live_initiative_for(
    actor, initiative: Initiative | int, *, operation: Operation, action: str
) -> Initiative:
    """The initiative locked, once the matrix grants `operation` on it to `actor` and it is not
    retired or rejected: how every service that records the lead's evidence begins."""
    initiative = lock_initiative(initiative)
    require_on(actor, operation, initiative, action=action)
    require_not_terminal(initiative)
    return initiative


def require_single_line(**fields: str | None) -> None:
    """Refuse a one-line field (a title, a KPI name) holding line breaks or control characters.

    They would reach the subjects and headers of every message about the initiative; the refusal
    names the field and the characters, and nothing is saved.
    """
    for name, value in fields.items():
        found = control_characters(value or "")
        if found:
            label = _SINGLE_LINE_LABELS.get(name) or name.replace("_", " ").capitalize()
            # Translators: %(field)s is the field ("Title"); %(characters)s lists the characters found.
            message = gettext(
                "%(field)s must be a single line: remove the line breaks or control characters "
                "(%(characters)s)."
            )
            raise InvalidInput(message % {"field": label, "characters": ", ".join(found)})
