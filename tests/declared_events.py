"""Ledger events that only the tests of the chain itself append (declared for the whole suite).

They are declared with their payloads like the catalogue's, so a test appending one with a wrong
payload is refused as a service would be.
"""

from __future__ import annotations

from governance.ledger.events import (
    BOOL,
    DATE,
    DECIMAL,
    INT,
    JSON,
    TEXT,
    LedgerEventType,
    optional,
    shape,
)


def _test_event(code: str, **payload) -> LedgerEventType:
    return LedgerEventType(code=code, label=f"Test: {code}", payload=shape(**payload))


TEST_EVENTS = (
    # tests/ledger/conftest.py's append(): a counter, and what a test adds to it.
    _test_event("test.event", n=INT, amount=optional(DECIMAL), note=optional(TEXT)),
    _test_event("test.committee", n=INT),
    # concurrent appends: which thread, which of its events
    _test_event("test.append", thread=INT, n=INT),
    # the batch's ordering and rollback
    _test_event("test.batched", n=INT),
    *(_test_event(f"test.{name}") for name in ("before", "nested", "after", "kept", "dropped", "next")),
    _test_event("test.bad", value=JSON),
    # the golden event whose bytes and hash are pinned
    _test_event("test.golden", title=TEXT, amount=DECIMAL, on=DATE, n=INT, ok=BOOL, none=JSON),
)
