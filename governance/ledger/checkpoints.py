"""Signed checkpoints of the ledger's tree, their publication to witnesses, and proofs against them.

A checkpoint is the C2SP tlog-checkpoint of the tree (origin, size, root, and a `time` extension
line) in a signed note. Before signing one, the application checks what it is about to vouch for:
the tree at the previous checkpoint's size, rebuilt from the stored nodes, still has that
checkpoint's root, and every event since is genuine (hash and signature) and extends it to the
head's root. A tree changed behind its back is refused rather than signed.

Witnesses are directories outside the database (in production write-once storage, or a mount of
another host): each checkpoint is written there once, under a name that is never reused.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from governance.ledger.canonical import utc_text
from governance.ledger.merkle import TreeBuilder, consistency_proof, inclusion_proof
from governance.ledger.models import LedgerCheckpoint, LedgerEvent, LedgerHead, LedgerTreeNode
from governance.ledger.notes import Checkpoint, open_checkpoint, sign_checkpoint
from governance.ledger.sequencer import seal_pending, stored_frontier, take_sequencer_lock
from governance.ledger.signing import ledger_signing_key, ledger_verifier_keys
from governance.ledger.verification import ChainBroken, event_rows, leaf_of, signature_holds, verify_ledger


class CheckpointRefused(Exception):
    """The stored tree does not extend the last checkpoint with genuine events: nothing is signed."""


def origin() -> str:
    return getattr(settings, "VALUEGATE_LEDGER_ORIGIN", "valuegate.local/ledger")


def ledger_checkpoint(*, now: dt.datetime | None = None) -> LedgerCheckpoint:
    """Seal what is pending, check the tree since the last checkpoint, sign and store a checkpoint."""
    now = now or timezone.now()
    seal_pending()
    head = LedgerHead.objects.get(id=1)
    last = LedgerCheckpoint.objects.order_by("-size", "-published_at").first()
    if last is not None and last.size == head.seq and last.root == head.hash:
        return last
    _check_extension(last, head)
    key = ledger_signing_key()
    checkpoint = Checkpoint(
        origin=origin(), size=head.seq, root=bytes.fromhex(head.hash), extensions=(f"time {utc_text(now)}",)
    )
    return LedgerCheckpoint.objects.create(
        size=head.seq, root=head.hash, published_at=now, note=sign_checkpoint(checkpoint, key)
    )


def _check_extension(last: LedgerCheckpoint | None, head: LedgerHead) -> None:
    if last is None:
        # The first checkpoint vouches for everything: verify it all.
        try:
            summary = verify_ledger()
        except ChainBroken as broken:
            raise CheckpointRefused(
                # Translators: %(problem)s says what is wrong with the event.
                _("the ledger fails verification at event #%(seq)s: %(problem)s")
                % {"seq": broken.seq, "problem": broken.problem}
            ) from None
        if (summary.count, summary.head_hash) != (head.seq, head.hash):
            raise CheckpointRefused(_("the head moved while the ledger was verified; try again"))
        return
    checkpoint, _opened = open_checkpoint(last.note, ledger_verifier_keys(), origin=origin())
    if last.size > head.seq:
        raise CheckpointRefused(
            ngettext(
                "the tree has %(size)s event, fewer than the %(last)s last checkpointed",
                "the tree has %(size)s events, fewer than the %(last)s last checkpointed",
                head.seq,
            )
            % {"size": head.seq, "last": last.size}
        )
    try:
        frontier = stored_frontier(last.size)
    except RuntimeError as lost:
        raise CheckpointRefused(str(lost)) from None
    builder = TreeBuilder(frontier=frontier, size=last.size)
    if builder.root() != checkpoint.root:
        raise CheckpointRefused(
            ngettext(
                "the stored tree no longer has the root of the checkpoint of %(size)s event",
                "the stored tree no longer has the root of the checkpoint of %(size)s events",
                last.size,
            )
            % {"size": last.size}
        )
    keys = ledger_verifier_keys()
    expected = last.size + 1
    for row in event_rows(after_seq=last.size, upto_seq=head.seq):
        seq, at, *_rest, key_id, signature, _prev, digest = row
        if (
            seq != expected
            or leaf_of(row) != digest
            or not signature_holds(keys, key_id, digest, at, signature)
        ):
            raise CheckpointRefused(_("event #%(seq)s is missing, edited or forged") % {"seq": expected})
        builder.append(bytes.fromhex(digest))
        expected += 1
    if builder.size != head.seq or builder.root().hex() != head.hash:
        raise CheckpointRefused(_("the head's root is not the tree of the events"))


PREFETCH = 500  # nodes per query: keeps each statement's parameters well inside SQLite's limit


class StoredTree:
    """The perfect subtrees of the stored tree, read once each (proofs need O(log n) of them)."""

    def __init__(self) -> None:
        self.read: dict[tuple[int, int], bytes] = {}

    def answering(self, proof) -> StoredTree:
        """Read every node `proof(oracle)` will ask for, in one query per PREFETCH nodes (the
        positions a proof needs do not depend on the hashes, so a dry run with placeholders names
        them)."""
        wanted: set[tuple[int, int]] = set()

        def placeholder(level: int, index: int) -> bytes:
            wanted.add((level, index))
            return bytes(32)

        proof(placeholder)
        missing = sorted(wanted - self.read.keys())
        for start in range(0, len(missing), PREFETCH):
            query = Q()
            for level, index in missing[start : start + PREFETCH]:
                query |= Q(level=level, index=index)
            for level, index, node in LedgerTreeNode.objects.filter(query).values_list(
                "level", "index", "hash"
            ):
                self.read[(level, index)] = bytes.fromhex(node)
        return self

    def __call__(self, level: int, index: int) -> bytes:
        key = (level, index)
        if key not in self.read:
            node = (
                LedgerTreeNode.objects.filter(level=level, index=index).values_list("hash", flat=True).first()
            )
            if node is None:
                raise LookupError(
                    # Translators: %(node)s is a node's position in the tree, level/index.
                    _("The ledger's tree has no node %(node)s.") % {"node": f"{level}/{index}"}
                )
            self.read[key] = bytes.fromhex(node)
        return self.read[key]


# Publication to witnesses ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Publication:
    checkpoint: LedgerCheckpoint
    written: tuple[Path, ...]
    failed: tuple[str, ...]


def witness_file_name(checkpoint: LedgerCheckpoint) -> str:
    stamp = checkpoint.published_at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"checkpoint-{checkpoint.size:012d}-{stamp}-{checkpoint.root[:8]}.txt"


def publish_checkpoint(
    *, now: dt.datetime | None = None, directories: list[str] | None = None
) -> Publication:
    """Make a checkpoint and write it once to every witness directory (an existing file is kept)."""
    checkpoint = ledger_checkpoint(now=now)
    directories = (
        list(getattr(settings, "VALUEGATE_LEDGER_WITNESS_DIRS", [])) if directories is None else directories
    )
    written, failed = [], []
    for directory in directories:
        path = Path(directory) / witness_file_name(checkpoint)
        try:
            with open(path, "x", encoding="utf-8") as out:
                out.write(checkpoint.note)
        except FileExistsError:
            written.append(path)
        except OSError as error:
            failed.append(f"{directory}: {error}")
        else:
            written.append(path)
    return Publication(checkpoint=checkpoint, written=tuple(written), failed=tuple(failed))


def checkpoint_due(*, now: dt.datetime) -> bool:
    """Whether the interval has passed since the last checkpoint and the tree has grown since."""
    last = LedgerCheckpoint.objects.order_by("-published_at").values_list("published_at", "size").first()
    size = LedgerHead.objects.filter(id=1).values_list("seq", flat=True).first() or 0
    if last is None:
        return size > 0
    interval = dt.timedelta(seconds=getattr(settings, "VALUEGATE_LEDGER_CHECKPOINT_INTERVAL", 3600))
    return now - last[0] >= interval and size != last[1]


def publish_checkpoint_if_due(*, now: dt.datetime) -> Publication | None:
    """Publish a checkpoint when one is due (None if none was), in the caller's transaction.

    Under the sequencer's lock, so that two workers running it at once publish one checkpoint.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("A checkpoint is published inside the caller's transaction.")
    take_sequencer_lock(connection)
    if not checkpoint_due(now=now):
        return None
    return publish_checkpoint(now=now)


# Proofs ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InclusionProof:
    seq: int
    leaf_hash: str
    tree_size: int
    root: str
    proof: list[str]
    checkpoint: str

    def as_dict(self) -> dict:
        return {
            "seq": self.seq,
            "leaf_index": self.seq - 1,
            "leaf_hash": self.leaf_hash,
            "tree_size": self.tree_size,
            "root_hash": self.root,
            "proof": self.proof,
            "checkpoint": self.checkpoint,
        }


def _checkpoint_of(size: int | None) -> LedgerCheckpoint:
    checkpoints = LedgerCheckpoint.objects.order_by("-size", "-published_at")
    found = checkpoints.filter(size=size).first() if size is not None else checkpoints.first()
    if found is None:
        raise LookupError(
            _("No checkpoint of that size has been published.")
            if size is not None
            else _("No checkpoint yet.")
        )
    return found


def event_inclusion(*, seq: int, size: int | None = None) -> InclusionProof:
    """The inclusion proof of event #seq in a published checkpoint (the latest by default)."""
    checkpoint = _checkpoint_of(size)
    if not 1 <= seq <= checkpoint.size:
        raise LookupError(
            ngettext(
                "Event #%(seq)s is not in the checkpoint of %(size)s event.",
                "Event #%(seq)s is not in the checkpoint of %(size)s events.",
                checkpoint.size,
            )
            % {"seq": seq, "size": checkpoint.size}
        )
    index, size = seq - 1, checkpoint.size
    perfect = StoredTree().answering(lambda oracle: (oracle(0, index), inclusion_proof(index, size, oracle)))
    return InclusionProof(
        seq=seq,
        leaf_hash=perfect(0, index).hex(),
        tree_size=size,
        root=checkpoint.root,
        proof=[node.hex() for node in inclusion_proof(index, size, perfect)],
        checkpoint=checkpoint.note,
    )


def receipt_inclusion(*, event_hash: str, size: int | None = None) -> InclusionProof:
    seq = LedgerEvent.objects.filter(hash=event_hash).values_list("seq", flat=True).first()
    if seq is None:
        raise LookupError(_("No sequenced event has that hash."))
    return event_inclusion(seq=seq, size=size)


def tree_consistency(*, old_size: int, new_size: int | None = None) -> dict:
    """The consistency proof between two published checkpoints (the latest by default)."""
    old, new = _checkpoint_of(old_size), _checkpoint_of(new_size)
    if old.size > new.size:
        raise LookupError(_("The first checkpoint must not be larger than the second."))
    sizes = old.size, new.size
    proof = (
        consistency_proof(*sizes, StoredTree().answering(lambda oracle: consistency_proof(*sizes, oracle)))
        if old.size
        else []
    )
    return {
        "old_size": old.size,
        "new_size": new.size,
        "old_root": old.root,
        "new_root": new.root,
        "proof": [node.hex() for node in proof],
        "old_checkpoint": old.note,
        "new_checkpoint": new.note,
    }
