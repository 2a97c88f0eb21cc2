"""Canonical JSON: the byte form the ledger hashes and sign-off digests cover.

Written by hand because the encoding must be identical on SQLite and PostgreSQL and reproducible
without Django (tools/verify_export.py mirrors it with the standard library only):
- keys sorted, no whitespace, UTF-8, text normalised to NFC;
- decimals as strings (their exact digits), integers as JSON numbers, floats refused;
- datetimes in UTC as 'YYYY-MM-DDTHH:MM:SS.ffffffZ', dates as 'YYYY-MM-DD'.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import unicodedata
from decimal import Decimal
from typing import Any


def utc_text(value: dt.datetime) -> str:
    """An aware instant as the ledger writes it: UTC, 'YYYY-MM-DDTHH:MM:SS.ffffffZ'."""
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def normalise(value: Any) -> Any:
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"Non-finite decimal cannot be recorded: {value}")
        return str(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("Naive datetime cannot be recorded; give it a time zone.")
        try:
            return utc_text(value)
        except OverflowError:
            raise ValueError(f"{value} cannot be expressed in UTC.") from None
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            text = normalise(str(key))
            if text in result:
                # Two keys that read the same would silently drop one value from what is hashed.
                raise ValueError(f"Two keys read as {text!r} once written as text.")
            result[text] = normalise(item)
        return result
    if isinstance(value, list | tuple):
        return [normalise(v) for v in value]
    if isinstance(value, float):
        raise TypeError("Floats are not recorded; use Decimal so every database gives the same digits.")
    raise TypeError(f"Cannot encode {type(value).__name__} canonically.")


def canonical_json(value: Any) -> str:
    return json.dumps(
        normalise(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def sha256_hex(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()
