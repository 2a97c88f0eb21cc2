"""The auditors' services: export a period of the ledger, and the nightly verification that alerts.

An export carries, for every event, each field its hash covers (seq, recorded_at, actor, action,
initiative, payload, prev_hash) and the hash, so that tools/verify_export.py can recompute the chain
with no Django and no database. A period is the contiguous run of events from the first recorded
on or after `since` to the last recorded before the end of `until` (UTC days): appends take their
time under the head's lock, so times rise with the sequence and the run has no hole. An export of
one initiative keeps the whole run, but the other events are withheld: only their seq, prev_hash
and hash remain, enough to check every link and that nothing is missing.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Protocol

from django.db import transaction
from django.utils import timezone

from governance.access import roles
from governance.access.matrix import Operation, require
from governance.errors import InvalidInput
from governance.ledger.canonical import canonical_json
from governance.ledger.chain import (
    GENESIS_HASH,
    Anchor,
    ChainBroken,
    ChainSummary,
    chain_rows,
    ledger_append,
    verify_ledger,
)
from governance.ledger.events import LEDGER_EXPORTED
from governance.ledger.models import LedgerEvent
from governance.notifications.events import NotificationEvent
from governance.notifications.services import members_of, notify
from projects.models import Initiative

EXPORT_FORMAT = "valuegate-ledger-export"
EXPORT_VERSION = 1
CSV_COLUMNS = [
    "seq",
    "recorded_at",
    "actor",
    "action",
    "initiative",
    "payload",
    "prev_hash",
    "hash",
    "withheld",
]


@dataclass(frozen=True)
class ExportSummary:
    events: int
    withheld: int
    first_seq: int | None
    last_seq: int | None
    sha256: str
    ledger_event: LedgerEvent


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
    require(actor, Operation.EXPORT_LEDGER, doing="export the ledger")


def _period_seqs(since: dt.date | None, until: dt.date | None, head: int) -> tuple[int, int] | None:
    """First and last seq of the period (both within the head read at the start), or None."""
    events = LedgerEvent.objects.filter(seq__lte=head)
    if since is not None:
        start = dt.datetime.combine(since, dt.time.min, tzinfo=dt.UTC)
        first = events.filter(recorded_at__gte=start).order_by("seq").values_list("seq", flat=True).first()
    else:
        first = events.order_by("seq").values_list("seq", flat=True).first()
    if until is not None:
        end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
        last = events.filter(recorded_at__lt=end).order_by("-seq").values_list("seq", flat=True).first()
    else:
        last = head
    if first is None or last is None or first > last:
        return None
    return first, last


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

    Only auditors and superusers export. Ledger: ledger.exported, appended once the export is
    written, with the period, the seq range and the export's SHA-256 (so the file handed over can
    be matched to this event later). The export does not contain its own event.
    """
    require_auditor(actor)
    if fmt not in ("csv", "json"):
        raise InvalidInput("The export format is csv or json.")
    if since is not None and until is not None and since > until:
        raise InvalidInput("The period's start comes after its end.")
    now = now or timezone.now()
    head = LedgerEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    bounds = _period_seqs(since, until, head)
    writer = _DigestingWriter(out)
    only = initiative.pk if initiative is not None else None
    rows = chain_rows(after_seq=bounds[0] - 1, upto_seq=bounds[1]) if bounds else iter(())
    header = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": now,
        "exported_by": actor.get_username(),
        "since": since,
        "until": until,
        "initiative": only,
        "genesis_hash": GENESIS_HASH,
    }
    if fmt == "csv":
        count, withheld = _write_csv(writer, rows, only)
    else:
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
    )


def _withheld(initiative: int | None, only: int | None) -> bool:
    return only is not None and initiative != only


def _write_csv(writer: _DigestingWriter, rows, only: int | None) -> tuple[int, int]:
    table = csv.writer(writer, lineterminator="\n")
    table.writerow(CSV_COLUMNS)
    count = withheld = 0
    for seq, at, actor, action, initiative, payload, prev, digest in rows:
        count += 1
        if _withheld(initiative, only):
            withheld += 1
            table.writerow([seq, "", "", "", "", "", prev, digest, "1"])
        else:
            table.writerow(
                [seq, at, actor, action, "" if initiative is None else initiative, payload, prev, digest, ""]
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
    for seq, at, actor, action, initiative, payload, prev, digest in rows:
        if _withheld(initiative, only):
            withheld += 1
            event = {"seq": seq, "withheld": True, "prev_hash": prev, "hash": digest}
        else:
            event = {
                "seq": seq,
                "recorded_at": at,
                "actor": actor,
                "action": action,
                "initiative": initiative,
                "payload": _payload_value(payload),
                "prev_hash": prev,
                "hash": digest,
            }
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
    writer.write("\n]," + canonical_json(trailer)[1:] + "\n")
    return count, withheld


# Nightly verification ------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerificationOutcome:
    intact: bool
    summary: ChainSummary | None = None
    problem: str = ""
    alerted: int = 0


def ledger_verify_and_alert(
    *, anchor_path: str | None = None, now: dt.datetime | None = None
) -> VerificationOutcome:
    """Verify the whole chain strictly (and against the anchor file, if one is kept).

    On failure, the chair and the auditors are alerted through the outbox, once per day whatever
    the number of runs. Ledger: none (reading changes nothing).
    """
    now = now or timezone.now()
    try:
        anchor = Anchor.load(anchor_path) if anchor_path else None
        summary = verify_ledger(anchor=anchor, strict=True)
    except ChainBroken as broken:
        subject = f"[ValueGate] Ledger verification failed at event #{broken.seq}"
        problem = f"Event #{broken.seq}: {broken.problem}."
    except ValueError as unreadable:  # the anchor file is missing or damaged
        subject = "[ValueGate] Ledger verification could not check the anchor"
        problem = str(unreadable)
    else:
        return VerificationOutcome(intact=True, summary=summary)
    body = (
        f"The nightly verification of the decision ledger on {now:%Y-%m-%d %H:%M} UTC failed.\n\n"
        f"{problem}\n\n"
        "Run `python manage.py verify_ledger` (with --anchor and your latest anchor) to see it again, "
        "and compare with the exports and anchors kept outside the database."
    )
    with transaction.atomic():
        alerted = notify(
            recipients=members_of([roles.COMMITTEE_CHAIR, roles.AUDITORS]),
            event_key=f"ledger-verification-failed-{now:%Y-%m-%d}",
            event=NotificationEvent.LEDGER_VERIFICATION_FAILED,
            to_do="Run verify_ledger and compare with the exports and anchors kept outside the database.",
            subject=subject,
            body=body,
        )
    return VerificationOutcome(intact=False, problem=problem, alerted=alerted)
