"""Appending to the decision ledger: signed events, written by the decision, sequenced after it.

Written by hand because no maintained Django library gives a signed, verifiable log whose
encoding is identical on SQLite and PostgreSQL and checkable without the application.

A decision's transaction inserts its events and nothing else: each gets its time, a random
nonce, its leaf hash (governance/ledger/content.py) and an Ed25519 signature by the
application's key, which never enters the database. No row is locked, so decisions about
different initiatives never queue on one another. The sequencer (governance/ledger/sequencer.py)
then gives the committed events their sequence numbers and adds them to the Merkle tree: right
after the commit, in the same process (`VALUEGATE_LEDGER_SEALING = "after_commit"`, PostgreSQL's
default), inside the decision's own transaction (`"inline"`, SQLite's default: SQLite has one
writer at a time anyway), or in the one `manage.py ledger_sequencer` process, which seals in
batches what every process committed (`"sequencer"`: the most decisions per second). The worker
and `governance_tick` seal whatever a crash left behind.
"""

from __future__ import annotations

import functools
import json
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from governance.ledger import receipts
from governance.ledger.canonical import canonical_json, utc_text
from governance.ledger.content import GENESIS_HASH, sign_event
from governance.ledger.events import LedgerEventType, check_event
from governance.ledger.models import LedgerEvent
from governance.ledger.sequencer import seal_after_commit, seal_pending
from governance.ledger.signing import ledger_signing_key

__all__ = ["GENESIS_HASH", "ledger_append", "ledger_batch", "ledger_batched", "sealing_mode"]


@dataclass(frozen=True)
class _Pending:
    actor: Any
    actor_name: str
    action: str
    initiative_id: int | None
    payload_text: str


# The appends of the innermost ledger_batch() block, in order; None outside any batch.
_batch: ContextVar[list[_Pending] | None] = ContextVar("ledger_batch", default=None)


def ledger_append(
    *, actor, action: LedgerEventType | str, payload: dict[str, Any], initiative=None
) -> LedgerEvent | None:
    """Append one event to the ledger. Must run inside the caller's transaction.

    `action` is an event type of the catalogue (governance/ledger/events.py); an action it does
    not declare (UnknownLedgerEvent) or a payload that does not match the action's schema
    (PayloadMismatch) is refused before anything is written, batch or not.

    Inside a ledger_batch() block the event is written, in order, when the block ends (and None
    is returned); elsewhere it is written now and returned, signed, its seq set once sequenced.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Ledger events are appended inside the decision's transaction.")
    # Round-trip the payload through canonical JSON once, so what is stored is what is signed (and
    # a payload that cannot be encoded is refused where it was made, batch or not). The schema is
    # checked on that stored form, which is what every reader of the ledger gets back.
    payload_text = canonical_json(payload)
    event_type = check_event(action, json.loads(payload_text))
    pending = _Pending(
        actor=actor,
        actor_name=actor.get_username() if actor is not None else "system",
        action=event_type.code,
        initiative_id=initiative.pk if initiative is not None else None,
        payload_text=payload_text,
    )
    batch = _batch.get()
    if batch is not None:
        batch.append(pending)
        return None
    (event,) = _write([pending])
    return event


@contextmanager
def ledger_batch() -> Iterator[None]:
    """Write the events appended inside in one go when the block ends, in one statement.

    Use it around a whole service body inside its transaction, with no savepoint inside that
    is rolled back and recovered from (events appended in it would still be written). If the
    block raises, its events are dropped with the transaction. A nested block joins the outer one.
    """
    if _batch.get() is not None:
        yield
        return
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Ledger events are appended inside the decision's transaction.")
    pending: list[_Pending] = []
    token = _batch.set(pending)
    try:
        yield
    finally:
        _batch.reset(token)
    if pending:
        _write(pending)


def ledger_batched(service: Callable) -> Callable:
    """Run `service` in a ledger_batch() (decorate below @transaction.atomic)."""

    @functools.wraps(service)
    def batched(*args, **kwargs):
        with ledger_batch():
            return service(*args, **kwargs)

    return batched


SEALING_MODES = ("inline", "after_commit", "sequencer")


def sealing_mode(connection=None) -> str:
    """When events are sealed: "inline", "after_commit" or "sequencer" (VALUEGATE_LEDGER_SEALING;
    "auto" picks inline on SQLite, after commit on PostgreSQL)."""
    mode = getattr(settings, "VALUEGATE_LEDGER_SEALING", "auto")
    if mode == "auto":
        vendor = (connection or transaction.get_connection()).vendor
        return "inline" if vendor == "sqlite" else "after_commit"
    if mode not in SEALING_MODES:
        raise ValueError(f"VALUEGATE_LEDGER_SEALING is auto, {', '.join(SEALING_MODES)}, not {mode!r}.")
    return mode


def _write(pending: list[_Pending]) -> list[LedgerEvent]:
    """Insert `pending` as signed events, then have them sequenced (inline or after commit)."""
    key = ledger_signing_key()
    recorded_at = timezone.now()
    at = utc_text(recorded_at)
    events = []
    for item in pending:
        nonce = secrets.token_hex(16)
        digest, signature = sign_event(
            key,
            recorded_at=at,
            actor_id=item.actor.pk if item.actor is not None else None,
            actor=item.actor_name,
            action=item.action,
            initiative=item.initiative_id,
            nonce=nonce,
            payload=item.payload_text,
        )
        events.append(
            LedgerEvent(
                recorded_at=recorded_at,
                actor=item.actor,
                actor_name=item.actor_name,
                action=item.action,
                initiative_id=item.initiative_id,
                payload=item.payload_text,
                nonce=nonce,
                key_id=key.key_id,
                signature=signature,
                hash=digest,
            )
        )
    if len(events) == 1:
        events[0].save(force_insert=True)
    else:
        LedgerEvent.objects.bulk_create(events)
    receipts.collect(events)
    mode = sealing_mode()
    if mode == "inline":
        sealed = seal_pending()
        for event in events:
            event.seq = sealed.seq_of.get(event.hash)
    elif mode == "after_commit":
        transaction.on_commit(functools.partial(seal_after_commit, [e.pk for e in events]), robust=True)
    # "sequencer": the `ledger_sequencer` process seals them within its interval.
    return events
