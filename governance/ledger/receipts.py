"""Receipts: whoever makes a decision gets the signed receipt of each ledger event it wrote.

A receipt (hash, time, key id, signature, action) proves, with the ledger's public key alone,
that the ledger recorded the event at that time; `verify_ledger --receipt` and
`tools/verify_export.py --receipt` then catch its removal. Every request collects the events it
wrote and, once its response is ready, hands the receipts of those still in the ledger (not those
of a transaction rolled back) to the person who made it: a message on the admin's next page, a
`Ledger-Receipts` header (JSON) on an API response.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextvars import ContextVar

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from governance.ledger.models import LedgerEvent

RECEIPTS_HEADER = "Ledger-Receipts"

# The events written during the current request, in order; None outside a request.
_committed: ContextVar[list[LedgerEvent] | None] = ContextVar("ledger_receipts", default=None)


def collect(events: list[LedgerEvent]) -> None:
    """Called by the ledger when it writes `events`: keep them for the request's receipts."""
    collected = _committed.get()
    if collected is not None:
        collected.extend(events)


def _kept(events: list[LedgerEvent]) -> list[LedgerEvent]:
    """Those of `events` still in the ledger: a rolled-back transaction took its own with it."""
    stored = set(LedgerEvent.objects.filter(pk__in=[e.pk for e in events]).values_list("pk", flat=True))
    return [event for event in events if event.pk in stored]


def receipt_text(receipt: dict[str, str]) -> str:
    return _(
        # Translators: %(action)s is a ledger action code, e.g. signoff.recorded; %(at)s a time (UTC).
        "%(action)s: event %(hash)s recorded at %(at)s, signed by key %(key_id)s (signature %(signature)s)"
    ) % {
        "action": receipt["action"],
        "hash": receipt["hash"],
        "at": receipt["recorded_at"],
        "key_id": receipt["key_id"],
        "signature": receipt["signature"],
    }


class ReceiptsMiddleware:
    """Hand the receipts of what a request committed to its user."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        collected: list[LedgerEvent] = []
        token = _committed.set(collected)
        try:
            response = self.get_response(request)
        finally:
            _committed.reset(token)
        if not collected or response.status_code >= 400:
            return response
        receipts = [event.receipt() for event in _kept(collected)]
        if not receipts:
            return response
        if request.path.startswith("/api/"):
            response[RECEIPTS_HEADER] = json.dumps(receipts, separators=(",", ":"))
        elif hasattr(request, "_messages"):
            messages.info(
                request,
                # Translators: %(receipts)s lists the receipts, separated by semicolons.
                ngettext("Ledger receipt: %(receipts)s.", "Ledger receipts: %(receipts)s.", len(receipts))
                % {"receipts": "; ".join(receipt_text(r) for r in receipts)},
            )
        return response
