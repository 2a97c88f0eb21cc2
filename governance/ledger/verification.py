"""Verifying the decision ledger from the database, in constant memory.

Reads the events in sequence order, a chunk at a time, and checks, event by event: the sequence
has no gap; each signed event's leaf hash covers its stored columns byte for byte and its
signature verifies with a known public key; the events written before signing form an unbroken
hash chain at the start; the Merkle tree rebuilt from every leaf has, at each checkpoint's size,
that checkpoint's root. Then: no checkpoint is larger than the ledger (a cut tail); the head row
agrees with the tree; every unsequenced event is genuine; every receipt names an event that is
there. Nothing stored alongside (tree nodes, the head) is trusted: the tree is rebuilt.

Who detects what, with only the public key and what they kept outside the database:
- edits, forged appends, rewritten names, a recomputed tree: the signatures, from the public key
  alone (events written before signing: a checkpoint taken after them);
- deleted, renumbered, swapped or cut events: a checkpoint published after the event's sequencing,
  or the receipt of a decision that was cut.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import connections
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from governance.ledger.content import (
    GENESIS_HASH,
    chained_content,
    leaf_hash_hex,
    signed_content,
    signed_message,
)
from governance.ledger.merkle import TreeBuilder
from governance.ledger.models import LedgerEvent, LedgerHead
from governance.ledger.notes import Checkpoint, open_checkpoint
from governance.ledger.parallel import in_order
from governance.ledger.signing import VerifierKey, ledger_verifier_keys


class ChainBroken(Exception):
    """The ledger was tampered with at event `seq`: `problem` says how."""

    def __init__(self, seq: int, problem: str):
        super().__init__(_("Event #%(seq)s: %(problem)s") % {"seq": seq, "problem": problem})
        self.seq = seq
        self.problem = problem


# An event as verification and exports read it: (seq, recorded_at as canonical UTC text, actor_id,
# actor, action, initiative id, payload as stored, nonce, key_id, signature, prev_hash, hash).
EventRow = tuple[Any, str, Any, str, str, Any, str, str, str, str, Any, str]


def _select(connection, where: str) -> str:
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
        f"SELECT seq, {recorded_at}, actor_id, actor_name, action, initiative_id, payload, nonce, "
        f"key_id, signature, prev_hash, hash FROM {table} WHERE {where}"
    )


def event_chunks(
    *, after_seq: int = 0, upto_seq: int | None = None, chunk_size: int = 5000, using: str = "default"
) -> Iterator[list[EventRow]]:
    """Stream the sequenced events in order, `chunk_size` rows at a time, in constant memory.

    Each chunk is its own short query (keyset on the unique seq index), so a long read never holds
    a read lock or a long transaction that would stall the sequencer.
    """
    connection = connections[using]
    sql = _select(connection, "seq > %s ORDER BY seq LIMIT %s")
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


def event_rows(**kwargs) -> Iterator[EventRow]:
    """The rows of event_chunks, one by one."""
    for rows in event_chunks(**kwargs):
        yield from rows


def pending_rows(*, using: str = "default") -> list[EventRow]:
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(_select(connection, "seq IS NULL ORDER BY id"))
        return cursor.fetchall()


def leaf_of(row: EventRow) -> str:
    """The leaf hash (hex) of a stored event, recomputed from its columns."""
    return leaf_hash_hex(row[5], content_digest(row))


def content_digest(row: EventRow) -> str:
    """SHA-256 (hex) of a stored event's content, recomputed from its columns (for an event of the
    hash chain, its chain hash)."""
    seq, at, actor_id, actor, action, initiative, payload, nonce, _key, signature, prev, _digest = row
    if not signature:
        content = chained_content(
            seq=seq,
            recorded_at=at,
            actor=actor,
            action=action,
            initiative=initiative,
            payload=payload,
            prev_hash=prev or "",
        )
    else:
        content = signed_content(
            recorded_at=at,
            actor_id=actor_id,
            actor=actor,
            action=action,
            initiative=initiative,
            nonce=nonce,
            payload=payload,
        )
    return hashlib.sha256(content).hexdigest()


def signature_holds(keys: Mapping[str, VerifierKey], key_id: str, leaf: str, at: str, signature: str) -> bool:
    key = keys.get(key_id)
    if key is None:
        return False
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return False
    return key.verify(signed_message(leaf, at), raw)


# Reading what the auditor kept ----------------------------------------------------------------------


@dataclass(frozen=True)
class Anchor:
    """A head kept outside the database before checkpoints existed: {seq, hash, recorded_at}."""

    seq: int
    hash: str
    recorded_at: str | None

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
                # Translators: keep the JSON between braces as it is.
                _('An anchor is a JSON object {"seq": <int>, "hash": <64 hex>, "recorded_at": ...}.')
            )
        return cls(seq=data["seq"], hash=data["hash"], recorded_at=data.get("recorded_at"))

    @classmethod
    def load(cls, path: str | Path) -> Anchor:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ValueError(
                _("Cannot read the anchor %(path)s: %(error)s") % {"path": path, "error": error}
            ) from None
        return cls.from_dict(data)


def load_checkpoint(path: str | Path, keys: Mapping[str, VerifierKey]) -> Checkpoint:
    """A checkpoint file whose signature verifies with one of `keys` (ValueError otherwise)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(
            _("Cannot read the checkpoint %(path)s: %(error)s") % {"path": path, "error": error}
        ) from None
    try:
        checkpoint, _opened = open_checkpoint(text, keys)
    except ValueError as error:
        raise ValueError(
            # Translators: %(error)s says what is wrong with the checkpoint's text or signatures.
            _("The checkpoint %(path)s is not genuine: %(error)s") % {"path": path, "error": error}
        ) from None
    return checkpoint


def load_receipt(path: str | Path) -> dict[str, str]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ValueError(
            _("Cannot read the receipt %(path)s: %(error)s") % {"path": path, "error": error}
        ) from None
    if not isinstance(data, dict) or not all(
        isinstance(data.get(k), str) for k in ("hash", "recorded_at", "key_id", "signature")
    ):
        raise ValueError(
            # Translators: hash, recorded_at, key_id and signature are JSON keys: keep them as they are.
            _("The receipt %(path)s lacks hash, recorded_at, key_id or signature.") % {"path": path}
        )
    return data


# Verification ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainSummary:
    count: int
    head_seq: int
    head_hash: str  # the tree's root, hex
    head_recorded_at: str | None
    pending: int = 0
    checkpoints: int = 0
    receipts: int = 0


def _reject_number(text: str):
    raise ValueError(f"not a canonical number: {text}")


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


# What one row can show on its own, whatever its neighbours (checked by `row_verdicts`, here or
# in worker processes), in the order they are checked; the words are said by `_row_problem`.
UNREADABLE = "unreadable"
CONTENT_EDITED = "content_edited"
CHAIN_HASH_GAINED = "chain_hash_gained"
UNKNOWN_KEY = "unknown_key"
BAD_SIGNATURE = "bad_signature"
NOT_CANONICAL = "not_canonical"

# (the leaf's hex, the first problem or None, its detail)
RowVerdict = tuple[str, str | None, str]


def row_verdict(row: EventRow, keys: Mapping[str, VerifierKey], strict: bool) -> RowVerdict:
    """The checks of one event that need no other event: its hash, its signature, its form."""
    _seq, at, _aid, _actor, _action, initiative, payload, _nonce, key_id, signature, prev, digest = row
    if signature and prev is not None:
        return "", CHAIN_HASH_GAINED, ""
    try:
        recomputed = content_digest(row)
    except (TypeError, ValueError) as error:
        return "", UNREADABLE, str(error)
    leaf = leaf_hash_hex(initiative, recomputed)
    # An event of the hash chain stores its content's hash; a signed one, its leaf.
    if (leaf if signature else recomputed) != digest:
        return "", CONTENT_EDITED, ""
    if signature:
        if key_id not in keys:
            return "", UNKNOWN_KEY, key_id
        if not signature_holds(keys, key_id, leaf, at, signature):
            return "", BAD_SIGNATURE, ""
    if strict and not is_canonical_payload(payload):
        return "", NOT_CANONICAL, ""
    return leaf, None, ""


def row_verdicts(
    rows: Sequence[EventRow], *, keys: Mapping[str, VerifierKey], strict: bool
) -> list[RowVerdict]:
    """`row_verdict` of each row, stopping at the first problem (nothing after it is needed)."""
    verdicts = []
    for row in rows:
        verdict = row_verdict(row, keys, strict)
        verdicts.append(verdict)
        if verdict[1] is not None:
            break
    return verdicts


def _row_problem(problem: str, detail: str) -> str:
    if problem == UNREADABLE:
        return _("it cannot be read (%(error)s): it was edited") % {"error": detail}
    if problem == CONTENT_EDITED:
        return _("its content does not match its hash: it was edited")
    if problem == CHAIN_HASH_GAINED:
        return _("a signed event has gained a chain hash: it was edited")
    if problem == UNKNOWN_KEY:
        # Translators: %(key)s is a key id, quoted.
        return _("it is signed with key %(key)s, which is not a known ledger key: it was forged") % {
            "key": repr(detail)
        }
    if problem == BAD_SIGNATURE:
        return _("its signature does not verify: it was forged or edited")
    return _("its payload is not in canonical form: it was rewritten")


def verify_ledger(
    *,
    checkpoints: Iterable[Checkpoint] = (),
    anchor: Anchor | None = None,
    receipts: Sequence[Mapping[str, str]] = (),
    keys: Mapping[str, VerifierKey] | None = None,
    strict: bool = False,
    chunk_size: int = 5000,
    progress: Callable[[int, int], None] | None = None,
    progress_every: int = 100_000,
    using: str = "default",
    workers: int = 1,
) -> ChainSummary:
    """Rebuild the ledger's tree from the database; raise ChainBroken at the first fault.

    With `workers` > 1, worker processes check the rows' hashes and signatures, chunk by chunk,
    while this process reads and keeps the checks that span rows (sequence, chain links, tree,
    checkpoints, anchor, receipts); the result and the first fault are the same.

    `keys` are the public keys to trust (by key id; default: the configured ones). Checkpoints
    and receipts must already have been read with those keys (load_checkpoint, load_receipt).
    `progress(done, total)` is called every `progress_every` events.
    """
    keys = ledger_verifier_keys() if keys is None else keys
    for receipt in receipts:
        if not signature_holds(
            keys, receipt["key_id"], receipt["hash"], receipt["recorded_at"], receipt["signature"]
        ):
            raise ValueError(
                # Translators: %(hash)s is the start of an event's hash.
                _("The receipt for %(hash)s… is not signed by a known key.") % {"hash": receipt["hash"][:16]}
            )
    checkpoints = list(checkpoints)
    wanted = {checkpoint.size: checkpoint for checkpoint in checkpoints}
    unseen = {receipt["hash"]: receipt for receipt in receipts}
    total = LedgerEvent.last_seq(using)
    builder = TreeBuilder()
    expected, chain_hash, signed_seen, at = 1, GENESIS_HASH, False, None
    next_report = progress_every
    if 0 in wanted:
        _check_root(wanted.pop(0), builder)
    check_rows = functools.partial(row_verdicts, keys=keys, strict=strict)
    chunks = event_chunks(upto_seq=total, chunk_size=chunk_size, using=using)
    for rows, verdicts in in_order(chunks, check_rows, workers=workers):
        for row, (leaf, problem, detail) in zip(rows, verdicts, strict=True):
            seq, at, _aid, _actor, _action, _initiative, _payload, _nonce, _key, signature, prev, digest = row
            if seq != expected:
                raise ChainBroken(expected, _missing(expected, seq))
            if not signature:
                if signed_seen:
                    raise ChainBroken(seq, _("it is unsigned, after signed events: it was forged"))
                if prev != chain_hash:
                    raise ChainBroken(seq, _broken_link(seq, prev, using))
                chain_hash = digest
            else:
                signed_seen = True
            if problem is not None:
                raise ChainBroken(seq, _row_problem(problem, detail))
            builder.append(bytes.fromhex(leaf))
            if seq in wanted:
                _check_root(wanted.pop(seq), builder)
            if anchor is not None and seq == anchor.seq and digest != anchor.hash:
                raise ChainBroken(
                    seq,
                    _(
                        # Translators: %(hash)s and %(anchor)s are starts of hashes; %(at)s a time.
                        "its hash %(hash)s… differs from the anchor taken at %(at)s (%(anchor)s…): "
                        "the ledger was rewritten at or before this event"
                    )
                    % {"hash": digest[:16], "at": anchor.recorded_at, "anchor": anchor.hash[:16]},
                )
            unseen.pop(digest, None)
            expected += 1
        count = expected - 1
        if progress is not None and count >= next_report:
            progress(count, total)
            next_report = (count // progress_every + 1) * progress_every
    count = expected - 1
    if wanted:
        checkpoint = wanted[min(wanted)]
        raise ChainBroken(
            count + 1,
            ngettext(
                "missing: a checkpoint records %(size)s event, the ledger ends at #%(count)s: the tail was cut",
                "missing: a checkpoint records %(size)s events, the ledger ends at #%(count)s: the tail was cut",
                checkpoint.size,
            )
            % {"size": checkpoint.size, "count": count},
        )
    if anchor is not None and anchor.seq > count:
        raise ChainBroken(
            count + 1,
            _(
                # Translators: %(at)s is the time the anchor was taken.
                "missing: the anchor taken at %(at)s records event #%(seq)s, "
                "the ledger ends at #%(count)s: the tail was cut"
            )
            % {"at": anchor.recorded_at, "seq": anchor.seq, "count": count},
        )
    root = builder.root().hex()
    _check_head(count, root, using)
    pending = pending_rows(using=using)
    for row in pending:
        (
            _seq,
            p_at,
            _aid,
            _actor,
            _action,
            _initiative,
            _payload,
            _nonce,
            p_key,
            p_signature,
            _prev,
            p_digest,
        ) = row
        if leaf_of(row) != p_digest or not signature_holds(keys, p_key, p_digest, p_at, p_signature):
            raise ChainBroken(count + 1, _("an event waiting to be sequenced is not genuine: it was forged"))
        unseen.pop(p_digest, None)
    if unseen:
        receipt = next(iter(unseen.values()))
        problem = _(
            # Translators: %(action)s is a ledger action code, or "a decision"; %(at)s a time; %(hash)s the
            # start of a hash.
            "missing: the receipt of %(action)s recorded at %(at)s (hash %(hash)s…) names no event of the "
            "ledger: it was cut"
        )
        raise ChainBroken(
            count + 1,
            problem
            % {
                "action": receipt["action"] if "action" in receipt else _("a decision"),
                "at": receipt["recorded_at"],
                "hash": receipt["hash"][:16],
            },
        )
    return ChainSummary(
        count=count,
        head_seq=count,
        head_hash=root,
        head_recorded_at=at,
        pending=len(pending),
        checkpoints=len(checkpoints),
        receipts=len(receipts),
    )


def _check_root(checkpoint: Checkpoint, builder: TreeBuilder) -> None:
    if builder.root() != checkpoint.root:
        raise ChainBroken(
            max(checkpoint.size, 1),
            ngettext(
                "the tree of the first %(size)s event does not have the root of the checkpoint "
                "of that size: events up to here were edited, deleted, reordered or inserted",
                "the tree of the first %(size)s events does not have the root of the checkpoint "
                "of that size: events up to here were edited, deleted, reordered or inserted",
                checkpoint.size,
            )
            % {"size": checkpoint.size},
        )


def _missing(expected: int, found: int) -> str:
    if found < expected:  # only possible if the unique index on seq was dropped
        return _("it appears twice or out of order (found #%(found)s after #%(previous)s)") % {
            "found": found,
            "previous": expected - 1,
        }
    return _("missing: the next event found is #%(found)s; it was deleted") % {"found": found}


def _broken_link(seq: int, prev: str, using: str) -> str:
    """Say why event #seq does not link to its predecessor (runs once, on failure)."""
    claimed = LedgerEvent.objects.using(using).filter(hash=prev).values_list("seq", flat=True).first()
    if claimed is not None and claimed != seq - 1:
        return _(
            "it claims to follow event #%(claimed)s, not #%(previous)s: events were reordered or renumbered"
        ) % {
            "claimed": claimed,
            "previous": seq - 1,
        }
    if seq == 1:
        return _("the first event does not start from the genesis hash")
    return _(
        "its previous hash does not match the hash of event #%(previous)s: "
        "event #%(previous)s was rewritten with a new hash, or this event was moved"
    ) % {"previous": seq - 1}


def _check_head(count: int, root: str, using: str) -> None:
    """The head row, moved with every sealing, must agree with the tree rebuilt from the events."""
    head = LedgerHead.objects.using(using).filter(id=1).values_list("seq", "hash").first()
    if head is None:
        if count:
            raise ChainBroken(count, _("the ledger head is missing"))
        return
    head_seq, head_hash = head
    if (head_seq, head_hash) == (count, root):
        return
    # The sequencer may have sealed more since the events were read; the head then names a real event.
    if head_seq > count and LedgerEvent.objects.using(using).filter(seq=head_seq).exists():
        return
    if head_seq > count:
        raise ChainBroken(
            count + 1,
            ngettext(
                "missing: the ledger head records %(head)s event, the ledger ends at #%(count)s: the tail was cut",
                "missing: the ledger head records %(head)s events, the ledger ends at #%(count)s: the tail was cut",
                head_seq,
            )
            % {"head": head_seq, "count": count},
        )
    raise ChainBroken(
        head_seq if head_seq < count else count,
        ngettext(
            # Translators: %(head_root)s and %(root)s are starts of hashes.
            "the ledger head records %(head)s event with root %(head_root)s…, "
            "which is not the tree rebuilt from the events (%(count)s, %(root)s…)",
            "the ledger head records %(head)s events with root %(head_root)s…, "
            "which is not the tree rebuilt from the events (%(count)s, %(root)s…)",
            head_seq,
        )
        % {"head": head_seq, "head_root": head_hash[:16], "count": count, "root": root[:16]},
    )


def row_of(event: LedgerEvent) -> EventRow:
    """A stored event as verification reads it."""
    from governance.ledger.canonical import utc_text

    return (
        event.seq,
        utc_text(event.recorded_at),
        event.actor_id,
        event.actor_name,
        event.action,
        event.initiative_id,
        event.payload,
        event.nonce,
        event.key_id,
        event.signature,
        event.prev_hash,
        event.hash,
    )


def event_checks(event: LedgerEvent, keys: Mapping[str, VerifierKey] | None = None) -> list[tuple[bool, str]]:
    """What can be checked of one event on its own: its hash, its signature or chain link."""
    keys = ledger_verifier_keys() if keys is None else keys
    row = row_of(event)
    covered = leaf_of(row) == (event.hash if event.signed else leaf_hash_hex(event.initiative_id, event.hash))
    if not event.signed:
        covered = (
            hashlib.sha256(
                chained_content(
                    seq=event.seq or 0,
                    recorded_at=row[1],
                    actor=event.actor_name,
                    action=event.action,
                    initiative=event.initiative_id,
                    payload=event.payload,
                    prev_hash=event.prev_hash or "",
                )
            ).hexdigest()
            == event.hash
        )
    checks = [
        (covered, _("its hash covers its content") if covered else _("its hash does NOT cover its content"))
    ]
    if event.signed:
        holds = signature_holds(keys, event.key_id, event.hash, row[1], event.signature)
        signature = (
            _("its signature by key %(key)s verifies")
            if holds
            else _("its signature by key %(key)s does NOT verify")
        )
        checks.append((holds, signature % {"key": event.key_id}))
    else:
        seq = event.seq or 0  # events of the hash chain were numbered when written
        previous = (
            GENESIS_HASH
            if seq == 1
            else LedgerEvent.objects.filter(seq=seq - 1).values_list("hash", flat=True).first()
        )
        linked = previous is not None and previous == event.prev_hash
        link = (
            _("it follows the hash of event #%(previous)s")
            if linked
            else _("it does NOT follow the hash of event #%(previous)s")
        )
        checks.append((linked, link % {"previous": seq - 1}))
    return checks
