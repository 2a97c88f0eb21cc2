"""Gate policies: never edited, superseded by a new version."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from governance.access.matrix import Operation, require
from governance.errors import InvalidInput
from governance.ledger.chain import ledger_append
from governance.ledger.events import POLICY_VERSION_CREATED
from governance.reviews.models import GatePolicy
from projects.vocabulary import Gate

# Who made a version and when are recorded by the service; the gate and version number identify it.
_BOOKKEEPING = frozenset({"id", "gate", "version", "created_by", "created_at"})


def policy_rule_fields() -> tuple[str, ...]:
    """The fields of a policy that say what its gate requires."""
    return tuple(
        f.name for f in GatePolicy._meta.concrete_fields if f.name not in _BOOKKEEPING and not f.auto_created
    )


@transaction.atomic
def policy_version_create(*, actor, gate: str, now: dt.datetime | None = None, **fields) -> GatePolicy:
    """Save the gate's rules as a new version (the latest + 1); every earlier version stays as it is.

    Fields not given are carried over from the latest version. Reviews already open keep the
    version they were opened under; reviews opened from now on use this one.
    Governance admins and the chair. Ledger: policy.version_created.
    """
    # Translators: completes the refusal "Only <who> may …."
    require(actor, Operation.EDIT_POLICY, doing=pgettext("refusal", "change gate policies"))
    if gate not in Gate.values:
        # Translators: %(gate)s is the gate code that was sent, quoted; %(gates)s lists the gate codes.
        message = _("Unknown gate %(gate)s; gates are %(gates)s.")
        raise InvalidInput(message % {"gate": repr(gate), "gates": ", ".join(Gate.values)})
    rule_fields = policy_rule_fields()
    unknown = sorted(set(fields) - set(rule_fields))
    if unknown:
        message = ngettext(
            # Translators: %(fields)s lists the names of the fields sent, as the API spells them.
            "This is not a rule of a gate policy: %(fields)s.",
            "These are not rules of a gate policy: %(fields)s.",
            len(unknown),
        )
        raise InvalidInput(message % {"fields": ", ".join(unknown)})

    # Locking the gate's versions serialises two admins saving at once: the second one numbers
    # its version after the first instead of colliding with it.
    versions = list(GatePolicy.objects.select_for_update(of=("self",)).filter(gate=gate).order_by("-version"))
    latest = versions[0] if versions else None
    rules = {name: getattr(latest, name) for name in rule_fields} if latest else {}
    rules.update(fields)
    policy = GatePolicy(
        gate=gate,
        version=(latest.version + 1) if latest else 1,
        created_by=actor,
        created_at=now or timezone.now(),
        **rules,
    )
    try:
        policy.full_clean()
    except ValidationError as error:
        raise InvalidInput(_describe(error)) from None
    policy.save()
    ledger_append(
        actor=actor,
        action=POLICY_VERSION_CREATED,
        payload={
            "gate": gate,
            "version": policy.version,
            "previous_version": latest.version if latest else None,
            "rules": {name: getattr(policy, name) for name in rule_fields},
            "changed": sorted(
                name
                for name in rule_fields
                if latest is None or getattr(latest, name) != getattr(policy, name)
            ),
        },
    )
    return policy


def _field_label(name: str) -> str:
    """A policy field as a refusal names it: its verbose name, capitalized ("Min measurements")."""
    try:
        field = GatePolicy._meta.get_field(name)
    except FieldDoesNotExist:  # NON_FIELD_ERRORS and the like
        field = None
    # The automatic id and reverse relations keep the label made from their name.
    verbose_name = None if field is None or field.auto_created else getattr(field, "verbose_name", None)
    return capfirst(str(verbose_name)) if verbose_name else name.replace("_", " ").capitalize()


def _describe(error: ValidationError) -> str:
    if hasattr(error, "message_dict"):
        return " ".join(
            # Translators: %(field)s names a field of a gate policy; %(problems)s says what is wrong with it.
            _("%(field)s: %(problems)s") % {"field": _field_label(field), "problems": " ".join(messages)}
            for field, messages in error.message_dict.items()
        )
    return " ".join(error.messages)
