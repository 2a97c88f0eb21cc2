"""The auditors' services: export a period of the ledger, and the nightly verification that alerts.

An export (JSON) carries everything tools/verify_export.py needs to check it with only the
ledger's public key: for every event each field its hash covers, its hash and signature; a fresh
signed checkpoint of the whole tree; the perfect subtrees left of the period and right of it up to
the checkpoint (so the verifier rebuilds the checkpoint's root from the period alone); and the
consistency proof from every checkpoint published before it (so a checkpoint the auditor kept
from earlier proves the export's history is the one they saw). A period is the contiguous run of
events from the first recorded on or after `since` to the last recorded before the end of `until`
(UTC days). An export of one initiative keeps the whole run, but the other events are withheld:
only their initiative, content digest, time, signature and leaf hash remain, enough to prove each
belongs to another initiative and to rebuild the tree, not to read it. CSV exports carry the same
event rows for spreadsheets; only JSON exports carry the proofs.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from governance.access import roles
from governance.access.matrix import Operation, require
from governance.errors import InvalidInput
from governance.ledger.canonical import canonical_json
from governance.ledger.chain import GENESIS_HASH, ledger_append
from governance.ledger.checkpoints import StoredTree, ledger_checkpoint, origin, publish_checkpoint_if_due
from governance.ledger.events import LEDGER_EXPORTED
from governance.ledger.merkle import TreeBuilder, consistency_proof
from governance.ledger.models import LedgerCheckpoint, LedgerEvent
from governance.ledger.notes import open_checkpoint, sign_note
from governance.ledger.signing import ledger_signing_key, ledger_verifier_keys
from governance.ledger.verification import (
    Anchor,
    ChainBroken,
    ChainSummary,
    EventRow,
    content_digest,
    event_rows,
    load_checkpoint,
    verify_ledger,
)
from governance.notifications.events import NotificationEvent
from governance.notifications.services import members_of, notify
from projects.models import Initiative

EXPORT_FORMAT = "valuegate-ledger-export"
EXPORT_VERSION = 2
CSV_COLUMNS = [
    "seq",
    "recorded_at",
    "actor_id",
    "actor",
    "action",
    "initiative",
    "payload",
    "nonce",
    "key_id",
    "signature",
    "prev_hash",
    "hash",
    "withheld",
    "content_sha256",
]


@dataclass(frozen=True)
class ExportSummary:
    events: int
    withheld: int
    first_seq: int | None
    last_seq: int | None
    sha256: str
    ledger_event: LedgerEvent
    checkpoint: LedgerCheckpoint


class ByteSink(Protocol):
    """Where an export's bytes go: a binary file or stream, or anything that writes bytes."""

    def write(self, data: bytes, /) -> int: ...


class _DigestingWriter:
    """Writes text as UTF-8 to a binary stream and keeps the SHA-256 of every byte written."""

    def __init__(self, out: ByteSink):
        self.out = out
        self.digest = hashlib.sha256()

    def write(self, text: str) -> int:
        data = text.encode()
        self.digest.update(data)
        self.out.write(data)
        return len(text)


def require_auditor(actor) -> None:
    """Only auditors (and superusers) export the ledger."""
    # Translators: completes the refusal "Only <who> may …."
    require(actor, Operation.EXPORT_LEDGER, doing=pgettext("refusal", "export the ledger"))


def _period_seqs(since: dt.date | None, until: dt.date | None, head: int) -> tuple[int, int] | None:
    """First and last seq of the period (both within the tree of `head` events), or None."""
    events = LedgerEvent.objects.filter(seq__lte=head)
    if since is not None:
        start = dt.datetime.combine(since, dt.time.min, tzinfo=dt.UTC)
        first = events.filter(recorded_at__gte=start).order_by("seq").values_list("seq", flat=True).first()
    else:
        first = 1 if head else None
    if until is not None:
        end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
        last = events.filter(recorded_at__lt=end).order_by("-seq").values_list("seq", flat=True).first()
    else:
        last = head
    if first is None or last is None or first > last:
        return None
    return first, last


def _aligned_blocks(start: int, end: int) -> list[tuple[int, int]]:
    """The perfect subtrees (level, index) that tile leaves [start, end), left to right."""
    blocks = []
    while start < end:
        level = 0
        while start % (2 ** (level + 1)) == 0 and start + 2 ** (level + 1) <= end:
            level += 1
        blocks.append((level, start >> level))
        start += 2**level
    return blocks


def ledger_export(
    *,
    actor,
    out: ByteSink,
    fmt: str,
    since: dt.date | None = None,
    until: dt.date | None = None,
    initiative: Initiative | None = None,
    now: dt.datetime | None = None,
) -> ExportSummary:
    """Write a period of the ledger to `out` as CSV or JSON, streamed in constant memory.

    Only auditors and superusers export. A checkpoint of the whole tree is signed first (pending
    events are sequenced) and the export is proved against it. Ledger: ledger.exported, appended
    once the export is written, with the period, the seq range, the checkpoint's size and the
    export's SHA-256 (so the file handed over can be matched to this event later). The export does
    not contain its own event.
    """
    require_auditor(actor)
    if fmt not in ("csv", "json"):
        raise InvalidInput(_("The export format is csv or json."))
    if since is not None and until is not None and since > until:
        raise InvalidInput(_("The period's start comes after its end."))
    now = now or timezone.now()
    checkpoint = ledger_checkpoint(now=now)
    size = checkpoint.size
    bounds = _period_seqs(since, until, size)
    writer = _DigestingWriter(out)
    only = initiative.pk if initiative is not None else None
    rows = event_rows(after_seq=bounds[0] - 1, upto_seq=bounds[1]) if bounds else iter(())
    if fmt == "csv":
        count, withheld = _write_csv(writer, rows, only)
    else:
        header = {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "exported_at": now,
            "exported_by": actor.get_username(),
            "since": since,
            "until": until,
            "initiative": only,
            "genesis_hash": GENESIS_HASH,
            "origin": origin(),
            "public_keys": [key.text for key in ledger_verifier_keys().values()],
            "checkpoint": checkpoint.note,
            "tree": _tree_context(bounds, size),
        }
        count, withheld = _write_json(writer, rows, only, header, bounds)
    sha256 = writer.digest.hexdigest()
    with transaction.atomic():
        event = ledger_append(
            actor=actor,
            action=LEDGER_EXPORTED,
            initiative=initiative,
            payload={
                "format": fmt,
                "since": since,
                "until": until,
                "initiative": only,
                "first_seq": bounds[0] if bounds else None,
                "last_seq": bounds[1] if bounds else None,
                "events": count,
                "withheld": withheld,
                "sha256": sha256,
                "tree_size": size,
            },
        )
    if event is None:
        raise RuntimeError("The export's ledger event is written with the export, not in a ledger batch.")
    return ExportSummary(
        events=count,
        withheld=withheld,
        first_seq=bounds[0] if bounds else None,
        last_seq=bounds[1] if bounds else None,
        sha256=sha256,
        ledger_event=event,
        checkpoint=checkpoint,
    )


def _tree_context(bounds: tuple[int, int] | None, size: int) -> dict:
    """What rebuilds the checkpoint's root around the exported run, and proves older checkpoints.

    Every node it needs is read up front, a few hundred per query, not one query per node of
    every proof (a year of hourly checkpoints is some 170,000 of them)."""
    first, last = bounds if bounds else (size + 1, size)
    positions = TreeBuilder.frontier_positions(first - 1) + _aligned_blocks(last, size)
    older = list(
        LedgerCheckpoint.objects.filter(size__lt=size, size__gt=0)
        .order_by("size")
        .values_list("size", "root")
    )

    def context(perfect) -> dict:
        nodes = [[level, perfect(level, index).hex()] for level, index in positions]
        left = len(TreeBuilder.frontier_positions(first - 1))
        return {
            "size": size,
            "left": nodes[:left],
            "right": nodes[left:],
            "consistency": [
                {"size": old, "root": root, "proof": [n.hex() for n in consistency_proof(old, size, perfect)]}
                for old, root in older
            ],
        }

    return context(StoredTree().answering(context))


def _withheld(initiative: int | None, only: int | None) -> bool:
    return only is not None and initiative != only


def _content_sha256(row: EventRow) -> str:
    signature, digest = row[9], row[11]
    # An event of the hash chain: its hash is its content's digest (as stored, for the verifier to check).
    return content_digest(row) if signature else digest


def _event(row: EventRow, only: int | None) -> dict:
    seq, at, actor_id, actor, action, initiative, payload, nonce, key_id, signature, prev, digest = row
    if _withheld(initiative, only):
        return {
            "seq": seq,
            "withheld": True,
            "initiative": initiative,
            "recorded_at": at,
            "content_sha256": _content_sha256(row),
            "key_id": key_id,
            "signature": signature,
            "prev_hash": prev,
            "hash": digest,
        }
    return {
        "seq": seq,
        "recorded_at": at,
        "actor_id": actor_id,
        "actor": actor,
        "action": action,
        "initiative": initiative,
        "payload": _payload_value(payload),
        "nonce": nonce,
        "key_id": key_id,
        "signature": signature,
        "prev_hash": prev,
        "hash": digest,
    }


def _write_csv(writer: _DigestingWriter, rows, only: int | None) -> tuple[int, int]:
    table = csv.writer(writer, lineterminator="\n")
    table.writerow(CSV_COLUMNS)
    count = withheld = 0
    for row in rows:
        count += 1
        seq, at, actor_id, actor, action, initiative, payload, nonce, key_id, signature, prev, digest = row
        blank = lambda value: "" if value is None else value  # noqa: E731
        if _withheld(initiative, only):
            withheld += 1
            table.writerow(
                [
                    seq,
                    at,
                    "",
                    "",
                    "",
                    blank(initiative),
                    "",
                    "",
                    key_id,
                    signature,
                    blank(prev),
                    digest,
                    "1",
                    _content_sha256(row),
                ]
            )
        else:
            table.writerow(
                [
                    seq,
                    at,
                    blank(actor_id),
                    actor,
                    action,
                    blank(initiative),
                    payload,
                    nonce,
                    key_id,
                    signature,
                    blank(prev),
                    digest,
                    "",
                    "",
                ]
            )
    return count, withheld


def _payload_value(text: str):
    """The stored payload as JSON; text that is not JSON is carried as a string for the verifier to flag."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _write_json(writer: _DigestingWriter, rows, only: int | None, header: dict, bounds) -> tuple[int, int]:
    # One event per line inside one JSON document: readable, diffable, and streamed.
    head = canonical_json(header)
    writer.write(head[:-1] + ',"events":[')
    count = withheld = 0
    for row in rows:
        event = _event(row, only)
        withheld += bool(event.get("withheld"))
        writer.write(
            ("\n" if count == 0 else ",\n") + json.dumps(event, ensure_ascii=False, separators=(",", ":"))
        )
        count += 1
    trailer = {
        "count": count,
        "withheld": withheld,
        "first_seq": bounds[0] if bounds else None,
        "last_seq": bounds[1] if bounds else None,
    }
    trailer["statement"] = _export_statement(header, trailer)
    writer.write("\n]," + canonical_json(trailer)[1:] + "\n")
    return count, withheld


STATEMENT_TITLE = "valuegate-ledger-export"


def _export_statement(header: dict, trailer: dict) -> str:
    """What the export claims, signed: its period, scope and bounds cannot be changed afterwards
    (cutting its tail into the tree proof and moving `until` would otherwise pass as a shorter
    export, and a receipt of a cut decision as one outside the period)."""
    checkpoint, _ = open_checkpoint(header["checkpoint"], ledger_verifier_keys())
    claims = {
        "exported_at": header["exported_at"],
        "exported_by": header["exported_by"],
        "since": header["since"],
        "until": header["until"],
        "initiative": header["initiative"],
        "origin": header["origin"],
        "tree_size": checkpoint.size,
        "root": checkpoint.root.hex(),
        **{key: trailer[key] for key in ("count", "withheld", "first_seq", "last_seq")},
    }
    return sign_note(f"{STATEMENT_TITLE}\n{canonical_json(claims)}\n", ledger_signing_key())


# Checkpoints ----------------------------------------------------------------------------------------


def ledger_checkpoints_publish(*, now: dt.datetime) -> int:
    """The periodic job: publish a signed checkpoint to the witnesses when one is due, and, with
    VALUEGATE_LEDGER_CHECKPOINT_MAIL, send it to the auditors too (their mailboxes are one more
    witness outside the database). 1 if a checkpoint was published. Ledger: none."""
    with transaction.atomic():
        publication = publish_checkpoint_if_due(now=now)
        if publication is None:
            return 0
        checkpoint = publication.checkpoint
        if getattr(settings, "VALUEGATE_LEDGER_CHECKPOINT_MAIL", False):
            notify(
                recipients=members_of([roles.AUDITORS]),
                event_key=f"ledger-checkpoint-{checkpoint.size}-{checkpoint.root[:16]}",
                event=NotificationEvent.LEDGER_CHECKPOINT,
                subject=ngettext(
                    "[ValueGate] Ledger checkpoint of %(size)s event",
                    "[ValueGate] Ledger checkpoint of %(size)s events",
                    checkpoint.size,
                )
                % {"size": checkpoint.size},
                body=(
                    _(
                        # Translators: keep the commands between backquotes as they are.
                        "Keep this signed checkpoint outside ValueGate. With the ledger's public key, "
                        "`manage.py verify_ledger --checkpoint FILE --public-key KEY` or "
                        "`tools/verify_export.py EXPORT --checkpoint FILE --public-key KEY` then reveal any "
                        "change made to the decisions it covers."
                    )
                    + "\n\n"
                    + checkpoint.note
                ),
                to_do=_("Keep the checkpoint with your audit records."),
            )
    return 1


# Nightly verification ------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerificationOutcome:
    intact: bool
    summary: ChainSummary | None = None
    problem: str = ""
    alerted: int = 0


def ledger_verify_and_alert(
    *, anchor_path: str | None = None, witness_dirs: list[str] | None = None, now: dt.datetime | None = None
) -> VerificationOutcome:
    """Verify the whole ledger strictly, against the latest checkpoint published to the witnesses
    (and the hash chain's anchor file, if one is kept).

    On failure, the chair and the auditors are alerted through the outbox, once per day whatever
    the number of runs. Ledger: none (reading changes nothing).
    """
    now = now or timezone.now()
    try:
        anchor = Anchor.load(anchor_path) if anchor_path else None
        checkpoints = [
            load_checkpoint(path, ledger_verifier_keys())
            for path in latest_witnessed_checkpoints(witness_dirs)
        ]
        summary = verify_ledger(anchor=anchor, checkpoints=checkpoints, strict=True)
    except ChainBroken as broken:
        subject = _("[ValueGate] Ledger verification failed at event #%(seq)s") % {"seq": broken.seq}
        # Translators: %(problem)s says what is wrong with the event (a verification message).
        problem = _("Event #%(seq)s: %(problem)s.") % {"seq": broken.seq, "problem": broken.problem}
    except ValueError as unreadable:  # the anchor or a checkpoint is missing or damaged
        subject = _("[ValueGate] Ledger verification could not read what it checks against")
        problem = str(unreadable)
    else:
        return VerificationOutcome(intact=True, summary=summary)
    body = (
        # Translators: %(when)s is a date and time, YYYY-MM-DD HH:MM.
        _("The nightly verification of the decision ledger on %(when)s UTC failed.")
        % {"when": f"{now:%Y-%m-%d %H:%M}"}
        + "\n\n"
        + problem
        + "\n\n"
        + _(
            # Translators: keep the command between backquotes as it is.
            "Run `python manage.py verify_ledger --checkpoint FILE --public-key KEY` with the latest "
            "checkpoint kept outside the database to see it again, and compare with the exports."
        )
    )
    with transaction.atomic():
        alerted = notify(
            recipients=members_of([roles.COMMITTEE_CHAIR, roles.AUDITORS]),
            event_key=f"ledger-verification-failed-{now:%Y-%m-%d}",
            event=NotificationEvent.LEDGER_VERIFICATION_FAILED,
            to_do=_(
                "Run verify_ledger and compare with the checkpoints and exports kept outside the database."
            ),
            subject=subject,
            body=body,
        )
    return VerificationOutcome(intact=False, problem=problem, alerted=alerted)


def latest_witnessed_checkpoints(witness_dirs: list[str] | None = None) -> list[Path]:
    """The newest checkpoint file of each witness directory (names sort by tree size, then time)."""
    directories = (
        getattr(settings, "VALUEGATE_LEDGER_WITNESS_DIRS", []) if witness_dirs is None else witness_dirs
    )
    latest = []
    for directory in directories:
        files = sorted(Path(directory).glob("checkpoint-*.txt"))
        if files:
            latest.append(files[-1])
    return latest
