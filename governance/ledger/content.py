"""What an event's hash and signature cover, built from its stored columns byte for byte.

Signed events (format 2). Their content is the canonical JSON object
    {"action", "actor", "actor_id", "initiative", "nonce", "payload", "recorded_at"}
with keys sorted and no whitespace, the payload column inserted as stored (it holds canonical
JSON) and every other text exactly as stored: nothing is normalised while verifying, so a name
rewritten into another Unicode form no longer matches. Their Merkle leaf input is
    "valuegate-event\\n" + initiative id (or "-") + "\\n" + SHA-256(content) in hex + "\\n"
so that an export can withhold an event's content yet show which initiative it belongs to (the
random nonce keeps the content from being guessed from its digest); `hash` is the RFC 9162 leaf
hash SHA-256(0x00 || leaf input). The Ed25519 signature covers
    "valuegate-ledger-event\\n" + hash + "\\n" + recorded_at + "\\n"
which is what a receipt proves without the content.

Events written before the ledger was signed (format 1) keep their chain: `hash` is SHA-256 over
the canonical JSON of {seq, recorded_at, actor, action, initiative, payload, prev_hash}; their
leaf input names that hash as the content digest.

tools/verify_export.py mirrors this module with the standard library alone.
"""

from __future__ import annotations

import base64
import hashlib
import json
import unicodedata

LEAF_PREFIX = "valuegate-event\n"
SIGNATURE_PREFIX = "valuegate-ledger-event\n"
GENESIS_HASH = "0" * 64

_text = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) writes for a str


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def signed_content(
    *,
    recorded_at: str,
    actor_id: int | None,
    actor: str,
    action: str,
    initiative: int | None,
    nonce: str,
    payload: str,
) -> bytes:
    """The canonical bytes of a signed event, from its columns (`recorded_at`: canonical UTC text)."""
    return (
        f'{{"action":{_text(action)},"actor":{_text(actor)}'
        f',"actor_id":{"null" if actor_id is None else int(actor_id)}'
        f',"initiative":{"null" if initiative is None else int(initiative)}'
        f',"nonce":{_text(nonce)},"payload":{payload},"recorded_at":{_text(recorded_at)}}}'
    ).encode()


def chained_content(
    *,
    seq: int,
    recorded_at: str,
    actor: str,
    action: str,
    initiative: int | None,
    payload: str,
    prev_hash: str,
) -> bytes:
    """The canonical bytes of an event of the hash chain (format 1), from its columns.

    Those events were hashed with their names normalised to NFC, so they are normalised here too:
    for them alone, a name rewritten into another Unicode form of the same text goes unnoticed
    (their leaf covers the chain hash, which covers the NFC form). Signed events have no such gap.
    """
    return (
        f'{{"action":{_text(_nfc(action))},"actor":{_text(_nfc(actor))}'
        f',"initiative":{"null" if initiative is None else int(initiative)}'
        f',"payload":{payload},"prev_hash":{_text(prev_hash)}'
        f',"recorded_at":{_text(recorded_at)},"seq":{int(seq)}}}'
    ).encode()


def leaf_input(initiative: int | None, content_digest: str) -> bytes:
    return f"{LEAF_PREFIX}{'-' if initiative is None else int(initiative)}\n{content_digest}\n".encode()


def leaf_hash_hex(initiative: int | None, content_digest: str) -> str:
    return hashlib.sha256(b"\x00" + leaf_input(initiative, content_digest)).hexdigest()


def signed_message(leaf_hash: str, recorded_at: str) -> bytes:
    """What an event's signature covers: its leaf hash and its time."""
    return f"{SIGNATURE_PREFIX}{leaf_hash}\n{recorded_at}\n".encode()


def sign_event(
    key,
    *,
    recorded_at: str,
    actor_id: int | None,
    actor: str,
    action: str,
    initiative: int | None,
    nonce: str,
    payload: str,
) -> tuple[str, str]:
    """The leaf hash (hex) and the signature (base64) of an event's columns, signed with `key`
    (anything with `sign(bytes) -> bytes`: governance/ledger/signing.py's SigningKey)."""
    content = signed_content(
        recorded_at=recorded_at,
        actor_id=actor_id,
        actor=actor,
        action=action,
        initiative=initiative,
        nonce=nonce,
        payload=payload,
    )
    digest = leaf_hash_hex(initiative, hashlib.sha256(content).hexdigest())
    return digest, base64.b64encode(key.sign(signed_message(digest, recorded_at))).decode()
