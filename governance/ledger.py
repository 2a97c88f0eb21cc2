"""The decision ledger: an append-only SHA-256 hash chain.

Written by hand because no maintained Django library gives a gapless, fork-free hash chain whose
encoding is identical on SQLite and PostgreSQL and verifiable without the application.

Each event's hash is SHA-256 over the canonical JSON (governance/canonical.py) of
{seq, recorded_at, actor, action, initiative, payload, prev_hash}; the first event's prev_hash is
64 zeros. Appends lock the single LedgerHead row, so concurrent appends queue up: the sequence
stays gapless and every event has exactly one successor.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction
from django.utils import timezone

from governance.canonical import canonical_json, sha256_hex
from governance.models import LedgerEvent, LedgerHead

GENESIS_HASH = "0" * 64


def event_hash(
    *, seq: int, recorded_at, actor: str, action: str, initiative: int | None, payload: Any, prev_hash: str
) -> str:
    return sha256_hex(
        {
            "seq": seq,
            "recorded_at": recorded_at,
            "actor": actor,
            "action": action,
            "initiative": initiative,
            "payload": payload,
            "prev_hash": prev_hash,
        }
    )


def ledger_append(*, actor, action: str, payload: dict[str, Any], initiative=None) -> LedgerEvent:
    """Append one event to the chain. Must run inside the caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Ledger events are appended inside the decision's transaction.")
    # The head row may be missing on a freshly flushed database; creating it is idempotent.
    LedgerHead.objects.bulk_create([LedgerHead(id=1, seq=0, hash=GENESIS_HASH)], ignore_conflicts=True)
    head = LedgerHead.objects.select_for_update().get(id=1)

    # Round-trip the payload through canonical JSON once, so what is stored is what is hashed.
    payload_text = canonical_json(payload)
    payload_value = json.loads(payload_text)
    recorded_at = timezone.now()
    actor_name = actor.get_username() if actor is not None else "system"
    initiative_id = initiative.pk if initiative is not None else None
    seq = head.seq + 1
    digest = event_hash(
        seq=seq,
        recorded_at=recorded_at,
        actor=actor_name,
        action=action,
        initiative=initiative_id,
        payload=payload_value,
        prev_hash=head.hash,
    )
    event = LedgerEvent.objects.create(
        seq=seq,
        recorded_at=recorded_at,
        actor=actor,
        actor_name=actor_name,
        action=action,
        initiative_id=initiative_id,
        payload=payload_text,
        prev_hash=head.hash,
        hash=digest,
    )
    LedgerHead.objects.filter(id=1).update(seq=seq, hash=digest)
    return event


def recompute_hash(event: LedgerEvent) -> str:
    return event_hash(
        seq=event.seq,
        recorded_at=event.recorded_at,
        actor=event.actor_name,
        action=event.action,
        initiative=event.initiative_id,
        payload=json.loads(event.payload),
        prev_hash=event.prev_hash,
    )


class ChainBroken(Exception):
    def __init__(self, seq: int, problem: str):
        super().__init__(f"Event #{seq}: {problem}")
        self.seq = seq
        self.problem = problem


def verify_chain(events) -> tuple[int, str]:
    """Walk events in sequence order; return (count, head hash) or raise ChainBroken at the first fault."""
    expected_seq, prev_hash, count = 1, GENESIS_HASH, 0
    for event in events:
        if event.seq != expected_seq:
            raise ChainBroken(expected_seq, f"missing; the next event found is #{event.seq}")
        if event.prev_hash != prev_hash:
            raise ChainBroken(event.seq, "its previous hash does not match the event before it")
        if recompute_hash(event) != event.hash:
            raise ChainBroken(event.seq, "its content does not match its hash (edited)")
        prev_hash, expected_seq, count = event.hash, expected_seq + 1, count + 1
    return count, prev_hash
