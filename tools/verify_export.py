#!/usr/bin/env python3
"""Verify a ValueGate ledger export offline: the standard library and `cryptography` (Ed25519), no Django.

    python3 verify_export.py EXPORT.json|EXPORT.csv --public-key KEY [--public-key KEY ...]
                             [--checkpoint FILE ...] [--receipt FILE ...] [--prev-hash HASH]
                             [--anchor FILE | --head SEQ:HASH]

KEY is a verifier key text ``<name>+<8 hex key id>+<base64(0x01 || Ed25519 public key)>`` (what
`manage.py ledger_public_key` prints) or a file holding such lines (blank and '#' lines skipped).
Only the keys given here are trusted: the keys an export lists in its header are not.

Exit status: 0 the export is intact; 1 it was tampered with or is inconsistent (the first bad
sequence number and what is wrong are named); 2 it cannot be verified (unreadable or malformed
file, no or bad --public-key, a checkpoint or receipt that is not genuine, --checkpoint with CSV).

What an event's hash and signature cover (mirrors governance/ledger/content.py)
-------------------------------------------------------------------------------
Signed events ("format 2"): content = the canonical JSON object
    {"action","actor","actor_id","initiative","nonce","payload","recorded_at"}
keys sorted, separators "," and ":", text as UTF-8 (json.dumps(ensure_ascii=False) escaping), the
payload being its own canonical JSON (keys sorted, no whitespace, not ASCII-escaped; the export
carries it as a JSON value, which is re-encoded so). Nothing is normalised: a name rewritten into
another Unicode form no longer matches. Leaf input = "valuegate-event\\n" + initiative id (or "-")
+ "\\n" + hex SHA-256(content) + "\\n"; `hash` = SHA-256(0x00 || leaf input) (RFC 9162 leaf hash);
the Ed25519 signature (base64) covers "valuegate-ledger-event\\n" + hash + "\\n" + recorded_at +
"\\n". Their prev_hash is null.

Events of the hash chain written before signing ("format 1", no signature): `hash` = SHA-256 of
the canonical JSON {"action","actor","initiative","payload","prev_hash","recorded_at","seq"} with
actor and action normalised to NFC (and the payload text required to be NFC); prev_hash is the
hash of the event before (64 zeros for event 1). Their leaf input names `hash` as the content
digest. They all come before the first signed event.

Withheld events (an export of one initiative withholds the others' content) keep seq, initiative,
recorded_at, content_sha256, key_id, signature, prev_hash and hash: the leaf is recomputed from
(initiative, content_sha256) and the signature checked, so they still prove to which initiative
they belong and rebuild the tree, without being readable.

The JSON export (version 2)
---------------------------
A header {format, version, exported_at, exported_by, since, until, initiative, genesis_hash,
origin, public_keys, checkpoint, tree}, then "events" (one per line), then count, withheld,
first_seq, last_seq and `statement`: a signed note "valuegate-ledger-export\n" + the canonical JSON
of {exported_at, exported_by, since, until, initiative, origin, tree_size, root, count, withheld,
first_seq, last_seq}, so the period, scope and bounds cannot be changed after the server wrote
them. `checkpoint` is a C2SP signed note (c2sp.org/tlog-checkpoint: origin, tree
size, base64 root) of the whole tree when exporting. `tree` = {size; left: [[level, hex]...] the
perfect subtrees left of the first exported event, largest first; right: [[level, hex]...] the
aligned perfect subtrees tiling the leaves after the last exported event up to `size`, left to
right; consistency: [{size, root, proof}] RFC 9162 consistency proofs from every checkpoint
published before to this one}.

What is checked
---------------
1. every full event: its hash recomputed from its fields, its signature by a key you gave (an
   unknown key id is a forgery), or for format-1 events their chain link and chain hash;
2. withheld events: allowed only in an export of one initiative and only for other initiatives;
   their leaf recomputed and their signature checked;
3. the sequence has no gap; the export's counts and bounds match its events;
4. (JSON) the tree: `left`, every event's leaf, then `right` rebuild a tree of `tree.size` leaves
   whose root must be the root of the export's checkpoint, which must be signed by a key you gave
   for the export's origin; the signed statement must name the header's period, scope and origin,
   the trailer's bounds and that tree;
5. (JSON) --checkpoint FILE, a checkpoint you kept (signed by a key you gave): same size, same
   root; smaller, its root must be proved consistent with the export's checkpoint by the proof in
   the export (and it is compared directly when its size falls within the exported events);
   larger: events were cut;
6. --receipt FILE (a decision's receipt: hash, recorded_at, key_id, signature, action), signed by a
   key you gave: its event must be in the export if it was recorded within the export's period;
7. --anchor FILE / --head SEQ:HASH (anchors of the hash chain): event SEQ must have that hash.
   --prev-hash HASH: the export's first (format-1) event must follow HASH.

Which tampering needs what
--------------------------
- an edited, forged or re-signed event, a rewritten name, a withheld event disguised: the public
  key alone (format-1 events: a checkpoint, or an anchor, taken after them);
- a deleted, inserted, reordered or renumbered event, a rewritten tree: the export's own checkpoint
  and the public key (JSON only);
- an export cut short, or a ledger rewritten and re-checkpointed since: a checkpoint you kept
  from earlier (--checkpoint), or the receipt of a decision that was cut (--receipt).
CSV exports carry the events only: checks 1-3 (and receipts found or not); use the JSON export
for checkpoints.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import csv
import datetime as dt
import hashlib
import json
import re
import sys
import unicodedata

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError:  # pragma: no cover - reported when it matters
    Ed25519PublicKey = None
    InvalidSignature = Exception

EXPORT_FORMAT = "valuegate-ledger-export"
EXPORT_VERSION = 2
GENESIS_HASH = "0" * 64
LEAF_PREFIX = "valuegate-event\n"
EVENT_SIGNATURE_PREFIX = "valuegate-ledger-event\n"
NOTE_SIGNATURE_PREFIX = "\u2014 "  # em dash, space
MAX_NOTE_SIGNATURES = 100
HEX64 = re.compile(r"[0-9a-f]{64}")
KEY_ID = re.compile(r"[0-9a-f]{8}")
UTC_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
TREE_SIZE = re.compile(r"0|[1-9][0-9]*", re.ASCII)
LOOKS_LIKE_VERIFIER_KEY = re.compile(r"[^+\s]+\+[0-9A-Fa-f]{8}\+\S*")
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


class Unreadable(Exception):
    """The export, a key, a checkpoint or a receipt cannot be used (exit status 2)."""


class Broken(Exception):
    """The export was tampered with or is inconsistent at event `seq` (exit status 1)."""

    def __init__(self, seq, problem: str):
        super().__init__(f"Event #{seq}: {problem}")
        self.seq = seq
        self.problem = problem


class NotCanonical(ValueError):
    pass


# Strict base64, keys and signed notes (mirrors governance/ledger/signing.py and notes.py) ---------


def decode_base64(text: str) -> bytes:
    """Strict, canonical standard base64; ValueError otherwise."""
    if not isinstance(text, str):
        raise ValueError("not text")
    try:
        raw = binascii.a2b_base64(text.encode("ascii"), strict_mode=True)
    except (UnicodeEncodeError, binascii.Error):
        raise ValueError("not valid base64") from None
    if binascii.b2a_base64(raw, newline=False).decode("ascii") != text:
        raise ValueError("not in canonical base64")
    return raw


def is_valid_key_name(name: str) -> bool:
    if not isinstance(name, str) or not name or "+" in name:
        return False
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in name):
        return False
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def key_hash_of(name: str, public: bytes) -> int:
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + b"\x01" + public).digest()
    return int.from_bytes(digest[:4], "big")


class VerifierKey:
    def __init__(self, name: str, key_hash: int, public: bytes):
        self.name, self.key_hash, self.public = name, key_hash, public
        try:
            self._key = Ed25519PublicKey.from_public_bytes(public)
        except ValueError:
            raise Unreadable(f"verifier key {name}+{key_hash:08x} is not an Ed25519 public key") from None

    @property
    def key_id(self) -> str:
        return f"{self.key_hash:08x}"

    @property
    def label(self) -> str:
        return f"{self.name}+{self.key_id}"

    def __eq__(self, other) -> bool:
        return isinstance(other, VerifierKey) and (self.name, self.key_hash, self.public) == (
            other.name,
            other.key_hash,
            other.public,
        )

    def __hash__(self) -> int:
        return hash((self.name, self.key_hash, self.public))

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        if text.startswith("PRIVATE+"):
            raise Unreadable("a private signer key (PRIVATE+KEY+...) was given; give its public key")
        name, plus1, rest = text.partition("+")
        hash_text, plus2, key_text = rest.partition("+")
        if not plus1 or not plus2:
            raise Unreadable("a verifier key has the form <name>+<hash>+<key>")
        if not is_valid_key_name(name):
            raise Unreadable("a verifier key's name must be non-empty, without white space, '+' or controls")
        if not KEY_ID.fullmatch(hash_text):
            raise Unreadable(f"verifier key {name}: the key hash must be 8 lowercase hex digits")
        try:
            data = decode_base64(key_text)
        except ValueError as error:
            raise Unreadable(f"verifier key {name}: the key data is {error}") from None
        if not data or data[0] != 0x01:
            raise Unreadable(f"verifier key {name}: only Ed25519 keys (algorithm 0x01) are known")
        if len(data) != 33:
            raise Unreadable(f"verifier key {name}: an Ed25519 key is 32 bytes, not {len(data) - 1}")
        public = data[1:]
        if int(hash_text, 16) != key_hash_of(name, public):
            raise Unreadable(f"verifier key {name}+{hash_text}: the key hash does not match the key")
        return cls(name, int(hash_text, 16), public)

    def verify(self, message: bytes, signature: bytes) -> bool:
        if not isinstance(signature, bytes) or len(signature) != 64:
            return False
        try:
            self._key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


def load_keys(values) -> dict[str, VerifierKey]:
    """The --public-key values (key texts or files of them), by key id."""
    keys: dict[str, VerifierKey] = {}

    def add(key: VerifierKey, where: str) -> None:
        known = keys.get(key.key_id)
        if known is not None and known != key:
            raise Unreadable(f"{where}: two different keys have the key id {key.key_id}")
        keys[key.key_id] = key

    for position, raw in enumerate(values or (), start=1):
        value = (raw or "").strip()
        if not value:
            continue
        if value.startswith("PRIVATE+"):
            raise Unreadable(f"--public-key #{position} is a private signer key; give its public key")
        if LOOKS_LIKE_VERIFIER_KEY.fullmatch(value):
            try:
                add(VerifierKey.parse(value), f"--public-key #{position}")
            except Unreadable as error:
                raise Unreadable(f"--public-key #{position}: {error}") from None
            continue
        try:
            with open(value, encoding="utf-8") as handle:
                lines = handle.read().splitlines()
        except (OSError, UnicodeDecodeError) as error:
            raise Unreadable(
                f"--public-key #{position} is neither a key nor a readable key file: {error}"
            ) from None
        for number, line in enumerate(lines, start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            try:
                add(VerifierKey.parse(line), f"{value}, line {number}")
            except Unreadable as error:
                raise Unreadable(f"{value}, line {number}: {error}") from None
    return keys


class NoteError(ValueError):
    pass


def _check_characters(text: str, what: str) -> None:
    for position, ch in enumerate(text):
        if ord(ch) < 0x20 and ch != "\n":
            raise NoteError(f"{what} holds control character U+{ord(ch):04X} at offset {position}")


def open_note(note: str, keys: dict[str, VerifierKey]) -> tuple[str, list[VerifierKey]]:
    """The text of a signed note and the given keys that signed it; NoteError unless one did."""
    if not isinstance(note, str):
        raise NoteError("a note is text")
    _check_characters(note, "the note")
    known: dict[tuple[str, int], VerifierKey] = {(k.name, k.key_hash): k for k in keys.values()}
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("the note has no blank line before its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block:
        raise NoteError("the note has no signature")
    if not block.endswith("\n"):
        raise NoteError("the note's last signature line does not end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_NOTE_SIGNATURES:
        raise NoteError(f"the note has more than {MAX_NOTE_SIGNATURES} signatures")
    message = text.encode("utf-8")
    verified: list[VerifierKey] = []
    unknown: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.startswith(NOTE_SIGNATURE_PREFIX):
            raise NoteError(f"signature line {number} does not start with an em dash and a space")
        name, space, b64 = line[len(NOTE_SIGNATURE_PREFIX) :].partition(" ")
        if not is_valid_key_name(name):
            raise NoteError(f"signature line {number} has no valid key name")
        if not space or not b64:
            raise NoteError(f"signature line {number} ({name}) has no signature")
        try:
            raw = decode_base64(b64)
        except ValueError as error:
            raise NoteError(f"the signature by {name} is {error}") from None
        if len(raw) < 5:
            raise NoteError(f"the signature by {name} is too short")
        key_hash, signature = int.from_bytes(raw[:4], "big"), raw[4:]
        key = known.get((name, key_hash))
        if key is None:
            label = f"{name}+{key_hash:08x}"
            if label not in unknown:
                unknown.append(label)
            continue
        if not key.verify(message, signature):
            raise NoteError(f"the signature by {key.label} does not verify")
        if key not in verified:
            verified.append(key)
    if not verified:
        if unknown:
            raise NoteError(f"it is signed only by keys you did not give ({', '.join(unknown)})")
        raise NoteError("it is signed by no key you gave")
    return text, verified


def parse_checkpoint(text: str) -> tuple[str, int, bytes]:
    """(origin, size, root) of a checkpoint's note text (c2sp.org/tlog-checkpoint), strictly."""
    if not text.endswith("\n"):
        raise NoteError("the checkpoint must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError("the checkpoint needs an origin, a tree size and a root hash line")
    origin, size_text, root_text, *extensions = lines
    if not origin:
        raise NoteError("the checkpoint origin is empty")
    if not TREE_SIZE.fullmatch(size_text) or int(size_text) > 2**63 - 1:
        raise NoteError("the checkpoint tree size is not a decimal size")
    try:
        root = decode_base64(root_text)
    except ValueError as error:
        raise NoteError(f"the checkpoint root hash is {error}") from None
    if len(root) != 32:
        raise NoteError(f"the checkpoint root hash is {len(root)} bytes, not 32")
    if any(not line for line in extensions):
        raise NoteError("the checkpoint has an empty extension line")
    return origin, int(size_text), root


def open_checkpoint(note: str, keys: dict[str, VerifierKey]) -> tuple[str, int, bytes, list[VerifierKey]]:
    text, signers = open_note(note, keys)
    origin, size, root = parse_checkpoint(text)
    return origin, size, root, signers


# RFC 9162 Merkle tree (mirrors governance/ledger/merkle.py) -----------------------------------------

EMPTY_ROOT = hashlib.sha256(b"").digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def frontier_levels(size: int) -> list[int]:
    """The levels of the perfect subtrees making up a tree of `size` leaves, largest first."""
    return [level for level in range(size.bit_length() - 1, -1, -1) if size >> level & 1]


class TreeBuilder:
    def __init__(self, frontier: list[tuple[int, bytes]], size: int):
        if [level for level, _ in frontier] != frontier_levels(size):
            raise ValueError(f"the subtrees' levels do not make up a tree of {size} leaves")
        self.frontier, self.size = list(frontier), size

    def append_subtree(self, level: int, node: bytes) -> None:
        """Add an aligned perfect subtree of 2**level leaves (a leaf hash at level 0)."""
        if self.size % (1 << level):
            raise ValueError(f"a subtree of level {level} cannot start at leaf {self.size}")
        start_level, current = level, node
        while self.frontier and self.frontier[-1][0] == level:
            _, left = self.frontier.pop()
            current, level = node_hash(left, current), level + 1
        self.frontier.append((level, current))
        self.size += 1 << start_level

    def root(self) -> bytes:
        if not self.frontier:
            return EMPTY_ROOT
        root = self.frontier[-1][1]
        for _, node in reversed(self.frontier[:-1]):
            root = node_hash(node, root)
        return root


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof) -> bool:
    """RFC 9162 section 2.1.4.2."""
    if not 0 <= old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof
    if not proof or any(len(p) != 32 for p in proof):
        return False
    path = [old_root, *proof] if old_size & (old_size - 1) == 0 else list(proof)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root


# Event content (mirrors governance/ledger/content.py) -----------------------------------------------

_text = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) writes for a str


def signed_content(*, recorded_at, actor_id, actor, action, initiative, nonce, payload: str) -> bytes:
    return (
        f'{{"action":{_text(action)},"actor":{_text(actor)}'
        f',"actor_id":{"null" if actor_id is None else int(actor_id)}'
        f',"initiative":{"null" if initiative is None else int(initiative)}'
        f',"nonce":{_text(nonce)},"payload":{payload},"recorded_at":{_text(recorded_at)}}}'
    ).encode()


def chained_content(*, seq, recorded_at, actor, action, initiative, payload: str, prev_hash) -> bytes:
    nfc = lambda text: unicodedata.normalize("NFC", text)  # noqa: E731
    return (
        f'{{"action":{_text(nfc(action))},"actor":{_text(nfc(actor))}'
        f',"initiative":{"null" if initiative is None else int(initiative)}'
        f',"payload":{payload},"prev_hash":{_text(prev_hash)}'
        f',"recorded_at":{_text(recorded_at)},"seq":{int(seq)}}}'
    ).encode()


def leaf_hash_hex(initiative, content_digest: str) -> str:
    leaf_input = f"{LEAF_PREFIX}{'-' if initiative is None else int(initiative)}\n{content_digest}\n".encode()
    return hashlib.sha256(b"\x00" + leaf_input).hexdigest()


def signed_message(leaf_hash: str, recorded_at: str) -> bytes:
    return f"{EVENT_SIGNATURE_PREFIX}{leaf_hash}\n{recorded_at}\n".encode()


# Reading JSON strictly ----------------------------------------------------------------------------


class _Float(str):
    """A number with a fraction or exponent (or NaN/Infinity), kept as its text: never canonical."""


class _RepeatedKeys(dict):
    """An object in which a key appeared twice."""


def _unique_keys(pairs):
    result = dict(pairs)
    return result if len(result) == len(pairs) else _RepeatedKeys(result)


def parse_json(text: str):
    return json.loads(text, parse_float=_Float, parse_constant=_Float, object_pairs_hook=_unique_keys)


def _check_value(value) -> None:
    if isinstance(value, _Float):
        raise NotCanonical(f"{value} is a float; the ledger records numbers with fractions as strings")
    if isinstance(value, _RepeatedKeys):
        raise NotCanonical("an object has the same key twice")
    if isinstance(value, dict):
        for item in value.values():
            _check_value(item)
    elif isinstance(value, list):
        for item in value:
            _check_value(item)


def payload_text(value) -> str:
    """The canonical JSON text of a payload value, as the ledger stores it."""
    _check_value(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_id(value) -> bool:
    return value is None or _is_int(value)


# Verifying the events -----------------------------------------------------------------------------


class EventChecker:
    """Checks events one by one, in order; keeps what the tree and the summary need."""

    def __init__(self, keys, *, only_initiative=None, initiative_known=True, prev_hash=None, anchor=None):
        self.keys = keys
        self.only = only_initiative  # the exported initiative (JSON header), or None for a full export
        self.initiative_known = initiative_known  # False for CSV: inferred from the full events
        self.given_prev = prev_hash
        self.anchor = anchor
        self.anchor_seen = False
        self.expected = None
        self.chain_hash = None  # hash of the previous format-1 event
        self.signed_seen = False
        self.first = self.last = None
        self.count = self.withheld = self.signatures = self.chained = 0
        self.hashes: set[str] = set()
        self.leaves: list[bytes] = []
        self.first_prev = None
        self.full_initiatives: set = set()
        self.withheld_initiatives: set = set()

    def _signature(self, seq, event: dict, leaf: str) -> None:
        key_id, signature = event.get("key_id"), event.get("signature")
        if not isinstance(key_id, str) or not isinstance(signature, str):
            raise Broken(seq, "its key id or signature is missing")
        key = self.keys.get(key_id)
        if key is None:
            raise Broken(seq, f"it is signed with a key you did not give (key id {key_id!r}): it was forged")
        try:
            raw = base64.b64decode(signature, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if not key.verify(signed_message(leaf, event["recorded_at"]), raw):
            raise Broken(seq, f"its signature by {key.label} does not verify: it was forged or edited")
        self.signatures += 1

    def check(self, event: dict) -> str:
        """Check one event; return its leaf hash (hex)."""
        if not isinstance(event, dict):
            raise Broken(self.expected, "an event is not an object")
        seq = event.get("seq")
        if not _is_int(seq) or seq < 1:
            raise Broken(seq, "its sequence number is not a positive integer")
        if self.expected is not None and seq != self.expected:
            if seq > self.expected:
                raise Broken(
                    self.expected, f"missing: the next event in the export is #{seq}; it was deleted"
                )
            raise Broken(seq, f"out of order: it comes after #{self.expected - 1}")
        digest, prev = event.get("hash"), event.get("prev_hash")
        if not isinstance(digest, str) or not HEX64.fullmatch(digest):
            raise Broken(seq, "its hash is not 64 lowercase hex digits")
        if prev is not None and (not isinstance(prev, str) or not HEX64.fullmatch(prev)):
            raise Broken(seq, "its prev_hash is neither null nor 64 lowercase hex digits")
        at = event.get("recorded_at")
        if not isinstance(at, str) or not UTC_TIME.fullmatch(at):
            raise Broken(seq, f"its time {at!r} is not canonical UTC (YYYY-MM-DDTHH:MM:SS.ffffffZ)")
        initiative = event.get("initiative", "missing")
        if not _is_id(initiative):
            raise Broken(seq, "its initiative is not an integer id or null")
        signed = bool(event.get("signature"))
        withheld = event.get("withheld", False)
        if withheld not in (True, False):
            raise Broken(seq, "its withheld mark is neither true nor absent")

        if withheld:
            leaf = self._withheld(seq, event, signed, initiative, digest, prev)
        elif signed:
            leaf = self._signed(seq, event, initiative, digest, prev)
        else:
            leaf = self._chained(seq, event, initiative, digest, prev)

        if self.anchor is not None and seq == self.anchor[0]:
            if digest != self.anchor[1]:
                raise Broken(
                    seq,
                    f"its hash {digest[:16]}… differs from the anchor ({self.anchor[1][:16]}…): "
                    "the ledger was rewritten at or before this event",
                )
            self.anchor_seen = True
        if self.first is None:
            self.first = seq
        self.last, self.expected = seq, seq + 1
        self.count += 1
        self.hashes.add(digest)
        return leaf

    def _link(self, seq, prev) -> None:
        """A format-1 event's chain link."""
        if self.signed_seen:
            raise Broken(seq, "it is unsigned, after signed events: it was forged")
        if prev is None:
            raise Broken(seq, "an event of the hash chain has no previous hash")
        if self.chain_hash is not None:
            if prev != self.chain_hash:
                raise Broken(seq, f"its previous hash does not match the hash of event #{seq - 1}")
        elif seq == 1:
            if prev != GENESIS_HASH:
                raise Broken(seq, "the first event of the ledger does not follow the genesis hash (64 zeros)")
        elif self.count == 0:
            if self.given_prev is not None and prev != self.given_prev:
                raise Broken(seq, "its previous hash is not the one given with --prev-hash")
            self.first_prev = prev
        else:  # a format-1 event after a withheld signed one, or after a gap in the chain
            raise Broken(seq, "it is unsigned, after signed events: it was forged")

    def _signed(self, seq, event, initiative, digest, prev) -> str:
        self.signed_seen = True
        self.chain_hash = None
        if prev is not None:
            raise Broken(seq, "a signed event has gained a chain hash: it was edited")
        for name in ("actor", "action", "nonce"):
            if not isinstance(event.get(name), str):
                raise Broken(seq, f"its {name} is missing or not text")
        if not _is_id(event.get("actor_id", "missing")):
            raise Broken(seq, "its actor_id is not an integer id or null")
        if "payload" not in event:
            raise Broken(seq, "its payload is missing")
        try:
            text = event["_payload_text"] if "_payload_text" in event else payload_text(event["payload"])
        except NotCanonical as error:
            raise Broken(seq, f"its payload is not canonical JSON ({error}): it was rewritten") from None
        content = signed_content(
            recorded_at=event["recorded_at"],
            actor_id=event["actor_id"],
            actor=event["actor"],
            action=event["action"],
            initiative=initiative,
            nonce=event["nonce"],
            payload=text,
        )
        leaf = leaf_hash_hex(initiative, hashlib.sha256(content).hexdigest())
        if leaf != digest:
            raise Broken(seq, "its content does not match its hash: it was edited")
        self._signature(seq, event, leaf)
        self.full_initiatives.add(initiative)
        self._full_of_exported(seq, initiative)
        return leaf

    def _chained(self, seq, event, initiative, digest, prev) -> str:
        self._link(seq, prev)
        for name in ("actor", "action"):
            if not isinstance(event.get(name), str):
                raise Broken(seq, f"its {name} is missing or not text")
        if "payload" not in event:
            raise Broken(seq, "its payload is missing")
        try:
            text = event["_payload_text"] if "_payload_text" in event else payload_text(event["payload"])
        except NotCanonical as error:
            raise Broken(seq, f"its payload is not canonical JSON ({error}): it was rewritten") from None
        if not unicodedata.is_normalized("NFC", text):
            raise Broken(seq, "its payload is not in canonical form (NFC): it was rewritten")
        content = chained_content(
            seq=seq,
            recorded_at=event["recorded_at"],
            actor=event["actor"],
            action=event["action"],
            initiative=initiative,
            payload=text,
            prev_hash=prev,
        )
        if hashlib.sha256(content).hexdigest() != digest:
            raise Broken(seq, "its content does not match its hash: it was edited")
        self.chain_hash = digest
        self.chained += 1
        self.full_initiatives.add(initiative)
        self._full_of_exported(seq, initiative)
        return leaf_hash_hex(initiative, digest)

    def _withheld(self, seq, event, signed, initiative, digest, prev) -> str:
        if self.initiative_known:
            if self.only is None:
                raise Broken(
                    seq, "it is withheld, but this is an export of the whole ledger: its content was hidden"
                )
            if initiative == self.only:
                raise Broken(
                    seq,
                    f"it is withheld as another initiative's, yet names the exported initiative {self.only}",
                )
        self.withheld_initiatives.add(initiative)
        content_digest = event.get("content_sha256")
        if not isinstance(content_digest, str) or not HEX64.fullmatch(content_digest):
            raise Broken(seq, "its content_sha256 is not 64 lowercase hex digits")
        if signed:
            self.signed_seen = True
            self.chain_hash = None
            if prev is not None:
                raise Broken(seq, "a signed event has gained a chain hash: it was edited")
            leaf = leaf_hash_hex(initiative, content_digest)
            if leaf != digest:
                raise Broken(seq, "its initiative or content digest does not match its hash: it was edited")
            self._signature(seq, event, leaf)
        else:
            self._link(seq, prev)
            if content_digest != digest:
                raise Broken(seq, "its content digest is not its chain hash: it was edited")
            self.chain_hash = digest
            self.chained += 1
            leaf = leaf_hash_hex(initiative, digest)
        self.withheld += 1
        return leaf

    def _full_of_exported(self, seq, initiative) -> None:
        if self.initiative_known and self.only is not None and initiative != self.only:
            raise Broken(
                seq,
                f"it belongs to initiative {initiative}, not to the exported initiative {self.only}, "
                "yet it is not withheld",
            )

    def finish(self) -> None:
        """Rules that need every event (CSV: the exported initiative is inferred)."""
        if not self.initiative_known and self.withheld_initiatives:
            if len(self.full_initiatives) > 1 or None in self.full_initiatives:
                raise Broken(
                    self.last,
                    "it withholds events, yet shows events of several initiatives (or of none): "
                    "an export of one initiative shows only that one",
                )
            if self.full_initiatives & self.withheld_initiatives:
                raise Broken(
                    self.last, "an event of the exported initiative is withheld: its content was hidden"
                )
        anchor = self.anchor
        if anchor is not None and not self.anchor_seen and anchor[0] > 0:
            if self.last is None or anchor[0] > self.last:
                end = f"#{self.last}" if self.last is not None else "no event"
                raise Broken(
                    (self.last or 0) + 1,
                    f"missing: the anchor records event #{anchor[0]}, the export ends at {end}: "
                    "its tail was cut, or it covers a period that ends before the anchor",
                )
            raise Unreadable(
                f"the anchor's event #{anchor[0]} comes before this export's first event #{self.first}"
            )


# Reading the two formats ----------------------------------------------------------------------------


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
                raise Broken(
                    row[0] if row else f"(line {line})", f"line {line} has {len(row)} fields, not 14"
                )
            (
                seq,
                at,
                actor_id,
                actor,
                action,
                initiative,
                payload,
                nonce,
                key_id,
                signature,
                prev,
                digest,
                withheld,
                content_digest,
            ) = row
            try:
                seq = int(seq)
            except ValueError:
                raise Broken(f"(line {line})", f"{seq!r} is not a sequence number") from None

            def number(text, what, seq=seq):
                try:
                    return int(text) if text != "" else None
                except ValueError:
                    raise Broken(seq, f"its {what} {text!r} is not an id") from None

            event = {
                "seq": seq,
                "recorded_at": at,
                "initiative": number(initiative, "initiative"),
                "key_id": key_id,
                "signature": signature,
                "prev_hash": prev or None,
                "hash": digest,
            }
            if withheld not in ("", "1"):
                raise Broken(seq, f"its withheld mark {withheld!r} is neither 1 nor empty")
            if withheld == "1":
                event.update(withheld=True, content_sha256=content_digest)
                yield event
                continue
            event.update(actor_id=number(actor_id, "actor_id"), actor=actor, action=action, nonce=nonce)
            try:
                value = parse_json(payload)
                canonical = payload_text(value)
            except (ValueError, NotCanonical) as error:
                raise Broken(seq, f"its payload is not canonical JSON ({error}): it was rewritten") from None
            if canonical != payload:
                raise Broken(seq, "its payload is not in canonical form: it was rewritten")
            event["payload"], event["_payload_text"] = value, payload
            yield event
    except csv.Error as error:
        raise Unreadable(f"line {line}: {error}") from None


def json_export(stream) -> dict:
    try:
        document = parse_json(stream.read())
    except ValueError as error:
        raise Unreadable(f"not JSON: {error}") from None
    if not isinstance(document, dict) or document.get("format") != EXPORT_FORMAT:
        raise Unreadable("not a ValueGate ledger export")
    if isinstance(document, _RepeatedKeys):
        raise Unreadable("the export repeats a key of its header")
    if document.get("version") != EXPORT_VERSION:
        raise Unreadable(
            f"export version {document.get('version')!r} is not supported ({EXPORT_VERSION} is; "
            "version 1 exports are read by the verifier of that release)"
        )
    if not isinstance(document.get("events"), list):
        raise Unreadable("its events are not a list")
    if not _is_id(document.get("initiative", "missing")):
        raise Unreadable("its initiative is neither an id nor null")
    for name in ("since", "until"):
        value = document.get(name)
        if value is not None:
            try:
                dt.date.fromisoformat(value)
            except (TypeError, ValueError):
                raise Unreadable(f"its {name} {value!r} is not a date") from None
    if not isinstance(document.get("origin"), str) or not isinstance(document.get("checkpoint"), str):
        raise Unreadable("it has no origin or no checkpoint")
    tree = document.get("tree")
    if not isinstance(tree, dict) or not _is_int(tree.get("size")) or tree["size"] < 0:
        raise Unreadable("its tree is not described (tree.size)")
    for side in ("left", "right"):
        blocks = tree.get(side)
        if not isinstance(blocks, list) or not all(
            isinstance(b, list)
            and len(b) == 2
            and _is_int(b[0])
            and 0 <= b[0] < 64
            and isinstance(b[1], str)
            and HEX64.fullmatch(b[1])
            for b in blocks
        ):
            raise Unreadable(f"its tree.{side} is not a list of [level, 64 hex]")
    proofs = tree.get("consistency")
    if not isinstance(proofs, list) or not all(
        isinstance(p, dict)
        and _is_int(p.get("size"))
        and isinstance(p.get("root"), str)
        and HEX64.fullmatch(p["root"])
        and isinstance(p.get("proof"), list)
        and all(isinstance(h, str) and HEX64.fullmatch(h) for h in p["proof"])
        for p in proofs
    ):
        raise Unreadable("its tree.consistency is not a list of {size, root, proof}")
    return document


# The checks against what the auditor kept ---------------------------------------------------------


def load_kept_checkpoint(path: str, keys) -> tuple[int, bytes, str]:
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            note = handle.read()
    except (OSError, UnicodeDecodeError) as error:
        raise Unreadable(f"cannot read the checkpoint {path}: {error}") from None
    try:
        origin, size, root, _signers = open_checkpoint(note, keys)
    except NoteError as error:
        raise Unreadable(f"the checkpoint {path} is not genuine: {error}") from None
    return size, root, origin


def load_receipt(path: str, keys) -> dict:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as error:
        raise Unreadable(f"cannot read the receipt {path}: {error}") from None
    if not isinstance(data, dict) or not all(
        isinstance(data.get(k), str) for k in ("hash", "recorded_at", "key_id", "signature")
    ):
        raise Unreadable(f"the receipt {path} lacks hash, recorded_at, key_id or signature")
    key = keys.get(data["key_id"])
    try:
        raw = base64.b64decode(data["signature"], validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if key is None or not key.verify(signed_message(data["hash"], data["recorded_at"]), raw):
        raise Unreadable(
            f"the receipt {path} is not a genuine receipt: its signature does not verify with a key you gave"
        )
    return data


def _period(document) -> tuple[str | None, str | None]:
    """The export's period as UTC instant texts [start, end) comparable with recorded_at."""
    since, until = document.get("since"), document.get("until")
    start = f"{since}T00:00:00.000000Z" if since else None
    if until:
        end = (dt.date.fromisoformat(until) + dt.timedelta(days=1)).isoformat() + "T00:00:00.000000Z"
    else:
        end = document.get("exported_at") if isinstance(document.get("exported_at"), str) else None
    return start, end


def receipt_lines(receipts, checker: EventChecker, document=None) -> list[str]:
    lines = []
    for path, receipt in receipts:
        what = f"{receipt.get('action') or 'a decision'} recorded at {receipt['recorded_at']}"
        if receipt["hash"] in checker.hashes:
            lines.append(f"Receipt {path}: {what} is in the export.")
            continue
        if document is None:
            lines.append(
                f"Receipt {path}: {what} is not in this export (a CSV export carries no period; "
                "use the JSON export to know whether it was cut)."
            )
            continue
        start, end = _period(document)
        within = (start is None or receipt["recorded_at"] >= start) and (
            end is None or receipt["recorded_at"] < end
        )
        if within:
            raise Broken(
                (checker.last or 0) + 1,
                f"missing: the decision of this receipt ({what}, hash {receipt['hash'][:16]}…) is missing "
                "from the export of its period: it was cut",
            )
        lines.append(f"Receipt {path}: {what} is outside the export's period (not checked).")
    return lines


STATEMENT_TITLE = "valuegate-ledger-export"
STATEMENT_CLAIMS = ("exported_at", "exported_by", "since", "until", "initiative", "origin")
STATEMENT_BOUNDS = ("count", "withheld", "first_seq", "last_seq")


def check_statement(document, tree_size: int, root: bytes, keys, seq) -> None:
    """The export's signed statement: its period, scope, bounds and tree are what the server wrote."""
    statement = document.get("statement")
    if not isinstance(statement, str):
        raise Broken(seq, "the export has no signed statement of its period and bounds: it was altered")
    try:
        text, _signers = open_note(statement, keys)
    except NoteError as error:
        raise Broken(seq, f"the export's signed statement is not genuine: {error}") from None
    title, _, rest = text.partition("\n")
    try:
        claims = json.loads(rest)
    except ValueError:
        claims = None
    if title != STATEMENT_TITLE or not isinstance(claims, dict):
        raise Broken(seq, "the export's signed statement is not a ValueGate export statement")
    expected = {name: document.get(name) for name in STATEMENT_CLAIMS + STATEMENT_BOUNDS}
    expected.update(tree_size=tree_size, root=root.hex())
    for name, value in expected.items():
        if claims.get(name) != value:
            raise Broken(
                seq,
                f"the export says {name} = {value!r} where its signed statement says {claims.get(name)!r}: "
                "its period, scope or bounds were altered after it was signed",
            )


def verify_json(document, keys, args, anchor) -> list[str]:
    header_initiative = document.get("initiative")
    checker = EventChecker(keys, only_initiative=header_initiative, prev_hash=args.prev_hash, anchor=anchor)
    kept = [(path, *load_kept_checkpoint(path, keys)) for path in args.checkpoint or ()]
    receipts = [(path, load_receipt(path, keys)) for path in args.receipt or ()]
    if document.get("genesis_hash", GENESIS_HASH) != GENESIS_HASH:
        raise Unreadable("its genesis hash is not 64 zeros")
    tree = document["tree"]
    first_named = document["first_seq"] if _is_int(document.get("first_seq")) else 1
    for path, _size, _root, origin in kept:
        if origin != document["origin"]:
            raise Unreadable(
                f"the checkpoint {path} is of the log {origin!r}, the export of {document['origin']!r}"
            )
    left = [(level, bytes.fromhex(node)) for level, node in tree["left"]]
    start = sum(1 << level for level, _ in left)
    try:
        builder = TreeBuilder(left, start)
    except ValueError as error:
        raise Broken(start + 1, f"the tree proof left of the export does not fit: {error}") from None
    first_seq = document.get("first_seq")
    if _is_int(first_seq) and first_seq != start + 1:
        raise Broken(
            first_seq, f"the tree proof left of the export covers {start} events, not {first_seq - 1}"
        )

    direct = {size: (path, root) for path, size, root, _origin in kept}
    checked_directly: set[int] = set()

    def compare(at_size: int) -> None:
        if at_size in direct:
            path, root = direct[at_size]
            if builder.root() != root:
                raise Broken(
                    max(at_size, 1),
                    f"the tree of the first {at_size} events does not have the root of the checkpoint you kept "
                    f"({path}): events up to here were edited, deleted, reordered or inserted",
                )
            checked_directly.add(at_size)

    compare(builder.size)
    checker.expected = start + 1  # the first event must follow the left subtrees
    for event in document["events"]:
        leaf = checker.check(event)
        builder.append_subtree(0, bytes.fromhex(leaf))
        compare(builder.size)
    checker.finish()
    expected_trailer = {
        "count": checker.count,
        "withheld": checker.withheld,
        "first_seq": checker.first,
        "last_seq": checker.last,
    }
    for key, value in expected_trailer.items():
        if document.get(key) != value:
            raise Broken(
                (checker.last or start) + 1 if key in ("count", "last_seq") else checker.first or start + 1,
                f"the export says {key} = {document.get(key)!r}, its events give {value!r}: events were cut or added",
            )
    try:
        export_origin, cp_size, cp_root, signers = open_checkpoint(document["checkpoint"], keys)
    except NoteError as error:
        raise Broken(first_named, f"the export's checkpoint is not genuine: {error}") from None
    check_statement(document, cp_size, cp_root, keys, first_named)
    if export_origin != document["origin"]:
        raise Broken(
            first_named,
            f"the export's checkpoint is for origin {export_origin!r}, not {document['origin']!r}",
        )

    for level, node in tree["right"]:
        try:
            builder.append_subtree(level, bytes.fromhex(node))
        except ValueError as error:
            raise Broken(
                builder.size + 1, f"the tree proof right of the export does not fit: {error}"
            ) from None
    if builder.size != tree["size"] or tree["size"] != cp_size:
        raise Broken(
            (checker.last or start) + 1,
            f"the tree rebuilt from the export has {builder.size} events, its checkpoint {cp_size} "
            f"(tree.size {tree['size']}): events were deleted or added",
        )
    root = builder.root()
    if root != cp_root:
        raise Broken(
            checker.first or start + 1,
            "the tree rebuilt from the export's events does not have the root of its checkpoint: "
            "events were deleted, inserted, reordered or renumbered, or the tree proof was altered",
        )

    lines = []
    proofs = {p["size"]: p for p in tree["consistency"]}
    for path, size, kept_root, _origin in kept:
        if size > cp_size:
            raise Broken(
                cp_size + 1,
                f"missing: the checkpoint you kept ({path}) has {size} events, the export's tree only "
                f"{cp_size}: events were cut",
            )
        if size == cp_size:
            if kept_root != cp_root:
                raise Broken(
                    checker.first or start + 1,
                    f"the checkpoint you kept ({path}) has {size} events like the export's, but another root: "
                    "the ledger was rewritten",
                )
            lines.append(f"Checkpoint {path}: {size} events, the same tree as the export's.")
            continue
        proof = proofs.get(size)
        if proof is None:
            if size in checked_directly:
                lines.append(f"Checkpoint {path}: {size} events, its root rebuilt from the exported events.")
                continue
            raise Broken(
                size,
                f"cannot prove the export extends the checkpoint you kept ({path}, {size} events): "
                "the export has no consistency proof from it",
            )
        nodes = [bytes.fromhex(h) for h in proof["proof"]]
        if proof["root"] != kept_root.hex() or not verify_consistency(
            size, cp_size, kept_root, cp_root, nodes
        ):
            raise Broken(
                size,
                f"the export's tree does not extend the checkpoint you kept ({path}, {size} events): "
                "the ledger was rewritten since, at or before this event",
            )
        how = " and its root rebuilt from the exported events" if size in checked_directly else ""
        lines.append(f"Checkpoint {path}: {size} events, proved a prefix of the export's tree{how}.")
    lines += receipt_lines(receipts, checker, document)

    summary = [_events_line(checker)]
    signer_names = ", ".join(key.label for key in signers)
    summary.append(
        f"Tree: {cp_size} events, root {root.hex()} matches the export's checkpoint, signed by {signer_names}."
    )
    if checker.first_prev is not None:
        summary.append(f"Its first event follows {checker.first_prev}.")
    ignored = sorted(set(document.get("public_keys") or ()) - {_key_text(k) for k in keys.values()})
    if ignored:
        summary.append(
            f"Keys the export lists that you did not give were not trusted: {', '.join(map(str, ignored))}."
        )
    if anchor is not None and checker.anchor_seen:
        summary.append(f"Anchor #{anchor[0]} ({anchor[1]}) is in the export.")
    return summary + lines


def _key_text(key: VerifierKey) -> str:
    data = base64.b64encode(bytes([1]) + key.public).decode()
    return f"{key.name}+{key.key_id}+{data}"


def _events_line(checker: EventChecker) -> str:
    if checker.count == 0:
        return "Export intact: it holds no events."
    withheld = f", {checker.withheld} withheld" if checker.withheld else ""
    chained = f", {checker.chained} of the hash chain before signing" if checker.chained else ""
    return (
        f"Export intact: {checker.count} events #{checker.first}–#{checker.last}{withheld}; "
        f"{checker.signatures} signatures verified{chained}."
    )


def verify_csv(stream, keys, args, anchor) -> list[str]:
    receipts = [(path, load_receipt(path, keys)) for path in args.receipt or ()]
    checker = EventChecker(keys, initiative_known=False, prev_hash=args.prev_hash, anchor=anchor)
    for event in csv_events(stream):
        checker.check(event)
    checker.finish()
    lines = [
        _events_line(checker),
        "CSV carries no tree proof: the events are checked, not that none was cut, deleted or reordered "
        "unnoticed; use the JSON export for checkpoints.",
    ]
    if checker.first_prev is not None:
        lines.append(f"Its first event follows {checker.first_prev}.")
    if anchor is not None and checker.anchor_seen:
        lines.append(f"Anchor #{anchor[0]} ({anchor[1]}) is in the export.")
    return lines + receipt_lines(receipts, checker)


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
    if not _is_int(seq) or not isinstance(digest, str) or not HEX64.fullmatch(digest):
        raise Unreadable("an anchor is a sequence number and a 64-hex-digit hash")
    return seq, digest


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Verify a ValueGate ledger export (JSON or CSV) offline.")
    parser.add_argument("export", help="the exported file")
    parser.add_argument(
        "--public-key",
        action="append",
        metavar="KEY",
        help="a ledger verifier key, or a file of them (repeatable)",
    )
    parser.add_argument(
        "--checkpoint", action="append", metavar="FILE", help="a checkpoint you kept (repeatable)"
    )
    parser.add_argument(
        "--receipt", action="append", metavar="FILE", help="a decision's receipt (repeatable)"
    )
    parser.add_argument("--anchor", metavar="FILE", help="an anchor from `manage.py ledger_anchor`")
    parser.add_argument("--head", metavar="SEQ:HASH", help="the same, given inline")
    parser.add_argument("--prev-hash", metavar="HASH", help="the hash the export's first event must follow")
    args = parser.parse_args(argv)
    try:
        if Ed25519PublicKey is None:
            raise Unreadable("the Python package `cryptography` is needed to check Ed25519 signatures")
        keys = load_keys(args.public_key)
        if not keys:
            raise Unreadable("give the ledger's public key with --public-key (`manage.py ledger_public_key`)")
        anchor = _anchor(args)
        if args.prev_hash is not None and not HEX64.fullmatch(args.prev_hash):
            raise Unreadable("--prev-hash is 64 lowercase hex digits")
        with open(args.export, encoding="utf-8", newline="") as stream:
            start = stream.read(1)
            while start.isspace():
                start = stream.read(1)
            stream.seek(0)
            if start == "{":
                lines = verify_json(json_export(stream), keys, args, anchor)
            else:
                if args.checkpoint:
                    raise Unreadable(
                        "a CSV export carries no tree proof, so it cannot be checked against a checkpoint: "
                        "use the JSON export"
                    )
                lines = verify_csv(stream, keys, args, anchor)
    except Unreadable as error:
        print(f"Cannot verify {args.export}: {error}", file=sys.stderr)
        return 2
    except (OSError, UnicodeDecodeError) as error:
        print(f"Cannot verify {args.export}: {error}", file=sys.stderr)
        return 2
    except Broken as broken:
        print(f"Export verification FAILED at event #{broken.seq}: {broken.problem}.", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
