#!/usr/bin/env python3
"""Verify a ValueGate ledger export with the Python standard library alone: no Django, no database.

    python3 verify_export.py EXPORT.csv|EXPORT.json [--anchor ANCHOR.json] [--head SEQ:HASH]
                             [--prev-hash HASH]

Exit status: 0 the export is intact; 1 it was altered or is inconsistent (the first bad sequence
number is named); 2 it cannot be read.

The ledger's canonical form (the same as README.md, "The ledger's canonical form")
--------------------------------------------------------------------------------
Each event's hash is the SHA-256, in lowercase hex, of the UTF-8 bytes of the canonical JSON of
the object {"seq", "recorded_at", "actor", "action", "initiative", "payload", "prev_hash"}:

- object keys sorted by code point, no whitespace: separators are "," and ":";
- text normalised to Unicode NFC and written as UTF-8, not \\u-escaped: only the quote, the
  backslash and control characters are escaped, exactly as Python's
  json.dumps(..., ensure_ascii=False) writes them;
- integers as JSON numbers, true/false/null as literals; floats, NaN and infinities never appear;
- decimals (amounts, KPI values) as strings holding their exact digits, e.g. "12.500000";
- times in UTC as "YYYY-MM-DDTHH:MM:SS.ffffffZ", dates as "YYYY-MM-DD" (both are strings);
- seq counts from 1 without gaps; initiative is an integer id or null; prev_hash is the hash of
  event seq - 1, and 64 zeros for event 1.

What is checked
---------------
- every event's hash, recomputed from its fields in canonical form;
- every link: the sequence has no gap and each prev_hash equals the hash of the event before;
- the first event: at seq 1 it must follow 64 zeros; an export of a later period starts mid-chain,
  so its first prev_hash is taken as given, or checked against --prev-hash (e.g. the last hash of
  the previous period's export);
- withheld events (in an export of one initiative, the other initiatives' events keep only seq,
  prev_hash and hash): their links are checked, their content is not shown and not rechecked;
- --anchor FILE (written by `manage.py ledger_anchor`) or --head SEQ:HASH: the export must contain
  that event with that hash, which proves its chain is the one anchored (not recomputed) up to
  there; an anchor beyond the export's last event is reported, as the export cannot show it;
- a JSON export's own counts and bounds must match its events.

CSV is read as a stream (constant memory); a JSON export is read whole.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import re
import sys
import unicodedata

GENESIS_HASH = "0" * 64
HEX64 = re.compile(r"[0-9a-f]{64}")
UTC_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
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


class Unreadable(Exception):
    """The export cannot be read at all (exit status 2)."""


class Broken(Exception):
    """The export was altered or is inconsistent at event `seq` (exit status 1)."""

    def __init__(self, seq, problem: str):
        super().__init__(f"Event #{seq}: {problem}")
        self.seq = seq
        self.problem = problem


class NotCanonical(ValueError):
    pass


class _Float(str):
    """A number with a fraction or exponent, kept as its text so the event can be named."""


def _refuse_constant(name: str):
    return _Float(name)


class _RepeatedKeys(dict):
    """An object in which a key appeared twice: JSON keeps the last value, canonical JSON has none."""


def _unique_keys(pairs):
    result = dict(pairs)
    return result if len(result) == len(pairs) else _RepeatedKeys(result)


def parse_json(text: str):
    return json.loads(
        text, parse_float=_Float, parse_constant=_refuse_constant, object_pairs_hook=_unique_keys
    )


def normalise(value):
    """The canonical value of parsed JSON: NFC text; floats and duplicate keys refused."""
    if isinstance(value, _Float):
        raise NotCanonical(f"{value} is a float; numbers with fractions are recorded as strings")
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, list):
        return [normalise(item) for item in value]
    if isinstance(value, _RepeatedKeys):
        raise NotCanonical("an object has the same key twice")
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            text = unicodedata.normalize("NFC", key)
            if text in result:
                raise NotCanonical(f"two keys read as {text!r} once normalised")
            result[text] = normalise(item)
        return result
    raise NotCanonical(f"{type(value).__name__} has no canonical form")


def canonical_json(value) -> str:
    return json.dumps(
        normalise(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def event_hash(event: dict) -> str:
    hashed = {
        key: event[key]
        for key in ("seq", "recorded_at", "actor", "action", "initiative", "payload", "prev_hash")
    }
    return hashlib.sha256(canonical_json(hashed).encode("utf-8")).hexdigest()


# Reading the two formats into the same events ---------------------------------------------------


def csv_events(stream):
    reader = csv.reader(stream)
    try:
        header = next(reader)
    except StopIteration:
        raise Unreadable("the file is empty") from None
    except csv.Error as error:
        raise Unreadable(f"not CSV: {error}") from None
    if header != CSV_COLUMNS:
        raise Unreadable(f"unexpected CSV columns {header}; expected {CSV_COLUMNS}")
    line = 1
    try:
        for row in reader:
            line += 1
            if len(row) != len(CSV_COLUMNS):
                raise Broken(row[0] if row else f"(line {line})", f"line {line} has {len(row)} fields, not 9")
            seq, recorded_at, actor, action, initiative, payload, prev_hash, digest, withheld = row
            try:
                seq = int(seq)
            except ValueError:
                raise Broken(f"(line {line})", f"{seq!r} is not a sequence number") from None
            if withheld == "1":
                yield {"seq": seq, "withheld": True, "prev_hash": prev_hash, "hash": digest}
                continue
            event = {
                "seq": seq,
                "recorded_at": recorded_at,
                "actor": actor,
                "action": action,
                "prev_hash": prev_hash,
                "hash": digest,
            }
            try:
                event["initiative"] = int(initiative) if initiative != "" else None
            except ValueError:
                raise Broken(seq, f"its initiative {initiative!r} is not an id") from None
            try:
                event["payload"] = parse_json(payload)
            except (ValueError, NotCanonical) as error:
                raise Broken(seq, f"its payload is not canonical JSON ({error})") from None
            yield event
    except csv.Error as error:
        raise Unreadable(f"line {line}: {error}") from None


def json_export(stream) -> tuple[dict, list]:
    try:
        document = parse_json(stream.read())
    except (ValueError, NotCanonical) as error:
        raise Unreadable(f"not JSON: {error}") from None
    if not isinstance(document, dict) or document.get("format") != "valuegate-ledger-export":
        raise Unreadable("not a ValueGate ledger export")
    if document.get("version") != 1:
        raise Unreadable(f"export version {document.get('version')!r} is not supported (1 is)")
    events = document.get("events")
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        raise Unreadable("its events are not a list of objects")
    return document, events


# Verification -------------------------------------------------------------------------------------


def check_event(event: dict, expected_seq: int | None, prev_hash: str | None) -> None:
    seq = event.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise Broken(seq, "its sequence number is not a positive integer")
    if expected_seq is not None and seq != expected_seq:
        if seq > expected_seq:
            raise Broken(expected_seq, f"missing: the next event in the export is #{seq}")
        raise Broken(seq, f"out of order: it comes after #{expected_seq - 1}")
    digest, prev = event.get("hash"), event.get("prev_hash")
    for name, value in (("hash", digest), ("prev_hash", prev)):
        if not isinstance(value, str) or not HEX64.fullmatch(value):
            raise Broken(seq, f"its {name} is not 64 lowercase hex digits")
    if prev_hash is not None and prev != prev_hash:
        if expected_seq is None:
            raise Broken(seq, "its previous hash is not the one given with --prev-hash")
        raise Broken(seq, f"its previous hash does not match the hash of event #{seq - 1}")
    if seq == 1 and prev != GENESIS_HASH:
        raise Broken(seq, "the first event of the ledger does not follow the genesis hash (64 zeros)")
    if event.get("withheld") is True:
        return
    for name in ("actor", "action", "recorded_at"):
        if not isinstance(event.get(name), str):
            raise Broken(seq, f"its {name} is missing or not text")
    if not UTC_TIME.fullmatch(event["recorded_at"]):
        raise Broken(
            seq, f"its time {event['recorded_at']!r} is not canonical UTC (YYYY-MM-DDTHH:MM:SS.ffffffZ)"
        )
    initiative = event.get("initiative", "missing")
    if initiative is not None and (not isinstance(initiative, int) or isinstance(initiative, bool)):
        raise Broken(seq, "its initiative is not an integer id or null")
    if "payload" not in event:
        raise Broken(seq, "its payload is missing")
    try:
        recomputed = event_hash(event)
    except NotCanonical as error:
        raise Broken(seq, f"it cannot be encoded canonically ({error})") from None
    if recomputed != digest:
        raise Broken(seq, "its content does not match its hash: it was altered")


def verify(events, *, prev_hash: str | None = None, anchor: tuple[int, str] | None = None) -> dict:
    """Check events in order; return what was verified, or raise Broken at the first fault."""
    expected_seq = None
    first = last = None
    count = withheld = 0
    anchor_seen = False
    for event in events:
        check_event(event, expected_seq, prev_hash)
        seq = event["seq"]
        if first is None:
            first = seq
            first_prev = event["prev_hash"]
        if anchor is not None and seq == anchor[0]:
            if event["hash"] != anchor[1]:
                raise Broken(
                    seq,
                    f"its hash {event['hash'][:16]}… differs from the anchor ({anchor[1][:16]}…): "
                    "the chain was recomputed at or before this event",
                )
            anchor_seen = True
        prev_hash, expected_seq, last = event["hash"], seq + 1, seq
        count += 1
        withheld += event.get("withheld") is True
    if anchor is not None and not anchor_seen and anchor[0] > 0:
        if last is None or anchor[0] > last:
            end = f"#{last}" if last is not None else "no event"
            raise Broken(
                (last or 0) + 1,
                f"missing: the anchor records event #{anchor[0]}, the export ends at {end}: "
                "its tail was cut, or it covers a period that ends before the anchor",
            )
        raise Unreadable(f"the anchor's event #{anchor[0]} comes before this export's first event #{first}")
    return {
        "events": count,
        "withheld": withheld,
        "first_seq": first,
        "last_seq": last,
        "first_prev_hash": first_prev if first is not None else None,
        "last_hash": prev_hash if first is not None else None,
    }


def _anchor(args) -> tuple[int, str] | None:
    if args.anchor:
        try:
            with open(args.anchor, encoding="utf-8") as handle:
                data = json.load(handle)
            seq, digest = data["seq"], data["hash"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise Unreadable(f"cannot read the anchor {args.anchor}: {error}") from None
    elif args.head:
        seq, _, digest = args.head.partition(":")
        try:
            seq = int(seq)
        except ValueError:
            raise Unreadable("--head is SEQ:HASH") from None
    else:
        return None
    if (
        not isinstance(seq, int)
        or isinstance(seq, bool)
        or not isinstance(digest, str)
        or not HEX64.fullmatch(digest)
    ):
        raise Unreadable("an anchor is a sequence number and a 64-hex-digit hash")
    return seq, digest


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Verify a ValueGate ledger export (CSV or JSON).")
    parser.add_argument("export", help="the exported file")
    parser.add_argument("--anchor", metavar="FILE", help="an anchor from `manage.py ledger_anchor`")
    parser.add_argument("--head", metavar="SEQ:HASH", help="the same, given inline")
    parser.add_argument("--prev-hash", metavar="HASH", help="the hash the export's first event must follow")
    args = parser.parse_args(argv)
    try:
        anchor = _anchor(args)
        if args.prev_hash is not None and not HEX64.fullmatch(args.prev_hash):
            raise Unreadable("--prev-hash is 64 lowercase hex digits")
        with open(args.export, encoding="utf-8", newline="") as stream:
            start = stream.read(1)
            while start.isspace():
                start = stream.read(1)
            stream.seek(0)
            if start == "{":
                document, events = json_export(stream)
                result = verify(events, prev_hash=args.prev_hash, anchor=anchor)
                for key in ("count", "first_seq", "last_seq", "withheld"):
                    expected = result["events" if key == "count" else key]
                    if document.get(key) != expected:
                        raise Broken(
                            result["last_seq"],
                            f"the export says {key} = {document.get(key)!r}, its events give {expected!r}",
                        )
            else:
                result = verify(csv_events(stream), prev_hash=args.prev_hash, anchor=anchor)
    except Unreadable as error:
        print(f"Cannot verify {args.export}: {error}", file=sys.stderr)
        return 2
    except (OSError, UnicodeDecodeError) as error:
        print(f"Cannot verify {args.export}: {error}", file=sys.stderr)
        return 2
    except Broken as broken:
        print(f"Export verification FAILED at event #{broken.seq}: {broken.problem}.", file=sys.stderr)
        return 1
    if result["events"] == 0:
        print("Export intact: it holds no events.")
        return 0
    withheld = f", {result['withheld']} withheld" if result["withheld"] else ""
    print(
        f"Export intact: {result['events']} events #{result['first_seq']}–#{result['last_seq']}{withheld}; "
        f"last hash {result['last_hash']}"
    )
    print(f"Its first event follows {result['first_prev_hash']}.")
    if anchor is not None:
        print(f"Anchor #{anchor[0]} ({anchor[1]}) is in the export's chain.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
