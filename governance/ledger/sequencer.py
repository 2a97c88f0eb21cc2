"""The sequencer: gives committed events their place in the ledger and extends the Merkle tree.

One sequencer runs at a time (a PostgreSQL advisory lock held for its transaction; on SQLite the
write lock its first statement takes). It reads the events that have no sequence number yet, in
the order they were inserted among those already committed, checks each one's hash and signature
(a row forged into the table without the key is left out, unsequenced, for verification to
report), numbers them after the tree's last leaf, stores the perfect subtrees they complete and
moves the head — all in one transaction, so a sequencer killed mid-batch leaves nothing half
done and the next run seals the same events.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from django.db import connections, transaction
from django.db.models import Case, Value, When
from django.utils import timezone
from django.utils.translation import ngettext

from governance.ledger.canonical import utc_text
from governance.ledger.content import GENESIS_HASH, leaf_hash_hex
from governance.ledger.merkle import EMPTY_ROOT, TreeBuilder
from governance.ledger.models import LedgerEvent, LedgerHead, LedgerTreeNode
from governance.ledger.signing import VerifierKey, ledger_verifier_keys
from governance.ledger.verification import leaf_of, signature_holds

# pg_advisory_xact_lock's key: "VGLEDGER" read as a signed 64-bit integer.
SEQUENCER_LOCK = int.from_bytes(b"VGLEDGER", "big", signed=True)
BATCH = 1000  # events sealed per statement; also bounds the parameters of one UPDATE


@dataclass
class Sealed:
    """What one run of the sequencer did."""

    sealed: int = 0
    size: int = 0
    root: str = ""
    refused: list[int] = field(default_factory=list)  # ids of pending rows whose signature fails
    seq_of: dict[str, int] = field(default_factory=dict)  # hash -> seq of the events sealed


def seal_pending(*, using: str = "default") -> Sealed:
    """Sequence every committed event that has none yet, in one transaction. Safe to run at any time."""
    sealed = _seal_pending(using=using, wait=True)
    if sealed is None:  # waiting for the lock always ends with it
        raise RuntimeError("The sequencer's lock was not taken.")
    return sealed


def try_seal_pending(*, using: str = "default") -> Sealed | None:
    """seal_pending, or None at once if another sequencer is running (PostgreSQL)."""
    return _seal_pending(using=using, wait=False)


def _seal_pending(*, using: str, wait: bool) -> Sealed | None:
    with transaction.atomic(using=using):
        connection = connections[using]
        if not take_sequencer_lock(connection, wait=wait):
            return None
        pending = LedgerEvent.objects.using(using).filter(seq__isnull=True).order_by("id")
        rows = list(pending.values_list(*_COLUMNS)[:BATCH])
        head = LedgerHead.objects.using(using).get(id=1)
        result = Sealed(size=head.seq, root=head.hash)
        if not rows:
            return result
        builder = TreeBuilder(frontier=_frontier(head, using), size=head.seq)
        keys = ledger_verifier_keys()
        while rows:
            _seal(rows, builder, keys, result, using)
            if len(rows) < BATCH:
                break
            rows = list(pending.filter(id__gt=rows[-1][0]).values_list(*_COLUMNS)[:BATCH])
        if result.sealed:
            result.size, result.root = builder.size, builder.root().hex()
            LedgerHead.objects.using(using).filter(id=1).update(
                seq=result.size, hash=result.root, frontier=_frontier_text(builder)
            )
    return result


_COLUMNS = (
    "id",
    "recorded_at",
    "actor_id",
    "actor_name",
    "action",
    "initiative_id",
    "payload",
    "nonce",
    "key_id",
    "signature",
    "hash",
)


def seal_after_commit(event_ids: list[int], *, patience: float = 2.0) -> None:
    """on_commit hook of a decision: see its events sealed, without queueing behind other sealers.

    If a sequencer is already running, it may have read the pending events before this commit:
    try again, briefly, until one of us has sealed them. Past `patience` seconds the periodic job
    seals them (the decision itself is recorded either way).
    """
    deadline = time.monotonic() + patience
    pause = 0.001
    while True:
        if try_seal_pending() is not None:
            return
        if not LedgerEvent.objects.filter(id__in=event_ids, seq__isnull=True).exists():
            return  # another sequencer sealed them
        if time.monotonic() > deadline:
            return
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


def ledger_events_sequence(*, now=None) -> int:
    """The periodic job (worker and governance_tick): seal what a crashed process left pending."""
    return seal_pending().sealed


def _seal(rows, builder: TreeBuilder, keys: dict[str, VerifierKey], result: Sealed, using: str) -> None:
    numbered: list[tuple[int, int]] = []
    nodes: list[LedgerTreeNode] = []
    for (
        event_id,
        recorded_at,
        actor_id,
        actor,
        action,
        initiative,
        payload,
        nonce,
        key_id,
        signature,
        digest,
    ) in rows:
        if not _genuine(
            recorded_at, actor_id, actor, action, initiative, payload, nonce, key_id, signature, digest, keys
        ):
            result.refused.append(event_id)
            continue
        for level, index, node in builder.append(bytes.fromhex(digest)):
            nodes.append(LedgerTreeNode(level=level, index=index, hash=node.hex()))
        numbered.append((event_id, builder.size))
        result.seq_of[digest] = builder.size
    if not numbered:
        return
    LedgerEvent.objects.using(using).filter(id__in=[event_id for event_id, _ in numbered]).update(
        seq=Case(*[When(id=event_id, then=Value(seq)) for event_id, seq in numbered]),
        sequenced_at=timezone.now(),
    )
    LedgerTreeNode.objects.using(using).bulk_create(nodes, batch_size=BATCH)
    result.sealed += len(numbered)


def _genuine(
    recorded_at, actor_id, actor, action, initiative, payload, nonce, key_id, signature, digest, keys
) -> bool:
    """Whether a pending row is an event the application wrote: its hash and its signature hold."""
    if not signature:
        return False
    at = utc_text(recorded_at)
    row = (None, at, actor_id, actor, action, initiative, payload, nonce, key_id, signature, None, digest)
    return leaf_of(row) == digest and signature_holds(keys, key_id, digest, at, signature)


def take_sequencer_lock(connection, *, wait: bool = True) -> bool:
    """Serialise sequencers, for the rest of the transaction; make sure the head row exists (a
    flushed database has none). False if `wait` is off and another sequencer holds the lock."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            if wait:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEQUENCER_LOCK])
            else:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [SEQUENCER_LOCK])
                if not cursor.fetchone()[0]:
                    return False
    # On SQLite this write is also what takes the database's write lock before anything is read.
    LedgerHead.objects.using(connection.alias).bulk_create(
        [LedgerHead(id=1, seq=0, hash=EMPTY_ROOT.hex())], ignore_conflicts=True
    )
    return True


def _frontier(head: LedgerHead, using: str) -> list[tuple[int, bytes]]:
    """The perfect subtrees the next leaf extends, largest first: kept on the head (no read), or
    read from the stored nodes when the head has none of the right shape (a migrated database)."""
    positions = TreeBuilder.frontier_positions(head.seq)
    kept = head.frontier.split()
    if len(kept) == len(positions):
        return [(level, bytes.fromhex(node)) for (level, _index), node in zip(positions, kept, strict=True)]
    return stored_frontier(head.seq, using=using)


def stored_frontier(size: int, *, using: str = "default") -> list[tuple[int, bytes]]:
    """The perfect subtrees of the tree of `size` leaves, largest first, read from the stored nodes."""
    positions = TreeBuilder.frontier_positions(size)
    if not positions:
        return []
    query = LedgerTreeNode.objects.using(using).none()
    for level, index in positions:
        query = query | LedgerTreeNode.objects.using(using).filter(level=level, index=index)
    stored = {(level, index): node for level, index, node in query.values_list("level", "index", "hash")}
    missing = [position for position in positions if position not in stored]
    if missing:
        raise RuntimeError(
            ngettext(
                # Translators: %(nodes)s lists positions in the tree, e.g. [(0, 4), (2, 0)].
                "The ledger's tree has lost its node %(nodes)s; rebuild it with verify_ledger.",
                "The ledger's tree has lost its nodes %(nodes)s; rebuild it with verify_ledger.",
                len(missing),
            )
            % {"nodes": missing}
        )
    return [(level, bytes.fromhex(stored[(level, index)])) for level, index in positions]


def _frontier_text(builder: TreeBuilder) -> str:
    return " ".join(node.hex() for _level, node in builder.frontier)


def chained_leaf(initiative: int | None, chain_hash: str) -> bytes:
    """The leaf of an event of the hash chain written before the ledger was signed."""
    return bytes.fromhex(leaf_hash_hex(initiative, chain_hash))


def build_tree_of_chained_events(*, using: str = "default") -> int:
    """Add the hash chain's events (written before signing) to the tree; return how many.

    Runs once, when a database is migrated to the signed log: their sequence numbers stay, their
    leaves cover their chain hashes, and the head then holds the tree's root.
    """
    with transaction.atomic(using=using):
        take_sequencer_lock(connections[using])
        if LedgerTreeNode.objects.using(using).exists():
            return 0
        builder = TreeBuilder()
        nodes: list[LedgerTreeNode] = []
        rows = LedgerEvent.objects.using(using).filter(seq__isnull=False).order_by("seq")
        for seq, initiative, chain_hash in rows.values_list("seq", "initiative_id", "hash").iterator(2000):
            if seq != builder.size + 1:
                raise RuntimeError(f"The hash chain has a gap before event #{seq}; verify it first.")
            for level, index, node in builder.append(chained_leaf(initiative, chain_hash)):
                nodes.append(LedgerTreeNode(level=level, index=index, hash=node.hex()))
            if len(nodes) >= 5000:
                LedgerTreeNode.objects.using(using).bulk_create(nodes)
                nodes = []
        LedgerTreeNode.objects.using(using).bulk_create(nodes)
        LedgerHead.objects.using(using).filter(id=1).update(
            seq=builder.size, hash=builder.root().hex(), frontier=_frontier_text(builder)
        )
        return builder.size


__all__ = [
    "GENESIS_HASH",
    "Sealed",
    "build_tree_of_chained_events",
    "chained_leaf",
    "ledger_events_sequence",
    "seal_pending",
]
