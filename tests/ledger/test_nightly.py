"""The nightly verification: silent while the ledger is intact, alerts the chair and auditors once a day."""

from __future__ import annotations

import datetime as dt

import pytest

from governance.audit.services import ledger_verify_and_alert
from governance.audit.tasks import verify_ledger_nightly
from governance.models import Notification
from tests.ledger.conftest import append, run_command

pytestmark = pytest.mark.django_db

NIGHT = dt.datetime(2026, 3, 1, 2, 40, tzinfo=dt.UTC)


def alerted():
    return sorted(
        (n.recipient.username, n.subject)
        for n in Notification.objects.filter(event_key__startswith="ledger-")
    )


def test_an_intact_ledger_raises_no_alert(members):
    head = append(5)[-1].hash

    assert verify_ledger_nightly.delay().get() == f"Ledger intact: 5 events, head {head}"
    assert alerted() == []


def test_a_tampered_ledger_alerts_the_chair_and_the_auditors_once_a_day(members, attacker):
    events = append(5)
    attacker.set_payload(3, events[2].payload.replace('"n":2', '"n":20'))

    first = ledger_verify_and_alert(now=NIGHT)
    again = ledger_verify_and_alert(now=NIGHT + dt.timedelta(hours=3))  # a retry the same day

    assert not first.intact and "Event #3: its content does not match its hash" in first.problem
    subject = "[ValueGate] Ledger verification failed at event #3"
    assert alerted() == [("auditor", subject), ("chair", subject)]
    assert not again.intact
    assert Notification.objects.filter(event_key="ledger-verification-failed-2026-03-01").count() == 2

    ledger_verify_and_alert(now=NIGHT + dt.timedelta(days=1))
    assert Notification.objects.filter(event_key="ledger-verification-failed-2026-03-02").count() == 2


def test_the_nightly_run_checks_the_anchor_kept_outside_the_database(members, attacker, settings, tmp_path):
    append(6)
    anchor = tmp_path / "anchor.json"
    run_command("ledger_anchor", "--output", str(anchor))
    settings.VALUEGATE_LEDGER_ANCHOR_FILE = str(anchor)
    attacker.delete(6)
    attacker.set_head(5)

    result = verify_ledger_nightly.delay().get()

    assert result.startswith("Ledger verification failed: Event #6: missing: the anchor taken at")
    assert ("chair", "[ValueGate] Ledger verification failed at event #6") in alerted()


def test_a_missing_anchor_file_is_an_alert_too(members, tmp_path):
    append(1)

    outcome = ledger_verify_and_alert(anchor_path=str(tmp_path / "gone.json"), now=NIGHT)

    assert not outcome.intact and "Cannot read the anchor" in outcome.problem
    assert ("auditor", "[ValueGate] Ledger verification could not check the anchor") in alerted()
