"""Cron users verify the ledger with governance_tick --verify-ledger."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from governance.ledger.chain import ledger_append
from governance.ledger.guards import install_guards, remove_guards
from governance.models import Notification

pytestmark = pytest.mark.django_db


def tick() -> str:
    out = io.StringIO()
    call_command("governance_tick", "--verify-ledger", stdout=out)
    return out.getvalue()


def test_the_tick_reports_an_intact_ledger_and_alerts_on_a_broken_one(members):
    with transaction.atomic():
        for n in range(3):
            ledger_append(actor=None, action="test.event", payload={"n": n})
    assert "  ledger: intact, 3 events" in tick().splitlines()

    remove_guards(connection)  # as an attacker with database access would
    try:
        with connection.cursor() as cursor:
            cursor.execute("UPDATE governance_ledgerevent SET payload = '{\"n\":9}' WHERE seq = 2")
    finally:
        install_guards(connection)
    output = tick()
    assert "ledger: BROKEN" in output and "#2" in output
    alerted = set(Notification.objects.values_list("recipient__username", flat=True))
    assert {"chair", "auditor"} <= alerted
