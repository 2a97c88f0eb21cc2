"""The decision ledger: an append-only SHA-256 hash chain.

Written by hand because no maintained Django library gives a gapless, fork-free hash chain whose
encoding is identical on SQLite and PostgreSQL and verifiable without the application.

Each event's hash is SHA-256 over the canonical JSON (governance/ledger/canonical.py) of
{seq, recorded_at, actor, action, initiative, payload, prev_hash}; the first event's prev_hash is
64 zeros. Appends lock the single LedgerHead row, so concurrent appends queue up: the sequence
stays gapless and every event has exactly one successor. A service can hold its appends back to
the end of its body (ledger_batch) so that the lock, which lasts until commit, is taken late.

Verification (verify_ledger) streams the table in sequence order, a chunk at a time, so its memory
stays constant whatever the ledger's size. It rebuilds each event's canonical bytes from the stored
columns (the payload column already holds canonical JSON), hashes them, and checks each link. With
`strict`, it also proves every stored payload is in canonical form, as tools/verify_export.py does.
An anchor (ledger_anchor: the head's seq, hash and time kept outside the database) reveals what a
self-consistent chain cannot: a cut tail, or a chain recomputed after an edit.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import connections, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from governance.ledger.canonical import canonical_json, sha256_hex, utc_text
from governance.ledger.events import LedgerEventType, check_event
from governance.ledger.models import LedgerEvent, LedgerHead

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


@dataclass(frozen=True)
class _Pending:
    actor: Any
    actor_name: str
    action: str
    initiative_id: int | None
    payload_text: str
    payload_value: Any


# The appends of the innermost ledger_batch() block, in order; None outside any batch.
_batch: ContextVar[list[_Pending] | None] = ContextVar("ledger_batch", default=None)


def ledger_append(
    *, actor, action: LedgerEventType | str, payload: dict[str, Any], initiative=None
) -> LedgerEvent | None:
    """Append one event to the chain. Must run inside the caller's transaction.

    `action` is an event type of the catalogue (governance/ledger/events.py); an action it does
    not declare (UnknownLedgerEvent) or a payload that does not match the action's schema
    (PayloadMismatch) is refused before anything is written, batch or not.

    Inside a ledger_batch() block the event is written, in order, when the block ends (and None
    is returned); elsewhere it is written now and returned.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Ledger events are appended inside the decision's transaction.")
    # Round-trip the payload through canonical JSON once, so what is stored is what is hashed (and
    # a payload that cannot be encoded is refused where it was made, batch or not). The schema is
    # checked on that stored form, which is what every reader of the ledger gets back.
    payload_text = canonical_json(payload)
    payload_value = json.loads(payload_text)
    event_type = check_event(action, payload_value)
    pending = _Pending(
        actor=actor,
        actor_name=actor.get_username() if actor is not None else "system",
        action=event_type.code,
        initiative_id=initiative.pk if initiative is not None else None,
        payload_text=payload_text,
        payload_value=payload_value,
    )
    batch = _batch.get()
    if batch is not None:
        batch.append(pending)
        return None
    (event,) = _write([pending])
    return event


@contextmanager
def ledger_batch() -> Iterator[None]:
    """Write the events appended inside in one go when the block ends: the head is locked once,
    the events inserted in one statement, the head moved once.

    Besides saving statements, the head — which every decision of the portfolio queues on until
    its transaction commits — is locked only at the end of the block, after the decision's slow
    part. Use it around a whole service body inside its transaction, with no savepoint inside that
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


def _write(pending: list[_Pending]) -> list[LedgerEvent]:
    """Chain `pending` after the head, under the head's row lock (held until commit)."""
    head = LedgerHead.objects.select_for_update(of=("self",)).filter(id=1).first()
    if head is None:
        # A freshly flushed database has no head row yet; creating it is idempotent.
        LedgerHead.objects.bulk_create([LedgerHead(id=1, seq=0, hash=GENESIS_HASH)], ignore_conflicts=True)
        head = LedgerHead.objects.select_for_update(of=("self",)).get(id=1)
    # Timed once the head is held, so that times never run backwards along the sequence.
    recorded_at = timezone.now()
    seq, prev_hash = head.seq, head.hash
    events = []
    for item in pending:
        seq += 1
        digest = event_hash(
            seq=seq,
            recorded_at=recorded_at,
            actor=item.actor_name,
            action=item.action,
            initiative=item.initiative_id,
            payload=item.payload_value,
            prev_hash=prev_hash,
        )
        events.append(
            LedgerEvent(
                seq=seq,
                recorded_at=recorded_at,
                actor=item.actor,
                actor_name=item.actor_name,
                action=item.action,
                initiative_id=item.initiative_id,
                payload=item.payload_text,
                prev_hash=prev_hash,
                hash=digest,
            )
        )
        prev_hash = digest
    if len(events) == 1:
        events[0].save(force_insert=True)
    else:
        LedgerEvent.objects.bulk_create(events)
    LedgerHead.objects.filter(id=1).update(seq=seq, hash=prev_hash)
    return events


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


# Streaming verification ---------------------------------------------------------------------------

# A chain row as verification reads it: (seq, recorded_at as canonical UTC text, actor, action,
# initiative id, payload as stored canonical JSON, prev_hash, hash).
ChainRow = tuple[int, str, str, str, "int | None", str, str, str]

_encode_text = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) writes for a str


def _reject_number(text: str):
    raise ValueError(f"not a canonical number: {text}")


# The canonical encoder and a decoder that refuses what canonical JSON never contains.
_canonical_encoder = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode
_strict_decoder = json.JSONDecoder(parse_float=_reject_number, parse_constant=_reject_number).decode


def is_canonical_payload(text: str) -> bool:
    """True when `text` is exactly the canonical JSON of the value it encodes."""
    try:
        value = _strict_decoder(text)
    except ValueError:
        return False
    return unicodedata.is_normalized("NFC", text) and _canonical_encoder(value) == text


def canonical_event_bytes(
    seq: int, recorded_at: str, actor: str, action: str, initiative: int | None, payload: str, prev_hash: str
) -> bytes:
    """The bytes event_hash covers, assembled from stored columns.

    Equal to canonical_json({...}).encode() for every event ledger_append wrote (its payload column
    holds canonical JSON); `recorded_at` is already the canonical UTC text.
    """
    return (
        f'{{"action":{_encode_text(unicodedata.normalize("NFC", action))}'
        f',"actor":{_encode_text(unicodedata.normalize("NFC", actor))}'
        f',"initiative":{"null" if initiative is None else int(initiative)}'
        f',"payload":{payload}'
        f',"prev_hash":{_encode_text(prev_hash)}'
        f',"recorded_at":{_encode_text(recorded_at)}'
        f',"seq":{int(seq)}}}'
    ).encode()


def _utc_text(value) -> str:
    """Canonical UTC text of a timestamp as the database driver returned it."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:  # SQLite keeps UTC without an offset
            value = value.replace(tzinfo=dt.UTC)
        return utc_text(value)
    text = str(value)
    # Django writes 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC on SQLite; anything else is parsed.
    if len(text) == 26 and text[10] == " ":
        return f"{text[:10]}T{text[11:]}Z"
    if len(text) == 19 and text[10] == " ":
        return f"{text[:10]}T{text[11:]}.000000Z"
    parsed = parse_datetime(text)
    return _utc_text(parsed) if parsed is not None else text


def _chain_select(connection) -> str:
    table = connection.ops.quote_name(LedgerEvent._meta.db_table)
    if connection.vendor == "postgresql":
        recorded_at = "to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
    else:
        # Django stores 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC. Formatting it here, rather than
        # letting the driver parse a datetime per row, keeps verification close to hashing speed.
        recorded_at = (
            "replace(recorded_at, ' ', 'T') || "
            "CASE WHEN length(recorded_at) = 19 THEN '.000000Z' ELSE 'Z' END"
        )
    return (
        f"SELECT seq, {recorded_at}, actor_name, action, initiative_id, payload, prev_hash, hash "
        f"FROM {table} WHERE seq > %s ORDER BY seq LIMIT %s"
    )


def chain_chunks(
    *, after_seq: int = 0, upto_seq: int | None = None, chunk_size: int = 5000, using: str = "default"
) -> Iterator[list[ChainRow]]:
    """Stream the chain in sequence order, `chunk_size` rows at a time, in constant memory.

    Each chunk is its own short query (keyset on the unique seq index), so a long read never holds
    a read lock or a long transaction that would stall appends.
    """
    connection = connections[using]
    sql = _chain_select(connection)
    last = after_seq
    while True:
        with connection.cursor() as cursor:
            cursor.execute(sql, [last, chunk_size])
            rows = cursor.fetchall()
        if upto_seq is not None and rows and rows[-1][0] > upto_seq:
            rows = [row for row in rows if row[0] <= upto_seq]
            if rows:
                yield rows
            return
        if rows:
            yield rows
        if len(rows) < chunk_size:
            return
        last = rows[-1][0]


def chain_rows(**kwargs) -> Iterator[ChainRow]:
    """The rows of chain_chunks, one by one."""
    for rows in chain_chunks(**kwargs):
        yield from rows


@dataclass(frozen=True)
class Anchor:
    """The ledger head at one moment, kept outside the database: {seq, hash, recorded_at}."""

    seq: int
    hash: str
    recorded_at: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "hash": self.hash, "recorded_at": self.recorded_at}

    @classmethod
    def from_dict(cls, data: Any) -> Anchor:
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("seq"), int)
            or isinstance(data.get("seq"), bool)
            or data["seq"] < 0
            or not isinstance(data.get("hash"), str)
            or len(data["hash"]) != 64
        ):
            raise ValueError(
                'An anchor is a JSON object {"seq": <int>, "hash": <64 hex>, "recorded_at": ...}.'
            )
        return cls(seq=data["seq"], hash=data["hash"], recorded_at=data.get("recorded_at"))

    @classmethod
    def load(cls, path: str | Path) -> Anchor:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ValueError(f"Cannot read the anchor {path}: {error}") from None
        return cls.from_dict(data)


def ledger_anchor() -> Anchor:
    """The last event's seq, hash and time (seq 0 and the genesis hash for an empty ledger)."""
    last = LedgerEvent.objects.order_by("-seq").values_list("seq", "hash", "recorded_at").first()
    if last is None:
        return Anchor(seq=0, hash=GENESIS_HASH, recorded_at=None)
    seq, digest, recorded_at = last
    return Anchor(seq=seq, hash=digest, recorded_at=_utc_text(recorded_at))


@dataclass(frozen=True)
class ChainSummary:
    count: int
    head_seq: int
    head_hash: str
    head_recorded_at: str | None


def verify_ledger(
    *,
    anchor: Anchor | None = None,
    strict: bool = False,
    chunk_size: int = 5000,
    progress: Callable[[int, int], None] | None = None,
    progress_every: int = 100_000,
    using: str = "default",
) -> ChainSummary:
    """Recompute the whole chain from the database; raise ChainBroken at the first fault.

    Checks, event by event: the sequence has no gap, each event links to the hash of the one
    before, and each hash covers the event's content (with `strict`: and its payload is canonical).
    Then the ledger head row must agree with the chain's end, and an anchor must still be in the
    chain with the same hash. `progress(done, total)` is called every `progress_every` events.
    """
    total = LedgerEvent.objects.using(using).order_by("-seq").values_list("seq", flat=True).first() or 0
    sha256, normalize, encode_text = hashlib.sha256, unicodedata.normalize, _encode_text
    encoded: dict[str, str] = {}  # actor and action names repeat: encode each once
    expected, prev_hash, count, at = 1, GENESIS_HASH, 0, None
    next_report = progress_every
    checked_anchor = anchor if anchor is not None and anchor.seq > 0 else None
    for rows in chain_chunks(upto_seq=total, chunk_size=chunk_size, using=using):
        for seq, at, actor, action, initiative, payload, prev, digest in rows:
            if seq != expected:
                raise ChainBroken(expected, _missing(expected, seq))
            if prev != prev_hash:
                raise ChainBroken(seq, _broken_link(seq, prev, using))
            # canonical_event_bytes, inlined: prev is the hex digest just checked, `at` is the
            # formatted UTC time, the payload column holds canonical JSON.
            try:
                actor_json = encoded[actor]
            except KeyError:
                actor_json = encoded[actor] = encode_text(normalize("NFC", actor))
            try:
                action_json = encoded[action]
            except KeyError:
                action_json = encoded[action] = encode_text(normalize("NFC", action))
            try:
                data = (
                    f'{{"action":{action_json},"actor":{actor_json},'
                    f'"initiative":{"null" if initiative is None else initiative},"payload":{payload},'
                    f'"prev_hash":"{prev}","recorded_at":"{at}","seq":{seq}}}'
                ).encode()
            except (TypeError, ValueError) as error:
                raise ChainBroken(seq, f"it cannot be read ({error}): it was edited") from None
            if sha256(data).hexdigest() != digest:
                raise ChainBroken(seq, "its content does not match its hash: it was edited")
            if strict and not is_canonical_payload(payload):
                raise ChainBroken(seq, "its payload is not in canonical form: it was rewritten")
            if checked_anchor is not None and seq == checked_anchor.seq and digest != checked_anchor.hash:
                raise ChainBroken(
                    seq,
                    f"its hash {digest[:16]}… differs from the anchor taken at {checked_anchor.recorded_at} "
                    f"({checked_anchor.hash[:16]}…): the chain was recomputed at or before this event",
                )
            prev_hash, expected = digest, expected + 1
        if len(encoded) > 10_000:  # many distinct names: keep memory bounded
            encoded.clear()
        count = expected - 1
        if progress is not None and count >= next_report:
            progress(count, total)
            next_report = (count // progress_every + 1) * progress_every
    count = expected - 1
    if checked_anchor is not None and checked_anchor.seq > count:
        raise ChainBroken(
            count + 1,
            f"missing: the anchor taken at {checked_anchor.recorded_at} records event #{checked_anchor.seq}, "
            f"the ledger ends at #{count}: the tail was cut",
        )
    _check_head(count, prev_hash, using)
    return ChainSummary(count=count, head_seq=count, head_hash=prev_hash, head_recorded_at=at)


def _missing(expected: int, found: int) -> str:
    if found < expected:  # only possible if the unique index on seq was dropped
        return f"it appears twice or out of order (found #{found} after #{expected - 1})"
    return f"missing: the next event found is #{found}; it was deleted"


def _broken_link(seq: int, prev: str, using: str) -> str:
    """Say why event #seq does not link to its predecessor (runs once, on failure)."""
    claimed = LedgerEvent.objects.using(using).filter(hash=prev).values_list("seq", flat=True).first()
    if claimed is not None and claimed != seq - 1:
        return f"it claims to follow event #{claimed}, not #{seq - 1}: events were reordered or renumbered"
    if seq == 1:
        return "the first event does not start from the genesis hash"
    return (
        f"its previous hash does not match the hash of event #{seq - 1}: "
        f"event #{seq - 1} was rewritten with a new hash, or this event was moved"
    )


def _check_head(count: int, last_hash: str, using: str) -> None:
    """The head row, written with every append, must agree with the chain's end."""
    head = LedgerHead.objects.using(using).filter(id=1).values_list("seq", "hash").first()
    if head is None or head == (count, last_hash):
        return
    head_seq, head_hash = head
    if head_seq > count:
        # An append may have committed since the chain was read; the head then names a real event.
        if LedgerEvent.objects.using(using).filter(seq=head_seq, hash=head_hash).exists():
            return
        raise ChainBroken(
            count + 1,
            f"missing: the ledger head records event #{head_seq}, the ledger ends at #{count}: "
            "the tail was cut",
        )
    raise ChainBroken(
        head_seq if head_seq < count else count,
        f"the ledger head records #{head_seq} with hash {head_hash[:16]}…, "
        f"which is not the chain's end (#{count}, {last_hash[:16]}…)",
    )
