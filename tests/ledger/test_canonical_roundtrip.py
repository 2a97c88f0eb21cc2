"""The canonical encoding survives the database: the same bytes and hash on SQLite and PostgreSQL,
whether recomputed from the ORM's values, from the raw columns, or by the standard-library verifier."""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import unicodedata
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance.ledger.canonical import canonical_json
from governance.ledger.chain import (
    canonical_event_bytes,
    chain_rows,
    ledger_append,
    recompute_hash,
    verify_ledger,
)
from governance.ledger.events import CATALOGUE, LedgerEventType, declared
from governance.models import LedgerEvent
from tests.ledger.conftest import VERIFY_EXPORT, clock

pytestmark = pytest.mark.django_db

_spec = importlib.util.spec_from_file_location("verify_export", VERIFY_EXPORT)
verifier = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(verifier)

GOLDEN_BYTES = (
    '{"action":"test.golden","actor":"system","initiative":null,"payload":{"amount":"1.50","n":7,'
    '"none":null,"ok":true,"on":"2025-01-01","title":"Café – Zürich"},"prev_hash":"' + "0" * 64 + '",'
    '"recorded_at":"2025-01-02T03:04:05.678901Z","seq":1}'
)
GOLDEN_HASH = "1219e56641aa66bd5d038108bf316adf503f33556b2ea0b4ba21d57167c84cdd"


def test_a_known_event_has_the_same_bytes_and_hash_on_every_database():
    with clock(dt.datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC)), transaction.atomic():
        event = ledger_append(
            actor=None,
            action="test.golden",
            payload={
                "title": "Cafe\u0301 – Zürich",  # decomposed é: stored and hashed composed (NFC)
                "amount": Decimal("1.50"),
                "on": dt.date(2025, 1, 1),
                "n": 7,
                "ok": True,
                "none": None,
            },
        )

    row = next(chain_rows())
    assert canonical_event_bytes(*row[:7]).decode() == GOLDEN_BYTES
    assert event.hash == LedgerEvent.objects.get().hash == GOLDEN_HASH
    assert hashlib.sha256(GOLDEN_BYTES.encode()).hexdigest() == GOLDEN_HASH


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.text(max_size=12),
    st.decimals(allow_nan=False, allow_infinity=False, places=6, min_value=-(10**13), max_value=10**13),
    st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-(10**12), max_value=10**12),
    st.dates(min_value=dt.date(1000, 1, 1)),
    st.datetimes(
        min_value=dt.datetime(1000, 1, 2), max_value=dt.datetime(9999, 12, 30), timezones=st.timezones()
    ),
)
nfc_keys = st.text(max_size=8).map(lambda key: unicodedata.normalize("NFC", key))
payloads = st.dictionaries(
    nfc_keys,
    st.recursive(
        scalars,
        lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(nfc_keys, inner, max_size=3)),
        max_leaves=12,
    ),
    max_size=6,
)
usernames = st.text(min_size=1, max_size=30).filter(lambda name: name.strip() and "\x00" not in name)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    payload=payloads,
    username=usernames,
    # Any action but one the catalogue declares (Hypothesis also tries the code's own strings).
    action=st.text(min_size=1, max_size=20).filter(lambda a: "\x00" not in a and a not in CATALOGUE),
)
def test_canonical_encoding_round_trips_through_the_database(payload, username, action):
    actor, _ = get_user_model().objects.get_or_create(username=unicodedata.normalize("NFC", username))
    # Any action with any payload: the encoding is under test here, not the catalogue.
    with declared(LedgerEventType(code=action, label=action, payload=None)), transaction.atomic():
        appended = ledger_append(actor=actor, action=action, payload=payload)
    stored = LedgerEvent.objects.get(pk=appended.pk)

    # What is stored is the canonical text of what was given ...
    assert stored.payload == canonical_json(payload)
    # ... from which the ORM's values, the raw columns and the standard-library verifier all give
    # back the bytes and the hash that were written.
    assert recompute_hash(stored) == stored.hash == appended.hash
    row = next(chain_rows(after_seq=stored.seq - 1))
    document = {
        "seq": stored.seq,
        "recorded_at": stored.recorded_at,
        "actor": stored.actor_name,
        "action": stored.action,
        "initiative": None,
        "payload": payload,
        "prev_hash": stored.prev_hash,
    }
    assert canonical_event_bytes(*row[:7]) == canonical_json(document).encode()
    exported = dict(zip(("seq", "recorded_at", "actor", "action", "initiative"), row[:5], strict=True))
    exported.update(payload=verifier.parse_json(row[5]), prev_hash=row[6])
    assert verifier.event_hash(exported) == stored.hash
    assert verify_ledger(strict=True).head_hash == stored.hash
