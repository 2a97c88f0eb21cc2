"""Ed25519 keys for the signed ledger, in the text formats of golang.org/x/mod/sumdb/note.

The application signs every ledger event and every checkpoint; the private key lives in a file
(or the environment), never in the database. The key texts are those of the Go `note` package and
of c2sp.org/signed-note, so that any tool of that ecosystem verifies what the ledger signs:

- signer key (secret):  ``PRIVATE+KEY+<name>+<hash>+<base64(0x01 || 32-byte Ed25519 seed)>``
- verifier key:         ``<name>+<hash>+<base64(0x01 || 32-byte Ed25519 public key)>``

``<hash>`` (the key ID) is 8 lowercase hex digits: the first four bytes, big-endian, of
SHA-256(name || "\\n" || 0x01 || public key). A name is non-empty, with no white space, no '+' and
no control character.

Everything above the two settings-reading functions at the bottom is free of Django; error
messages never repeat private key material.
"""

from __future__ import annotations

import binascii
import functools
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALGORITHM_ED25519 = 0x01
PRIVATE_PREFIX = "PRIVATE+KEY+"
SIGNATURE_SIZE = 64
_KEY_SIZE = 32
_KEY_ID = re.compile(r"[0-9a-f]{8}")
# A verifier key text starts `<name>+<8 hex>+`; anything else given as a verifier key is a path.
_LOOKS_LIKE_VERIFIER_KEY = re.compile(r"[^+\s]+\+[0-9A-Fa-f]{8}\+\S*")

SIGNING_KEY_SETTING = "VALUEGATE_LEDGER_SIGNING_KEY"
VERIFIER_KEYS_SETTING = "VALUEGATE_LEDGER_VERIFIER_KEYS"


class KeyFormatError(ValueError):
    """A key text (or key file) is malformed, or its key ID does not match its key."""


def is_valid_key_name(name: str) -> bool:
    """Non-empty UTF-8 text without white space, '+' or control characters."""
    if not isinstance(name, str) or not name or "+" in name:
        return False
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in name):
        return False
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


def compute_key_hash(name: str, public: bytes) -> int:
    """The key ID of an Ed25519 public key under `name`, as c2sp.org/signed-note recommends."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([ALGORITHM_ED25519]) + public).digest()
    return int.from_bytes(digest[:4], "big")


def decode_base64(text: str) -> bytes:
    """Strict standard base64 (RFC 4648 section 4): the alphabet, correct padding, canonical form.

    Raises ValueError. Non-canonical spellings (stray trailing bits) are refused so that a key or a
    signature has one text only.
    """
    try:
        raw = binascii.a2b_base64(text.encode("ascii"), strict_mode=True)
    except (UnicodeEncodeError, binascii.Error):
        raise ValueError("not valid base64") from None
    if binascii.b2a_base64(raw, newline=False).decode("ascii") != text:
        raise ValueError("not in canonical base64")
    return raw


def encode_base64(raw: bytes) -> str:
    return binascii.b2a_base64(raw, newline=False).decode("ascii")


def _check_name(name: str) -> None:
    if not is_valid_key_name(name):
        raise KeyFormatError("the key name must be non-empty, without white space, '+' or control characters")


def _parse_key_fields(rest: str, what: str) -> tuple[str, int, bytes]:
    """Split `<name>+<hash>+<base64(0x01 || 32 bytes)>` and decode it (no hash check yet)."""
    name, plus1, rest = rest.partition("+")
    hash16, plus2, key64 = rest.partition("+")
    if not plus1 or not plus2:
        raise KeyFormatError(f"{what} must have the form <name>+<hash>+<key>")
    _check_name(name)
    if not _KEY_ID.fullmatch(hash16):
        raise KeyFormatError(f"{what}: the key hash must be 8 lowercase hex digits")
    try:
        data = decode_base64(key64)
    except ValueError as error:
        raise KeyFormatError(f"{what}: the key data is {error}") from None
    if not data:
        raise KeyFormatError(f"{what}: the key data is empty")
    if data[0] != ALGORITHM_ED25519:
        raise KeyFormatError(f"{what}: unknown algorithm 0x{data[0]:02x} (only 0x01, Ed25519, is known)")
    if len(data) != 1 + _KEY_SIZE:
        raise KeyFormatError(f"{what}: an Ed25519 key is {_KEY_SIZE} bytes, not {len(data) - 1}")
    return name, int(hash16, 16), data[1:]


@dataclass(frozen=True)
class VerifierKey:
    """A public key that checks signatures: name, key ID, 32-byte Ed25519 public key."""

    name: str
    key_hash: int
    public: bytes

    def __post_init__(self) -> None:
        _check_name(self.name)
        if not isinstance(self.public, bytes) or len(self.public) != _KEY_SIZE:
            raise KeyFormatError(f"an Ed25519 public key is {_KEY_SIZE} bytes")
        if self.key_hash != compute_key_hash(self.name, self.public):
            raise KeyFormatError(f"the key hash of verifier key {self.name} does not match its key")
        try:
            self._key  # noqa: B018 - loads (and so checks) the key once
        except ValueError:
            raise KeyFormatError("not an Ed25519 public key") from None

    @functools.cached_property
    def _key(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(self.public)

    def __getstate__(self) -> dict[str, Any]:
        # Picklable (it is public), without the loaded key object. (A SigningKey is not.)
        return {"name": self.name, "key_hash": self.key_hash, "public": self.public}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)

    @classmethod
    def from_public_key(cls, name: str, public: bytes) -> VerifierKey:
        _check_name(name)
        return cls(name, compute_key_hash(name, public), public)

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        """Read `<name>+<hash>+<base64 key>`; KeyFormatError says what is wrong."""
        if not isinstance(text, str):
            raise KeyFormatError("a verifier key is text")
        if text.startswith(PRIVATE_PREFIX):
            # Never repeat it: this is a secret given where a public key was expected.
            raise KeyFormatError("this is a private signer key (PRIVATE+KEY+...), not a verifier key")
        name, key_hash, public = _parse_key_fields(text, "a verifier key")
        if key_hash != compute_key_hash(name, public):
            raise KeyFormatError(f"verifier key {name}+{key_hash:08x}: the key hash does not match the key")
        return cls(name, key_hash, public)

    @property
    def key_id(self) -> str:
        return f"{self.key_hash:08x}"

    @property
    def text(self) -> str:
        return f"{self.name}+{self.key_id}+{encode_base64(bytes([ALGORITHM_ED25519]) + self.public)}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Whether `signature` is this key's Ed25519 signature of `message`; never raises for a bad one."""
        if not isinstance(signature, bytes) or len(signature) != SIGNATURE_SIZE:
            return False
        try:
            self._key.verify(signature, bytes(message))
        except InvalidSignature:
            return False
        return True

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class SigningKey:
    """A private Ed25519 key: name, key ID and 32-byte seed. Its repr never shows the seed."""

    name: str
    key_hash: int
    seed: bytes = field(repr=False)

    def __post_init__(self) -> None:
        _check_name(self.name)
        if not isinstance(self.seed, bytes) or len(self.seed) != _KEY_SIZE:
            raise KeyFormatError(f"an Ed25519 seed is {_KEY_SIZE} bytes")
        public = self._key.public_key().public_bytes_raw()
        if self.key_hash != compute_key_hash(self.name, public):
            # The stated ID is of another key: the text was altered or pieced together.
            raise KeyFormatError(f"signer key {self.name}: the key hash does not match the key")

    @functools.cached_property
    def _key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.seed)

    @classmethod
    def generate(cls, name: str) -> SigningKey:
        """A new random key named `name`."""
        _check_name(name)
        key = Ed25519PrivateKey.generate()
        public = key.public_key().public_bytes_raw()
        return cls(name, compute_key_hash(name, public), key.private_bytes_raw())

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> SigningKey:
        _check_name(name)
        if not isinstance(seed, bytes) or len(seed) != _KEY_SIZE:
            raise KeyFormatError(f"an Ed25519 seed is {_KEY_SIZE} bytes")
        public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
        return cls(name, compute_key_hash(name, public), seed)

    @classmethod
    def parse(cls, text: str) -> SigningKey:
        """Read `PRIVATE+KEY+<name>+<hash>+<base64 seed>`; errors never repeat the text."""
        if not isinstance(text, str) or not text.startswith(PRIVATE_PREFIX):
            raise KeyFormatError("a signer key must start with PRIVATE+KEY+")
        name, key_hash, seed = _parse_key_fields(text[len(PRIVATE_PREFIX) :], "a signer key")
        return cls(name, key_hash, seed)

    @functools.cached_property
    def verifier(self) -> VerifierKey:
        """The public half, to verify this key's signatures and hand to auditors."""
        return VerifierKey(self.name, self.key_hash, self._key.public_key().public_bytes_raw())

    @property
    def key_id(self) -> str:
        return f"{self.key_hash:08x}"

    @property
    def text(self) -> str:
        """The secret key text, PRIVATE+KEY+...; keep it out of logs and the database."""
        return f"{PRIVATE_PREFIX}{self.name}+{self.key_id}+{encode_base64(bytes([ALGORITHM_ED25519]) + self.seed)}"

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of `message` (deterministic, RFC 8032)."""
        return self._key.sign(bytes(message))


def load_signing_key(value: str) -> SigningKey:
    """The signer key in `value`: the key text itself (PRIVATE+KEY+...) or the path of a file
    holding it (surrounding white space ignored). KeyFormatError names the file, never the key."""
    value = (value or "").strip()
    if not value:
        raise KeyFormatError("no signing key given (neither a PRIVATE+KEY+... text nor a file)")
    if value.upper().startswith("PRIVATE+"):
        # Key text, even if mistyped: parse it so that any error keeps it out of the message.
        return SigningKey.parse(value)
    path = Path(value).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KeyFormatError(f"the signing key file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else type(error).__name__
        raise KeyFormatError(f"cannot read the signing key file {path}: {reason}") from None
    try:
        return SigningKey.parse(text.strip())
    except KeyFormatError as error:
        raise KeyFormatError(
            f"the signing key file {path} does not hold a valid signer key: {error}"
        ) from None


def _add_verifier(keys: dict[str, VerifierKey], key: VerifierKey, where: str) -> None:
    known = keys.get(key.key_id)
    if known is not None and known != key:
        raise KeyFormatError(f"{where}: two different verifier keys have the key ID {key.key_id}")
    keys[key.key_id] = key


def load_verifier_keys(values: Iterable[str]) -> dict[str, VerifierKey]:
    """Verifier keys by key ID. Each value is a verifier key text or the path of a file holding
    one key per line (blank lines and lines starting with '#' are skipped). A single string is
    taken as one value."""
    if isinstance(values, str):
        values = [values]
    keys: dict[str, VerifierKey] = {}
    for position, raw in enumerate(values or (), start=1):
        value = (raw or "").strip()
        if not value:
            continue
        if value.startswith(PRIVATE_PREFIX):
            raise KeyFormatError(f"verifier key #{position} is a private signer key; give its public key")
        if _LOOKS_LIKE_VERIFIER_KEY.fullmatch(value):
            try:
                _add_verifier(keys, VerifierKey.parse(value), f"verifier key #{position}")
            except KeyFormatError as error:
                raise KeyFormatError(f"verifier key #{position}: {error}") from None
            continue
        path = Path(value).expanduser()
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            raise KeyFormatError(f"the verifier key file {path} does not exist") from None
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else type(error).__name__
            raise KeyFormatError(f"cannot read the verifier key file {path}: {reason}") from None
        for number, line in enumerate(lines, start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            where = f"{path}, line {number}"
            try:
                _add_verifier(keys, VerifierKey.parse(line), where)
            except KeyFormatError as error:
                raise KeyFormatError(f"{where}: {error}") from None
    return keys


# --- Settings (the only Django in this module) -------------------------------------------------


def _clear_on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in (SIGNING_KEY_SETTING, VERIFIER_KEYS_SETTING):
        clear_key_cache()


def _watch_settings() -> None:
    """Clear the cached keys whenever a test (override_settings, pytest-django's `settings`)
    changes one of the two settings. Connected on first use; connecting twice is harmless."""
    from django.core.signals import setting_changed

    setting_changed.connect(
        _clear_on_setting_changed, weak=False, dispatch_uid="governance.ledger.signing.keys"
    )


def clear_key_cache() -> None:
    """Forget the keys read from the settings (they are read again on next use)."""
    ledger_signing_key.cache_clear()
    ledger_verifier_keys.cache_clear()


@functools.lru_cache(maxsize=1)
def ledger_signing_key() -> SigningKey:
    """The ledger's signing key, from settings.VALUEGATE_LEDGER_SIGNING_KEY (key text or file).

    Read once and cached; `clear_key_cache()` (or a change of the setting) reads it again.
    """
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    _watch_settings()
    value = getattr(settings, SIGNING_KEY_SETTING, "") or ""
    advice = (
        "run `manage.py ledger_keygen --output FILE` and set "
        f"{SIGNING_KEY_SETTING} to FILE (or to the key text)"
    )
    if not isinstance(value, str) or not value.strip():
        raise ImproperlyConfigured(f"{SIGNING_KEY_SETTING} is not set: the ledger cannot sign; {advice}.")
    try:
        return load_signing_key(value)
    except KeyFormatError as error:
        raise ImproperlyConfigured(f"{SIGNING_KEY_SETTING}: {error}; {advice}.") from None


@functools.lru_cache(maxsize=1)
def ledger_verifier_keys() -> dict[str, VerifierKey]:
    """Every key the ledger's signatures may be checked with, by key ID: the current signing
    key's verifier first, then settings.VALUEGATE_LEDGER_VERIFIER_KEYS (older keys kept after a
    rotation; each a verifier key text or a file of them). Callers must not modify the result."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    _watch_settings()
    current = ledger_signing_key().verifier
    older = getattr(settings, VERIFIER_KEYS_SETTING, None) or ()
    try:
        loaded = load_verifier_keys(older)
        keys = {current.key_id: current}
        for key in loaded.values():
            _add_verifier(keys, key, VERIFIER_KEYS_SETTING)
    except KeyFormatError as error:
        raise ImproperlyConfigured(f"{VERIFIER_KEYS_SETTING}: {error}") from None
    return keys
