"""Parsing of numbers people and integrations send: refuse anything the database would distort."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from projects.models import KPI_DECIMAL_PLACES, KPI_MAX_DIGITS


def parse_decimal(
    raw: object,
    *,
    what: str,
    max_digits: int = KPI_MAX_DIGITS,
    decimal_places: int = KPI_DECIMAL_PLACES,
) -> Decimal:
    """A finite decimal that fits the column exactly, or ValueError with a reason (a sentence for
    people, in the active language; `what` names the field as the sentence begins, e.g. "Target")."""
    if isinstance(raw, bool) or raw is None:
        # Translators: what is the field's name, e.g. "Target" or "Amount".
        raise ValueError(_("%(what)s must be a number.") % {"what": what})
    if isinstance(raw, float):
        raw = repr(raw)  # keeps nan/inf recognisable and the digits the sender meant
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        # Translators: what is the field's name; text is what was sent, quoted, e.g. 'twelve'.
        message = _("%(what)s must be a number, not %(text)s.")
        raise ValueError(message % {"what": what, "text": repr(str(raw)[:40])}) from None
    if not value.is_finite():
        raise ValueError(_not_finite(what, value))
    sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):  # a letter ('n', 'N', 'F') only for the values refused above
        raise ValueError(_not_finite(what, value))
    places = max(0, -exponent)
    if places > decimal_places:
        # Translators: what is the field's name; places and kept are numbers (kept is at least 0).
        message = _("%(what)s has %(places)s decimal places; at most %(kept)s are kept.")
        raise ValueError(message % {"what": what, "places": places, "kept": decimal_places})
    if digits == (0,):
        return value  # zero, however it was written
    whole_digits = max(len(digits) + exponent, 0) if exponent < 0 else len(digits) + exponent
    if whole_digits > max_digits - decimal_places:
        # Translators: what is the field's name; digits is a number, e.g. 14.
        message = _("%(what)s is too large: at most %(digits)s digits before the point.")
        raise ValueError(message % {"what": what, "digits": max_digits - decimal_places})
    return value


def _not_finite(what: str, value: Decimal) -> str:
    # Translators: what is the field's name; value is what was sent: NaN, Infinity or -Infinity.
    return _("%(what)s must be a finite number, not %(value)s.") % {"what": what, "value": value}
