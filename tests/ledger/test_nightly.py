"""The nightly verification: silent while the ledger is intact, alerts the chair and auditors once a day."""

from __future__ import annotations

import datetime as dt

import pytest

from governance.audit.services import ledger_verify_and_alert
from governance.audit.tasks import verify_ledger_nightly
from governance.ledger.models import LedgerHead
from governance.notifications.models import Notification
from tests.ledger.conftest import append, run_command

pytestmark = pytest.mark.django_db

NIGHT = dt.datetime(2026, 3, 1, 2, 40, tzinfo=dt.UTC)


def alerted():
    return sorted(
        (n.recipient.username, n.subject)
        for n in Notification.objects.filter(event_key__startswith="ledger-")
    )


def test_an_intact_ledger_raises_no_alert(members, settings, tmp_path):
    append(5)
    settings.VALUEGATE_LEDGER_WITNESS_DIRS = [str(tmp_path)]
    run_command("ledger_checkpoint")
    root = LedgerHead.objects.get().hash

    assert verify_ledger_nightly.delay().get() == f"Ledger intact: 5 events, root {root}, 1 checkpoint"
    assert alerted() == []


def test_a_tampered_ledger_alerts_the_chair_and_the_auditors_once_a_day(members, attacker):
    events = append(5)
    attacker.set_payload(3, events[2].payload.replace('"n":2', '"n":20'))

    first = ledger_verify_and_alert(now=NIGHT)
    again = ledger_verify_and_alert(now=NIGHT + dt.timedelta(hours=3))  # a retry the same day

    assert not first.intact and "Event #3: its content does not match its hash" in first.problem, (
        first.problem
    )
    subject = "[ValueGate] Ledger verification failed at event #3"
    assert alerted() == [("auditor", subject), ("chair", subject)]
    assert not again.intact
    assert Notification.objects.filter(event_key="ledger-verification-failed-2026-03-01").count() == 2

    ledger_verify_and_alert(now=NIGHT + dt.timedelta(days=1))
    assert Notification.objects.filter(event_key="ledger-verification-failed-2026-03-02").count() == 2


def test_the_nightly_run_checks_the_checkpoint_published_outside_the_database(
    members, attacker, settings, tmp_path
):
    append(6)
    settings.VALUEGATE_LEDGER_WITNESS_DIRS = [str(tmp_path)]
    run_command("ledger_checkpoint")
    # The tail is cut, the tree rebuilt and the checkpoints the database kept removed with it.
    attacker.delete(6)
    attacker.rebuild_tree()
    attacker.sql("DELETE FROM governance_ledgercheckpoint")

    result = verify_ledger_nightly.delay().get()

    assert result.startswith("Ledger verification failed: Event #6: missing: a checkpoint records 6 events")
    assert ("chair", "[ValueGate] Ledger verification failed at event #6") in alerted()


def test_a_missing_anchor_file_is_an_alert_too(members, tmp_path):
    append(1)

    outcome = ledger_verify_and_alert(anchor_path=str(tmp_path / "gone.json"), now=NIGHT)

    assert not outcome.intact and "Cannot read the anchor" in outcome.problem
    subject = "[ValueGate] Ledger verification could not read what it checks against"
    assert ("auditor", subject) in alerted()


def test_a_checkpoint_signed_by_another_key_is_an_alert(members, tmp_path):
    from governance.ledger.notes import Checkpoint, sign_checkpoint
    from governance.ledger.signing import SigningKey

    append(1)
    forged = sign_checkpoint(
        Checkpoint(origin="valuegate.local/ledger", size=1, root=b"\0" * 32), SigningKey.generate("mallory")
    )
    (tmp_path / "checkpoint-000000000001-x.txt").write_text(forged)

    outcome = ledger_verify_and_alert(witness_dirs=[str(tmp_path)], now=NIGHT)

    assert not outcome.intact and "is not genuine" in outcome.problem


def test_a_published_checkpoint_is_mailed_to_the_auditors_when_asked_and_only_once(
    members, settings, tmp_path
):
    from governance.audit.services import ledger_checkpoints_publish
    from governance.ledger.notes import open_checkpoint
    from governance.ledger.signing import ledger_signing_key

    append(3)
    settings.VALUEGATE_LEDGER_WITNESS_DIRS = [str(tmp_path)]
    settings.VALUEGATE_LEDGER_CHECKPOINT_MAIL = True

    assert ledger_checkpoints_publish(now=NIGHT) == 1
    assert ledger_checkpoints_publish(now=NIGHT) == 0  # not due again before the interval

    (mailed,) = Notification.objects.filter(event="ledger.checkpoint")
    assert mailed.recipient.username == "auditor"
    assert mailed.subject == "[ValueGate] Ledger checkpoint of 3 events"
    note = mailed.body[mailed.body.index("valuegate.") :]
    checkpoint, _ = open_checkpoint(note, [ledger_signing_key().verifier])
    assert checkpoint.size == 3
    (witnessed,) = tmp_path.glob("checkpoint-*.txt")
    assert witnessed.read_text() == note
