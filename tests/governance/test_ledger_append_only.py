"""The ledger refuses edits and deletions, from the ORM and from raw SQL."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from governance.ledger.chain import ledger_append
from governance.models import LedgerEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def event():
    with transaction.atomic():
        return ledger_append(actor=None, action="test.event", payload={"n": 1})


def test_the_orm_refuses_to_edit_or_delete_an_event(event):
    event.action = "rewritten"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE governance_ledgerevent SET action = 'rewritten'",
        "DELETE FROM governance_ledgerevent",
    ],
)
def test_the_database_refuses_raw_update_and_delete(event, statement):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert LedgerEvent.objects.get().action == "test.event"


def test_queryset_update_and_delete_are_refused(event):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LedgerEvent.objects.update(action="rewritten")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LedgerEvent.objects.all().delete()
    assert LedgerEvent.objects.get().action == "test.event"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE exists on PostgreSQL only")
def test_postgres_refuses_truncate(event):
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # flush the test transaction's deferred checks
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("TRUNCATE governance_ledgerevent CASCADE")
