"""Signed notes (c2sp.org/signed-note) and transparency-log checkpoints (c2sp.org/tlog-checkpoint).

A signed note is a text ending in a newline, a blank line, then one or more signature lines
``— <key name> <base64(4-byte key ID || signature)>``. It is what golang.org/x/mod/sumdb/note
reads and writes, so notes signed here open there and the other way round.

A checkpoint is a note whose text is exactly ``origin``, tree ``size``, base64 ``root`` hash, then
optional non-empty extension lines (this module gives them no meaning; a caller may add e.g.
``time 2026-12-01T18:00:00.000000Z``).

Pure: no Django. Errors are `NoteError` (a ValueError) with a message saying what is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from governance.ledger.signing import (
    SigningKey,
    VerifierKey,
    decode_base64,
    encode_base64,
    is_valid_key_name,
)

SIGNATURE_PREFIX = "— "  # em dash (U+2014), space
# The spec asks verifiers to accept at least 16; golang.org/x/mod/sumdb/note stops at 100.
MAX_SIGNATURES = 100
# Tree sizes fit a signed 64-bit integer (a database bigint).
MAX_TREE_SIZE = 2**63 - 1
ROOT_HASH_SIZE = 32
_TREE_SIZE = re.compile(r"0|[1-9][0-9]*", re.ASCII)


class NoteError(ValueError):
    """A note or checkpoint is malformed, or its signatures do not check out."""


@dataclass(frozen=True)
class OpenedNote:
    """A note whose signatures were checked.

    `verified`: the known keys whose signatures verified (each once, in note order).
    `unverified`: signatures by keys not known, as ``<name>+<key ID>`` (each once, in note order).
    """

    text: str
    verified: tuple[VerifierKey, ...]
    unverified: tuple[str, ...]


def _check_characters(text: str, what: str) -> None:
    for position, ch in enumerate(text):
        if ord(ch) < 0x20 and ch != "\n":
            raise NoteError(f"{what} holds control character U+{ord(ch):04X} at offset {position}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise NoteError(f"{what} is not valid UTF-8 text") from None


def check_note_text(text: str) -> None:
    """Raise NoteError unless `text` can be signed: non-empty, ending in a newline, UTF-8 without
    control characters other than newline. (Blank lines inside are allowed by the spec: the text
    is separated from the signatures by the note's last blank line.)"""
    if not isinstance(text, str):
        raise NoteError("a note text is str")
    if not text:
        raise NoteError("the note text is empty")
    if not text.endswith("\n"):
        raise NoteError("the note text must end with a newline")
    _check_characters(text, "the note text")


def signature_line(key: SigningKey, signature: bytes) -> str:
    raw = key.key_hash.to_bytes(4, "big") + signature
    return f"{SIGNATURE_PREFIX}{key.name} {encode_base64(raw)}\n"


def sign_note(text: str, key: SigningKey) -> str:
    """The note `text` signed by `key`: text, a blank line, one signature line.

    The signature is Ed25519 over the UTF-8 bytes of `text` (its final newline included)."""
    check_note_text(text)
    if not is_valid_key_name(key.name):  # a SigningKey checks its name; this guards a look-alike
        raise NoteError("the signing key's name cannot appear in a note")
    return text + "\n" + signature_line(key, key.sign(text.encode("utf-8")))


def _known_keys(
    verifiers: Mapping[str, VerifierKey] | Iterable[VerifierKey] | VerifierKey,
) -> dict[tuple[str, int], list[VerifierKey]]:
    if isinstance(verifiers, VerifierKey):
        keys: Iterable[VerifierKey] = (verifiers,)
    elif isinstance(verifiers, Mapping):
        keys = verifiers.values()
    else:
        keys = verifiers
    known: dict[tuple[str, int], list[VerifierKey]] = {}
    for key in keys:
        if not isinstance(key, VerifierKey):
            raise TypeError(f"expected VerifierKey, got {type(key).__name__}")
        same = known.setdefault((key.name, key.key_hash), [])
        if key not in same:
            same.append(key)
    return known


def open_note(
    note: str | bytes,
    verifiers: Mapping[str, VerifierKey] | Iterable[VerifierKey] | VerifierKey,
) -> OpenedNote:
    """Parse `note` and check its signatures against `verifiers` (a dict by key ID, as
    `ledger_verifier_keys()` gives, or any iterable of VerifierKey).

    Signatures by unknown keys (name and key ID not both known) are ignored but listed. A
    signature claiming a known key must verify, or the whole note is refused; so is a note with
    no verified signature at all."""
    if isinstance(note, bytes | bytearray):
        try:
            note = bytes(note).decode("utf-8")
        except UnicodeDecodeError:
            raise NoteError("the note is not valid UTF-8") from None
    if not isinstance(note, str):
        raise NoteError("a note is str or bytes")
    _check_characters(note, "the note")
    known = _known_keys(verifiers)

    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("the note has no blank line before its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block:
        raise NoteError("the note has no signature")
    if not block.endswith("\n"):
        raise NoteError("the note's last signature line does not end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"the note has more than {MAX_SIGNATURES} signatures")

    message = text.encode("utf-8")
    verified: list[VerifierKey] = []
    unverified: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError(f"signature line {number} does not start with an em dash and a space")
        name, space, b64 = line[len(SIGNATURE_PREFIX) :].partition(" ")
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

        candidates = known.get((name, key_hash))
        if not candidates:
            label = f"{name}+{key_hash:08x}"
            if label not in unverified:
                unverified.append(label)
            continue
        if len(candidates) > 1:
            raise NoteError(f"ambiguous: several known keys are named {name} with key ID {key_hash:08x}")
        key = candidates[0]
        if not key.verify(message, signature):
            raise NoteError(f"signature by {name} does not verify")
        if key not in verified:
            verified.append(key)

    if not verified:
        if unverified:
            raise NoteError(f"no signature by a known key: the note is signed by {', '.join(unverified)}")
        raise NoteError("no signature by a known key")
    return OpenedNote(text=text, verified=tuple(verified), unverified=tuple(unverified))


def _check_line(line: str, what: str) -> None:
    if not isinstance(line, str):
        raise NoteError(f"the checkpoint {what} is str")
    if not line:
        raise NoteError(f"the checkpoint {what} is empty")
    if "\n" in line:
        raise NoteError(f"the checkpoint {what} holds a newline")
    _check_characters(line, f"the checkpoint {what}")


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head (c2sp.org/tlog-checkpoint): origin, tree size, 32-byte root hash and
    optional extension lines (opaque, non-empty)."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_line(self.origin, "origin")
        if isinstance(self.size, bool) or not isinstance(self.size, int):
            raise NoteError("the checkpoint tree size is an int")
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise NoteError(f"the checkpoint tree size must be between 0 and {MAX_TREE_SIZE}")
        if not isinstance(self.root, bytes) or len(self.root) != ROOT_HASH_SIZE:
            raise NoteError(f"the checkpoint root hash is {ROOT_HASH_SIZE} bytes")
        if isinstance(self.extensions, str):
            raise NoteError("the checkpoint extensions are a sequence of lines, not one str")
        object.__setattr__(self, "extensions", tuple(self.extensions))
        for line in self.extensions:
            _check_line(line, "extension line")

    def body(self) -> str:
        """The note text: origin, size, base64 root, extensions, each line ending in a newline."""
        lines = [self.origin, str(self.size), encode_base64(self.root), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, body: str) -> Checkpoint:
        """Read a checkpoint's note text, strictly: the format `body()` writes and nothing else."""
        if not isinstance(body, str):
            raise NoteError("a checkpoint is str")
        if not body.endswith("\n"):
            raise NoteError("the checkpoint must end with a newline")
        lines = body[:-1].split("\n")
        if len(lines) < 3:
            raise NoteError("the checkpoint needs an origin, a tree size and a root hash line")
        origin, size_text, root_text, *extensions = lines
        if not origin:
            raise NoteError("the checkpoint origin is empty")
        if not _TREE_SIZE.fullmatch(size_text):
            raise NoteError("the checkpoint tree size must be decimal digits without leading zeros")
        size = int(size_text)
        if size > MAX_TREE_SIZE:
            raise NoteError(f"the checkpoint tree size exceeds {MAX_TREE_SIZE}")
        try:
            root = decode_base64(root_text)
        except ValueError as error:
            raise NoteError(f"the checkpoint root hash is {error}") from None
        if len(root) != ROOT_HASH_SIZE:
            raise NoteError(f"the checkpoint root hash is {len(root)} bytes, not {ROOT_HASH_SIZE}")
        for line in extensions:
            if not line:
                raise NoteError("the checkpoint has an empty extension line")
        return cls(origin=origin, size=size, root=root, extensions=tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, key: SigningKey) -> str:
    """The checkpoint as a note signed by `key` (whose name should be the checkpoint's origin)."""
    return sign_note(checkpoint.body(), key)


def open_checkpoint(
    note_text: str | bytes,
    verifiers: Mapping[str, VerifierKey] | Iterable[VerifierKey] | VerifierKey,
    *,
    origin: str | None = None,
) -> tuple[Checkpoint, OpenedNote]:
    """Check a signed checkpoint's signatures (as `open_note`), parse it, and check its origin
    when `origin` is given."""
    opened = open_note(note_text, verifiers)
    checkpoint = Checkpoint.parse(opened.text)
    if origin is not None and checkpoint.origin != origin:
        raise NoteError(f"the checkpoint is for origin {checkpoint.origin!r}, not {origin!r}")
    return checkpoint, opened
