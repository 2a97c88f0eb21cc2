"""What is signed survives the database: the same content bytes, leaf hash and signature on SQLite
and PostgreSQL, whether recomputed from the ORM's values or from the raw columns verification reads."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import unicodedata
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance.ledger.canonical import canonical_json, utc_text
from governance.ledger.chain import ledger_append
from governance.ledger.content import signed_content
from governance.ledger.events import CATALOGUE, LedgerEventType, declared
from governance.ledger.models import LedgerEvent, LedgerHead
from governance.ledger.signing import ledger_signing_key
from governance.ledger.verification import event_checks, event_rows, leaf_of, row_of, verify_ledger
from tests.ledger.conftest import clock

pytestmark = pytest.mark.django_db

NONCE = "0123456789abcdef0123456789abcdef"
GOLDEN_CONTENT = (
    '{"action":"test.golden","actor":"system","actor_id":null,"initiative":null,'
    f'"nonce":"{NONCE}","payload":{{"amount":"1.50","n":7,"none":null,"ok":true,"on":"2025-01-01",'
    '"title":"Café – Zürich"},"recorded_at":"2025-01-02T03:04:05.678901Z"}'
)
GOLDEN_LEAF = "0951914efe7b4ac05be6a301656ff8b657a15fd1abe974d3fdaf097f9365493e"


def leaf_from_first_principles(initiative: str, content: bytes) -> str:
    """RFC 9162 leaf hash of "valuegate-event\\n<initiative>\\n<sha256(content)>\\n" (content.py)."""
    digest = hashlib.sha256(content).hexdigest()
    return hashlib.sha256(b"\x00" + f"valuegate-event\n{initiative}\n{digest}\n".encode()).hexdigest()


@pytest.fixture
def fixed_nonce(monkeypatch):
    monkeypatch.setattr("governance.ledger.chain.secrets.token_hex", lambda size: NONCE)


def test_a_known_event_has_the_same_bytes_hash_and_signed_message_on_every_database(fixed_nonce):
    with clock(dt.datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC)), transaction.atomic():
        event = ledger_append(
            actor=None,
            action="test.golden",
            payload={
                "title": "Cafe\u0301 – Zürich",  # decomposed é: stored and signed composed (NFC)
                "amount": Decimal("1.50"),
                "on": dt.date(2025, 1, 1),
                "n": 7,
                "ok": True,
                "none": None,
            },
        )

    (row,) = event_rows()
    stored = LedgerEvent.objects.get()
    content = signed_content(
        recorded_at=row[1],
        actor_id=row[2],
        actor=row[3],
        action=row[4],
        initiative=row[5],
        nonce=row[7],
        payload=row[6],
    )
    assert content.decode() == GOLDEN_CONTENT
    assert event.hash == stored.hash == leaf_of(row) == leaf_of(row_of(stored)) == GOLDEN_LEAF
    assert leaf_from_first_principles("-", GOLDEN_CONTENT.encode()) == GOLDEN_LEAF
    # The signature covers the leaf hash and the time, and verifies with the public key alone.
    message = f"valuegate-ledger-event\n{GOLDEN_LEAF}\n2025-01-02T03:04:05.678901Z\n".encode()
    assert ledger_signing_key().verifier.verify(message, base64.b64decode(stored.signature))
    assert stored.key_id == ledger_signing_key().key_id
    assert event.seq == stored.seq == 1 and LedgerHead.objects.get().seq == 1


@pytest.mark.parametrize(
    "start",
    [
        pytest.param(dt.datetime(2025, 6, 1, 12, 0, 0, tzinfo=dt.UTC), id="whole second"),
        pytest.param(dt.datetime(2025, 6, 1, 12, 0, 0, 1, tzinfo=dt.UTC), id="one microsecond"),
        pytest.param(
            dt.datetime(2025, 6, 1, 14, 0, 0, 999999, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            id="another time zone",
        ),
    ],
)
def test_the_time_read_back_from_the_columns_is_the_time_signed(start):
    with clock(start), transaction.atomic():
        event = ledger_append(actor=None, action="test.event", payload={"n": 1})

    (row,) = event_rows()
    assert row[1] == utc_text(start) == utc_text(LedgerEvent.objects.get().recorded_at)
    assert leaf_of(row) == event.hash
    assert all(ok for ok, _ in event_checks(LedgerEvent.objects.get()))


def test_an_actor_and_an_initiative_are_signed_by_id_and_name():
    from tests.factories import InitiativeFactory

    initiative = InitiativeFactory()
    actor = get_user_model().objects.create_user(username="José")
    with transaction.atomic():
        event = ledger_append(actor=actor, action="test.event", payload={"n": 1}, initiative=initiative)

    (row,) = event_rows()
    content = json.loads(
        signed_content(
            recorded_at=row[1],
            actor_id=row[2],
            actor=row[3],
            action=row[4],
            initiative=row[5],
            nonce=row[7],
            payload=row[6],
        )
    )
    assert (content["actor_id"], content["actor"], content["initiative"]) == (actor.pk, "José", initiative.pk)
    assert (
        leaf_of(row)
        == event.hash
        == leaf_from_first_principles(
            str(initiative.pk),
            signed_content(
                recorded_at=row[1],
                actor_id=row[2],
                actor=row[3],
                action=row[4],
                initiative=row[5],
                nonce=row[7],
                payload=row[6],
            ),
        )
    )


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
# Any name, in any Unicode form: names are signed exactly as stored, never normalised.
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
def test_signed_content_round_trips_through_the_database(payload, username, action):
    actor, _ = get_user_model().objects.get_or_create(username=username)
    # Any action with any payload: the encoding is under test here, not the catalogue.
    with declared(LedgerEventType(code=action, label=action, payload=None)), transaction.atomic():
        appended = ledger_append(actor=actor, action=action, payload=payload)
    stored = LedgerEvent.objects.get(pk=appended.pk)

    # What is stored is the canonical text of what was given, and the name and action as given ...
    assert stored.payload == canonical_json(payload)
    assert (stored.actor_name, stored.action) == (username, action)
    # ... from which the raw columns and the ORM's values both give back the leaf hash signed, and
    # the content is the sorted, whitespace-free JSON of the event, byte for byte.
    (row,) = event_rows(after_seq=stored.seq - 1)
    assert leaf_of(row) == leaf_of(row_of(stored)) == stored.hash == appended.hash
    assert row[1] == utc_text(stored.recorded_at)
    document = {
        "action": action,
        "actor": username,
        "actor_id": actor.pk,
        "initiative": None,
        "nonce": stored.nonce,
        "payload": json.loads(stored.payload),
        "recorded_at": row[1],
    }
    content = signed_content(
        recorded_at=row[1],
        actor_id=row[2],
        actor=row[3],
        action=row[4],
        initiative=row[5],
        nonce=row[7],
        payload=row[6],
    )
    assert content == json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert leaf_from_first_principles("-", content) == stored.hash
    assert all(ok for ok, _ in event_checks(stored))
    assert verify_ledger(strict=True).head_hash == LedgerHead.objects.get().hash
