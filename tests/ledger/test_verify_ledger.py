"""verify_ledger and ledger_anchor: an intact chain passes; each tampering is caught and named."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from governance.ledger.models import LedgerEvent, LedgerHead
from tests.ledger.conftest import append, run_command

pytestmark = pytest.mark.django_db


@pytest.fixture
def ten_events():
    return append(10, amount=Decimal("12.500000"), note="Zoë – Zürich")


@pytest.fixture
def anchor_file(tmp_path):
    """Take an anchor now, as an auditor keeps one outside the database."""

    def take():
        path = tmp_path / "anchor.json"
        code, out, _ = run_command("ledger_anchor", "--output", str(path))
        assert code == 0 and json.loads(out) == json.loads(path.read_text())
        return path

    return take


def test_an_intact_ledger_verifies_printing_its_count_head_hash_and_who_ran_it(ten_events):
    code, out, err = run_command("verify_ledger")

    assert code == 0
    assert f"Ledger intact: 10 events, head #10 hash {ten_events[-1].hash}" in out
    assert "run by " in err and "Checked (chain) by " in out


def test_an_empty_ledger_verifies_with_zero_events():
    code, out, _ = run_command("verify_ledger", "--strict")

    assert code == 0
    assert "Ledger intact: 0 events" in out


def test_long_runs_report_progress_on_stderr():
    append(25)

    code, _, err = run_command("verify_ledger", "--progress-every", "10", "--chunk-size", "5")

    assert code == 0
    assert "verified 10 of 25 events (40%)" in err
    assert "verified 20 of 25 events (80%)" in err


def test_the_anchor_names_the_head(ten_events, anchor_file):
    anchor = json.loads(anchor_file().read_text())

    assert anchor["seq"] == 10
    assert anchor["hash"] == ten_events[-1].hash
    assert anchor["recorded_at"].endswith("Z")


# Tampering, as someone who dropped the triggers would -----------------------------------------


def test_an_edited_payload_is_named(ten_events, attacker):
    attacker.set_payload(4, ten_events[3].payload.replace("12.500000", "125.000000"))

    code, _, err = run_command("verify_ledger")

    assert code == 1
    assert "FAILED at event #4: its content does not match its hash: it was edited" in err


def test_a_deleted_middle_event_is_named(ten_events, attacker):
    attacker.delete(5)

    code, _, err = run_command("verify_ledger")

    assert code == 1
    assert "FAILED at event #5: missing: the next event found is #6" in err


def test_two_swapped_events_are_named(ten_events, attacker):
    attacker.swap(6, 7)

    code, _, err = run_command("verify_ledger")

    assert code == 1
    assert "FAILED at event #6: it claims to follow event #7, not #5: events were reordered" in err


def test_a_cut_tail_that_left_the_head_row_is_caught_without_an_anchor(ten_events, attacker):
    attacker.delete(9, 10)

    code, _, err = run_command("verify_ledger")

    assert code == 1
    assert "FAILED at event #9: missing: the ledger head records event #10" in err


def test_a_cut_tail_with_the_head_rewritten_is_caught_against_an_anchor(ten_events, attacker, anchor_file):
    anchor = anchor_file()
    attacker.delete(8, 9, 10)
    attacker.set_head(7)

    # What is left is a consistent chain of seven events: only the anchor knows there were ten.
    assert run_command("verify_ledger")[0] == 0
    code, _, err = run_command("verify_ledger", "--anchor", str(anchor))

    assert code == 1
    assert "FAILED at event #8: missing: the anchor taken at" in err
    assert "records event #10, the ledger ends at #7: the tail was cut" in err


def test_a_chain_recomputed_after_an_edit_is_caught_against_an_anchor(ten_events, attacker, anchor_file):
    anchor = anchor_file()
    attacker.set_payload(3, ten_events[2].payload.replace("12.500000", "1.000000"))
    attacker.recompute_from(3)

    assert run_command("verify_ledger")[0] == 0  # self-consistent: no anchor, no proof
    code, _, err = run_command("verify_ledger", "--anchor", str(anchor))

    assert code == 1
    assert "FAILED at event #10: its hash" in err
    assert "differs from the anchor taken at" in err and "the chain was recomputed" in err


def test_an_anchor_taken_earlier_is_still_in_a_longer_chain(ten_events, anchor_file):
    anchor = anchor_file()
    append(5)

    code, out, _ = run_command("verify_ledger", "--anchor", str(anchor))

    assert code == 0
    assert "Ledger intact: 15 events" in out
    assert f"Anchor #10 ({ten_events[-1].hash})" in out


def test_an_unreadable_anchor_stops_the_command(ten_events, tmp_path):
    broken = tmp_path / "anchor.json"
    broken.write_text('{"seq": "ten"}')

    code, _, err = run_command("verify_ledger", "--anchor", str(broken))

    assert code == 2
    assert "An anchor is a JSON object" in err


def test_strict_verification_also_catches_a_payload_rewritten_out_of_canonical_form(ten_events, attacker):
    # Same value, other bytes, hash recomputed over them: the chain is consistent, the form is not.
    attacker.set_payload(10, ten_events[9].payload.replace(",", ", "))
    attacker.rehash_last_as_stored()

    assert run_command("verify_ledger")[0] == 0
    code, _, err = run_command("verify_ledger", "--strict")

    assert code == 1
    assert "FAILED at event #10: its payload is not in canonical form" in err


# The database refuses, whatever the path ---------------------------------------------------------


def _orm_save():
    event = LedgerEvent.objects.get(seq=2)
    event.action = "rewritten"
    event.save()


def _bulk_update():
    event = LedgerEvent.objects.get(seq=2)
    event.action = "rewritten"
    LedgerEvent.objects.bulk_update([event], ["action"])


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(_orm_save, id="model save"),
        pytest.param(lambda: LedgerEvent.objects.get(seq=2).delete(), id="model delete"),
        pytest.param(lambda: LedgerEvent.objects.filter(seq=2).update(action="x"), id="queryset update"),
        pytest.param(_bulk_update, id="bulk update"),
        pytest.param(lambda: LedgerEvent.objects.filter(seq__gte=9).delete(), id="queryset delete"),
        pytest.param(
            lambda: connection.cursor().execute(
                "UPDATE governance_ledgerevent SET payload = '{}' WHERE seq = 2"
            ),
            id="raw update",
        ),
        pytest.param(
            lambda: connection.cursor().execute("DELETE FROM governance_ledgerevent WHERE seq = 10"),
            id="raw delete",
        ),
    ],
)
def test_every_way_of_rewriting_the_ledger_is_refused_and_it_stays_intact(ten_events, tamper):
    with pytest.raises((PermissionError, DatabaseError)), transaction.atomic():
        tamper()

    code, out, _ = run_command("verify_ledger", "--strict")
    assert code == 0 and "10 events" in out
    assert LedgerHead.objects.get().seq == 10
