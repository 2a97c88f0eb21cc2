"""Canonical JSON and its SHA-256: the bytes the ledger and sign-off digests cover (pure)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
import unicodedata
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance.ledger.canonical import canonical_json, sha256_hex

D = Decimal


def test_keys_are_sorted_and_there_is_no_whitespace():
    assert canonical_json({"b": 1, "a": [1, 2], "c": {"z": None, "y": True}}) == (
        '{"a":[1,2],"b":1,"c":{"y":true,"z":null}}'
    )


def test_key_order_of_the_input_does_not_change_the_digest():
    assert sha256_hex({"a": 1, "b": 2}) == sha256_hex({"b": 2, "a": 1})


def test_text_is_normalised_to_nfc():
    decomposed = "Cafe\u0301"
    composed = "Caf\u00e9"

    assert canonical_json(decomposed) == canonical_json(composed) == '"Caf\u00e9"'
    assert canonical_json({decomposed: decomposed}) == canonical_json({composed: composed})
    assert sha256_hex(["e\u0301"]) == sha256_hex(["\u00e9"])


def test_non_ascii_text_is_written_as_utf8_not_escaped():
    assert canonical_json("Zürich – 東京") == '"Zürich – 東京"'
    assert sha256_hex("Zürich") == hashlib.sha256('"Zürich"'.encode()).hexdigest()


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (D("1.10"), '"1.10"'),
        (D("1.1"), '"1.1"'),
        (D("0.000001"), '"0.000001"'),
        (D("-42"), '"-42"'),
        (D("12345678901234.123456"), '"12345678901234.123456"'),
    ],
)
def test_decimals_keep_their_exact_digits_as_strings(value, encoded):
    assert canonical_json(value) == encoded


def test_decimals_with_different_digits_digest_differently():
    """The digest covers what was recorded, trailing zeros included."""
    assert sha256_hex({"value": D("1.10")}) != sha256_hex({"value": D("1.1")})


def test_integers_booleans_and_null_are_json_literals():
    assert (
        canonical_json([0, -7, 10**30, True, False, None])
        == "[0,-7,1000000000000000000000000000000,true,false,null]"
    )


def test_tuples_encode_as_lists():
    assert canonical_json((1, (2, 3))) == canonical_json([1, [2, 3]]) == "[1,[2,3]]"


def test_non_string_keys_become_strings():
    assert canonical_json({1: "a", dt.date(2025, 1, 1): "b"}) == '{"1":"a","2025-01-01":"b"}'


def test_dates_are_iso():
    assert canonical_json(dt.date(2025, 3, 1)) == '"2025-03-01"'


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (dt.datetime(2025, 3, 1, 14, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))), '"2025-03-01T12:30:00.000000Z"'),
        (dt.datetime(2025, 3, 1, 0, 15, 5, 123, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))), '"2025-02-28T18:45:05.000123Z"'),
        (dt.datetime(2025, 3, 1, 12, 30, tzinfo=dt.UTC), '"2025-03-01T12:30:00.000000Z"'),
        (dt.datetime(2024, 12, 31, 22, 0, tzinfo=dt.timezone(dt.timedelta(hours=-3))), '"2025-01-01T01:00:00.000000Z"'),
    ],
)  # fmt: skip
def test_aware_datetimes_are_written_in_utc_with_z(value, encoded):
    assert canonical_json(value) == encoded


def test_the_same_instant_in_two_time_zones_digests_the_same():
    paris = dt.datetime(2025, 6, 1, 14, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    new_york = dt.datetime(2025, 6, 1, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=-4)))

    assert sha256_hex({"at": paris}) == sha256_hex({"at": new_york})


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="Naive datetime"):
        canonical_json({"at": dt.datetime(2025, 3, 1, 12, 0)})


@pytest.mark.parametrize("value", [1.5, 0.0, math.nan, math.inf, [1, 2.0], {"x": {"y": 0.1}}])
def test_floats_are_refused_wherever_they_are(value):
    with pytest.raises(TypeError, match="Floats are not recorded"):
        canonical_json(value)


@pytest.mark.parametrize("value", [D("NaN"), D("sNaN"), D("Infinity"), D("-Infinity")])
def test_non_finite_decimals_are_refused(value):
    with pytest.raises(ValueError, match="Non-finite decimal"):
        canonical_json({"value": value})


@pytest.mark.parametrize("value", [{1, 2}, b"bytes", object(), frozenset()])
def test_unknown_types_are_refused(value):
    with pytest.raises(TypeError, match="Cannot encode"):
        canonical_json([value])


def test_sha256_hex_is_the_digest_of_the_utf8_canonical_json():
    payload = {"kind": "sign-off", "value": D("0.0409"), "at": dt.datetime(2025, 1, 1, tzinfo=dt.UTC)}

    digest = sha256_hex(payload)

    assert digest == hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()
    assert re.fullmatch("[0-9a-f]{64}", digest)


def test_sha256_hex_of_a_known_payload():
    # sha256 of the 7 bytes '{"a":1}'
    assert sha256_hex({"a": 1}) == hashlib.sha256(b'{"a":1}').hexdigest()


def test_a_changed_value_changes_the_digest():
    assert sha256_hex({"value": D("0.0409")}) != sha256_hex({"value": D("0.0410")})


@pytest.mark.parametrize("mapping", [{1: "a", "1": "b"}, {"e\u0301": "a", "\u00e9": "b"}])
def test_keys_that_collide_after_normalisation_are_refused(mapping):
    with pytest.raises(ValueError):
        canonical_json(mapping)


# --- round trip ----------------------------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.text(max_size=20),
    st.decimals(allow_nan=False, allow_infinity=False, places=6, min_value=-(10**14), max_value=10**14),
    st.dates(),
    # Far-past years are out of scope: years before 1000 come out unpadded ("999-01-01T...Z") and
    # 0001-01-01 east of UTC overflows on conversion.
    st.datetimes(
        min_value=dt.datetime(1900, 1, 2), max_value=dt.datetime(2200, 1, 1), timezones=st.timezones()
    ),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.tuples(children, children),
        st.dictionaries(st.text(max_size=8), children, max_size=4),
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(values)
def test_decoding_and_re_encoding_gives_the_same_text(value):
    text = canonical_json(value)

    assert canonical_json(json.loads(text)) == text


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=8), st.integers(), max_size=8))
def test_output_keys_are_sorted_and_nfc(mapping):
    decoded = json.loads(canonical_json(mapping))

    assert list(decoded) == sorted(decoded)
    assert all(unicodedata.is_normalized("NFC", key) for key in decoded)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_text_digest_depends_only_on_its_nfc_form(text):
    for form in ("NFC", "NFD"):
        assert sha256_hex(unicodedata.normalize(form, text)) == sha256_hex(text)
