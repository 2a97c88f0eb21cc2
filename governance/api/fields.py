"""Strict input fields: each accepts one JSON type and refuses anything the database would distort.

DRF's own fields are lenient (a CharField takes 12, an IntegerField takes "12", a BooleanField
takes "yes"); an integration that sends the wrong type should hear so, not have it guessed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.utils.translation import gettext, ngettext, pgettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from projects.text import validate_single_line
from projects.values import parse_decimal

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# How a decimal is written, published in the schema and checked on input: ASCII digits, no
# leading zeros, an optional fraction, and a minus sign only before a number that is not zero.
# No lookarounds: schemathesis generates examples from it.
DECIMAL_TEXT = re.compile(
    r"^(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$"  # zero or more
    r"|^-(?:[1-9][0-9]*(?:\.[0-9]+)?|0\.[0-9]*[1-9][0-9]*)$"  # less than zero
)
# Longer than any number a column can hold, written any way (leading zeros, exponent …).
MAX_NUMBER_TEXT = 100
INT32_MAX = 2_147_483_647
SMALLINT_MAX = 32_767


def text_problem(value: object, *, max_length: int | None = None) -> str | None:
    """Why `value` is not acceptable text, or None."""
    if not isinstance(value, str):
        # Translators: %(type)s is the JSON type sent ("a number", "null").
        return gettext("Must be a string, not %(type)s.") % {"type": _json_type(value)}
    if "\x00" in value:
        return gettext("Must not contain NUL characters.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return gettext("Must be valid Unicode text (no lone surrogates).")
    if max_length is not None and len(value) > max_length:
        message = ngettext(
            # Translators: %(limit)s and %(count)s are numbers of characters.
            "At most %(limit)s character (got %(count)s).",
            "At most %(limit)s characters (got %(count)s).",
            max_length,
        )
        return message % {"limit": max_length, "count": len(value)}
    return None


def date_problem(value: object) -> tuple[dt.date | None, str | None]:
    if not isinstance(value, str) or not ISO_DATE.match(value):
        return None, gettext("Must be a date written YYYY-MM-DD.")
    try:
        return dt.date.fromisoformat(value), None
    except ValueError:
        # Translators: %(date)s is the date sent, e.g. 2025-02-30.
        return None, gettext("%(date)s is not a calendar date.") % {"date": value}


def integer_problem(value: object, *, min_value: int, max_value: int) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        # Translators: %(type)s is the JSON type sent ("a string", "null").
        return gettext("Must be a whole number, not %(type)s.") % {"type": _json_type(value)}
    if value < min_value or value > max_value:
        return gettext("Must be between %(min)s and %(max)s.") % {"min": min_value, "max": max_value}
    return None


def decimal_or_problem(value: object, *, what: StrOrPromise, max_digits: int, decimal_places: int):
    """(Decimal, None) or (None, reason). Strings and numbers both accepted, floats never arrive.

    A string must be written as DECIMAL_TEXT says; a JSON number (an int, or a Decimal from the
    parser) is taken in its plain positional form, which must say so too (no negative zero).
    """
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        # Translators: %(what)s names the field ("Budget"); %(type)s is the JSON type sent ("null").
        message = gettext("%(what)s must be a number or a numeric string, not %(type)s.")
        return None, message % {"what": what, "type": _json_type(value)}
    if isinstance(value, str) and (len(value) > MAX_NUMBER_TEXT or "\x00" in value):
        # Translators: %(what)s names the field ("Budget").
        return None, gettext("%(what)s is not a number.") % {"what": what}
    try:
        number = parse_decimal(value, what=str(what), max_digits=max_digits, decimal_places=decimal_places)
    except ValueError as error:
        return None, str(error)
    # parse_decimal names what the column cannot hold; the pattern refuses every other spelling.
    text = value if isinstance(value, str) else format(number, "f")
    if not DECIMAL_TEXT.fullmatch(text):
        # Translators: %(what)s names the field ("Budget"); %(sent)s is the text sent, quoted.
        message = gettext(
            "%(what)s must be written in plain ASCII digits, like 12.50 or -3: no spaces, signs other "
            "than a leading minus, exponent, digit separators, leading zeros or negative zero "
            "(got %(sent)s)."
        )
        return None, message % {"what": what, "sent": f"{text!r:.40}"}
    return (number if isinstance(value, str) else Decimal(text)), None


def _json_type(value: object) -> str:
    """What was sent instead, for "Must be a string, not %(type)s."."""
    if value is None:
        return "null"  # the JSON literal
    if isinstance(value, bool):
        return pgettext("JSON type sent", "a boolean")
    if isinstance(value, int | float | Decimal):
        return pgettext("JSON type sent", "a number")
    if isinstance(value, str):
        return pgettext("JSON type sent", "a string")
    if isinstance(value, Mapping):
        return pgettext("JSON type sent", "an object")
    if isinstance(value, list | tuple):
        return pgettext("JSON type sent", "an array")
    return type(value).__name__


class StrictCharField(serializers.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 200)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        problem = text_problem(data, max_length=self.max_length)
        if problem:
            raise serializers.ValidationError(problem)
        return super().to_internal_value(data)


class SingleLineField(StrictCharField):
    """A one-line field (a title, a KPI name): no line breaks or control characters, which would
    reach the subjects and headers of every message about it."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validators", []).append(validate_single_line)
        super().__init__(**kwargs)


class StrictChoiceField(serializers.ChoiceField):
    def to_internal_value(self, data):
        if not isinstance(data, str) or data not in self.choices:
            # Translators: %(choices)s lists the codes accepted (not to be translated).
            message = gettext("Must be one of: %(choices)s.")
            raise serializers.ValidationError(message % {"choices": ", ".join(map(str, self.choices))})
        return data


class StrictIntegerField(serializers.IntegerField):
    min_value: int
    max_value: int

    def __init__(self, *, min_value: int = 0, max_value: int = INT32_MAX, **kwargs):
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)

    def to_internal_value(self, data):
        problem = integer_problem(data, min_value=self.min_value, max_value=self.max_value)
        if problem:
            raise serializers.ValidationError(problem)
        return data


class StrictBooleanField(serializers.BooleanField):
    def to_internal_value(self, data):
        if not isinstance(data, bool):
            raise serializers.ValidationError(gettext("Must be true or false."))
        return data


@extend_schema_field(OpenApiTypes.DATE)
class IsoDateField(serializers.DateField):
    def to_internal_value(self, data):
        value, problem = date_problem(data)
        if problem:
            raise serializers.ValidationError(problem)
        return value


@extend_schema_field({"type": "string", "format": "decimal", "pattern": DECIMAL_TEXT.pattern})
class DecimalValueField(serializers.Field):
    """A decimal sent as a JSON string ("12.50") or number (12.5); checked by parse_decimal."""

    def __init__(self, *, what: StrOrPromise, max_digits: int, decimal_places: int, **kwargs):
        self.what, self.max_digits, self.decimal_places = what, max_digits, decimal_places
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value, problem = decimal_or_problem(
            data, what=self.what, max_digits=self.max_digits, decimal_places=self.decimal_places
        )
        if problem:
            raise serializers.ValidationError(problem)
        return value

    def to_representation(self, value):
        # In the schema's form: positional, and zero without a sign, however it was stored.
        if isinstance(value, Decimal):
            return format(abs(value) if value.is_zero() else value, "f")
        return str(value)


class UsernameField(StrictCharField):
    """An active user, named by username."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 150)
        super().__init__(**kwargs)

    def run_validation(self, data=serializers.empty):
        # The text checks and length validators apply to the username sent, not to the user found.
        username = super().run_validation(data)
        if not isinstance(username, str):
            return username  # null, or the default when the field was left out
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            # Translators: %(username)s is the username sent, quoted.
            message = gettext("No active user is called %(username)s.")
            raise serializers.ValidationError(message % {"username": repr(username)})
        return user

    def to_representation(self, value):
        return value.get_username()


# The description is also the schema's for every request body built on this class that says
# nothing of its own (as the docstring it was, the schema has always shown it there).
@extend_schema_serializer(
    description=_(
        "Refuses keys it does not know, and says which are read-only.\n\n"
        "`read_only_reasons` names fields clients may see elsewhere (a computed statistic, the stage)\n"
        "and why they cannot be sent."
    )
)
class StrictSerializer(serializers.Serializer):
    read_only_reasons: dict[str, StrOrPromise] = {}

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            errors = {}
            for key in data:
                field = self.fields.get(key)
                if field is not None and not field.read_only:
                    continue
                if key in self.read_only_reasons:
                    # Translators: %(reason)s says why the field cannot be sent ("an initiative's stage moves …").
                    message = gettext("Read-only: %(reason)s") % {"reason": self.read_only_reasons[key]}
                    errors[str(key)] = [message]
                elif field is not None:
                    errors[str(key)] = [gettext("Read-only.")]
                else:
                    errors[str(key)[:100]] = [gettext("Unknown field.")]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)
