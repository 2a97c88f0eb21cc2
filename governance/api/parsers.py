"""Request body parsers that refuse what the database would distort or the server could choke on.

- JSON: UTF-8 only; numbers with a fraction or exponent become Decimal (never float, so 1e400
  is "too large", not infinity, and 0.1 keeps its digits); NaN/Infinity literals and duplicate
  keys are refused; nesting too deep for the parser is a 400, not a crash.
- Sizes: a JSON body over DATA_UPLOAD_MAX_MEMORY_SIZE and a multipart body over
  VALUEGATE_API_MAX_UPLOAD_BYTES are refused with 413 before they are read.
- Multipart: uploaded files keep the name they were sent with, for the evidence checks.
"""

from __future__ import annotations

import json
from decimal import Decimal

from django.conf import settings
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext, ngettext
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from governance.api.exceptions import PayloadTooLarge
from governance.value.evidence_checks import NameKeepingParser


def _declared_length(parser_context) -> int:
    request = (parser_context or {}).get("request")
    if request is None:
        return 0
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except (TypeError, ValueError):
        return 0


def _refuse_constant(name: str):
    # Translators: %(name)s is a literal of the request body (NaN, Infinity); the sentence goes on
    # "Malformed JSON: %(error)s."
    raise ValueError(gettext("%(name)s is not a number JSON allows; send a finite number") % {"name": name})


def _object_without_duplicates(pairs: list[tuple[str, object]]) -> dict:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                # Translators: %(key)s is a key of the request body, quoted; the sentence goes on
                # "Malformed JSON: %(error)s."
                message = gettext("the key %(key)s appears twice in one object")
                raise ValueError(message % {"key": repr(key)})
            seen.add(key)
    return result


def _larger_than(limit: int, *, upload: bool) -> str:
    if upload:
        return ngettext(
            # Translators: %(limit)s is a number of bytes, written as digits only.
            "The upload is larger than %(limit)s byte.",
            "The upload is larger than %(limit)s bytes.",
            limit,
        ) % {"limit": limit}
    return ngettext(
        # Translators: %(limit)s is a number of bytes, written as digits only.
        "The request body is larger than %(limit)s byte.",
        "The request body is larger than %(limit)s bytes.",
        limit,
    ) % {"limit": limit}


class StrictJSONParser(parsers.BaseParser):
    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if _declared_length(parser_context) > limit:
            raise PayloadTooLarge(_larger_than(limit, upload=False))
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise PayloadTooLarge(_larger_than(limit, upload=False))
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ParseError(gettext("The request body is not UTF-8 text.")) from None
        try:
            return json.loads(
                text,
                parse_float=Decimal,
                parse_constant=_refuse_constant,
                object_pairs_hook=_object_without_duplicates,
            )
        except RecursionError:
            raise ParseError(gettext("The JSON is nested too deeply.")) from None
        except ValueError as error:
            # Translators: %(error)s is what the JSON parser found wrong (often in English).
            raise ParseError(gettext("Malformed JSON: %(error)s.") % {"error": error}) from None


class BoundedMultiPartParser(parsers.BaseParser):
    """Multipart uploads parsed as the admin's are: each file keeps the name it was sent with, so
    that the evidence checks refuse a forged name instead of seeing Django's rewritten one."""

    media_type = "multipart/form-data"

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.VALUEGATE_API_MAX_UPLOAD_BYTES
        if _declared_length(parser_context) > limit:
            raise PayloadTooLarge(_larger_than(limit, upload=True))
        request = parser_context["request"]
        meta = request.META.copy()
        meta["CONTENT_TYPE"] = media_type
        # The REST framework's stubs do not declare its parsers' get_encoding.
        encoding = parsers.get_encoding(parser_context)  # type: ignore[attr-defined]
        parser = NameKeepingParser(meta, stream, request.upload_handlers, encoding)
        try:
            data, files = parser.parse()
        except MultiPartParserError as error:
            # Translators: %(error)s is what Django's multipart parser found wrong (in English).
            raise ParseError(gettext("Multipart form parse error - %(error)s") % {"error": error}) from None
        return parsers.DataAndFiles(data, files)
