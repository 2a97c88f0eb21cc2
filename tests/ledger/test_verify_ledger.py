"""verify_ledger: what it prints, its exit codes, what it reads, and the head and chain it checks.

The catalogue of tampering with signed events is tests/ledger/test_tamper_catalogue.py; here are
the command itself, the head row, anchors, and the hash chain of events written before signing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from governance.audit.management.commands import verify_ledger as command
from governance.ledger.canonical import utc_text
from governance.ledger.content import GENESIS_HASH, chained_content
from governance.ledger.merkle import EMPTY_ROOT
from governance.ledger.models import LedgerEvent, LedgerHead
from governance.ledger.sequencer import build_tree_of_chained_events
from governance.ledger.signing import SigningKey, ledger_signing_key
from tests.ledger.conftest import append, run_command

pytestmark = pytest.mark.django_db


@pytest.fixture
def ten_events():
    return append(10, amount=Decimal("12.500000"), note="Zoë – Zürich")


@pytest.fixture
def public_key(tmp_path):
    path = tmp_path / "ledger.pub"
    path.write_text(ledger_signing_key().verifier.text + "\n", encoding="utf-8")
    return path


@pytest.fixture
def checkpoint_file(tmp_path):
    """Publish a checkpoint now and keep its file, as an auditor does outside the database."""
    witness = tmp_path / "witness"
    witness.mkdir()
    taken = []

    def take():
        path = tmp_path / f"checkpoint-{len(taken)}.txt"
        code, _, err = run_command("ledger_checkpoint", "--output", str(path), "--witness", str(witness))
        assert code == 0, err
        taken.append(path)
        return path

    return take


def anchor_of(tmp_path, seq: int, digest: str, name: str = "anchor.json"):
    path = tmp_path / name
    path.write_text(json.dumps({"seq": seq, "hash": digest, "recorded_at": "2026-01-01T00:00:00.000000Z"}))
    return path


# The command ---------------------------------------------------------------------------------------


def test_an_intact_ledger_verifies_printing_its_count_root_and_who_ran_it(ten_events, public_key):
    code, out, err = run_command("verify_ledger", "--public-key", str(public_key))

    assert code == 0
    root = LedgerHead.objects.get().hash
    assert f"Ledger intact: 10 events, every signature verified, tree root {root}" in out
    assert "Verifying the ledger; run by " in err and "Checked (standard) by " in out


def test_without_a_public_key_the_configured_keys_are_trusted(ten_events):
    code, out, _ = run_command("verify_ledger")

    assert code == 0 and "Ledger intact: 10 events" in out


def test_an_empty_ledger_verifies_with_zero_events():
    code, out, _ = run_command("verify_ledger", "--strict")

    assert code == 0
    assert f"Ledger intact: 0 events, every signature verified, tree root {EMPTY_ROOT.hex()}" in out
    assert "Checked (strict) by " in out


def test_long_runs_report_progress_on_stderr():
    append(25)

    code, _, err = run_command("verify_ledger", "--progress-every", "10", "--chunk-size", "5")

    assert code == 0
    assert "verified 10 of 25 events (40%)" in err
    assert "verified 20 of 25 events (80%)" in err


@pytest.mark.parametrize("option", ["--progress-every", "--chunk-size"])
def test_a_non_positive_progress_or_chunk_size_is_refused(option):
    code, _, err = run_command("verify_ledger", option, "0")

    assert code == 2 and "must be positive" in err


def test_the_operator_is_named_even_without_a_login_name(ten_events, monkeypatch):
    def no_login():
        raise KeyError("no login name")

    monkeypatch.setattr(command.getpass, "getuser", no_login)

    code, out, err = run_command("verify_ledger")

    assert code == 0
    assert "run by unknown operator" in err and "Checked (standard) by unknown operator" in out


def test_a_failure_names_the_operator_too(ten_events, attacker, monkeypatch):
    monkeypatch.setattr(command, "operator_name", lambda: "auditor@host")
    attacker.set_payload(4, ten_events[3].payload.replace("12.500000", "125.000000"))

    code, _, err = run_command("verify_ledger")

    assert code == 1
    assert (
        "FAILED at event #4: its content does not match its hash: it was edited. (run by auditor@host)" in err
    )


# What the auditor gives it: exit 2 when it cannot be read --------------------------------------------


def test_an_unreadable_checkpoint_stops_the_command(ten_events, tmp_path):
    broken = tmp_path / "checkpoint.txt"
    broken.write_text("not a checkpoint\n")

    code, _, err = run_command("verify_ledger", "--checkpoint", str(broken))

    assert code == 2
    assert f"The checkpoint {broken} is not genuine" in err


def test_a_missing_checkpoint_file_stops_the_command(ten_events, tmp_path):
    code, _, err = run_command("verify_ledger", "--checkpoint", str(tmp_path / "absent.txt"))

    assert code == 2 and "Cannot read the checkpoint" in err


def test_a_checkpoint_signed_by_another_key_is_not_genuine(ten_events, checkpoint_file, tmp_path):
    kept = checkpoint_file()
    other = tmp_path / "other.pub"
    other.write_text(SigningKey.generate("valuegate.test/ledger").verifier.text + "\n")

    code, _, err = run_command("verify_ledger", "--checkpoint", str(kept), "--public-key", str(other))

    assert code == 2 and "is not genuine" in err


@pytest.mark.parametrize(
    "content, message",
    [
        pytest.param("{not json", "Cannot read the receipt", id="not json"),
        pytest.param('{"hash": "abc"}', "lacks hash, recorded_at, key_id or signature", id="incomplete"),
    ],
)
def test_an_unreadable_receipt_stops_the_command(ten_events, tmp_path, content, message):
    receipt = tmp_path / "receipt.json"
    receipt.write_text(content)

    code, _, err = run_command("verify_ledger", "--receipt", str(receipt))

    assert code == 2 and message in err


def test_a_receipt_no_known_key_signed_is_reported_as_tampering(ten_events, tmp_path):
    forged = dict(ten_events[2].receipt(), signature=ten_events[3].signature)
    receipt = tmp_path / "receipt.json"
    receipt.write_text(json.dumps(forged))

    code, _, err = run_command("verify_ledger", "--receipt", str(receipt))

    assert code == 1 and "is not signed by a known key" in err


@pytest.mark.parametrize(
    "value", ["not+a+key", "PRIVATE+KEY+valuegate.test/ledger+00000000+AAAA"], ids=["malformed", "private"]
)
def test_an_unusable_public_key_stops_the_command(ten_events, value):
    code, _, _ = run_command("verify_ledger", "--public-key", value)

    assert code == 2


def test_a_missing_public_key_file_stops_the_command(ten_events, tmp_path):
    code, _, err = run_command("verify_ledger", "--public-key", str(tmp_path / "absent.pub"))

    assert code == 2 and "does not exist" in err


# Checkpoints and anchors ------------------------------------------------------------------------------


def test_checkpoints_taken_earlier_still_match_a_longer_ledger(ten_events, checkpoint_file, public_key):
    first = checkpoint_file()
    append(5)
    second = checkpoint_file()
    append(2)

    code, out, _ = run_command(
        "verify_ledger",
        "--public-key",
        str(public_key),
        "--checkpoint",
        str(first),
        "--checkpoint",
        str(second),
    )

    assert code == 0
    assert "Ledger intact: 17 events" in out
    assert "Checkpoint of 10 events" in out and "Checkpoint of 15 events" in out


def test_an_anchor_of_a_signed_event_is_found_in_a_longer_ledger(ten_events, tmp_path):
    anchor = anchor_of(tmp_path, 10, ten_events[-1].hash)
    append(5)

    code, out, _ = run_command("verify_ledger", "--anchor", str(anchor))

    assert code == 0
    assert "Ledger intact: 15 events" in out
    assert f"Anchor #10 ({ten_events[-1].hash})" in out


def test_an_anchor_whose_hash_differs_names_the_event(ten_events, tmp_path):
    anchor = anchor_of(tmp_path, 6, hashlib.sha256(b"other").hexdigest())

    code, _, err = run_command("verify_ledger", "--anchor", str(anchor))

    assert code == 1
    assert "FAILED at event #6: its hash" in err and "differs from the anchor taken at" in err


def test_an_anchor_beyond_the_ledger_reveals_a_cut_tail(ten_events, attacker, tmp_path):
    anchor = anchor_of(tmp_path, 10, ten_events[-1].hash)
    attacker.delete(9, 10)
    attacker.rebuild_tree()

    assert run_command("verify_ledger")[0] == 0
    code, _, err = run_command("verify_ledger", "--anchor", str(anchor))

    assert code == 1
    assert "FAILED at event #9: missing: the anchor taken at" in err
    assert "records event #10, the ledger ends at #8: the tail was cut" in err


def test_an_unreadable_anchor_stops_the_command(ten_events, tmp_path):
    broken = tmp_path / "anchor.json"
    broken.write_text('{"seq": "ten"}')

    code, _, err = run_command("verify_ledger", "--anchor", str(broken))

    assert code == 2
    assert "An anchor is a JSON object" in err


# The head row --------------------------------------------------------------------------------------------


def test_a_head_with_another_root_is_named(ten_events, attacker):
    attacker.sql("UPDATE governance_ledgerhead SET hash = %s WHERE id = 1", ["ab" * 32])

    code, _, err = run_command("verify_ledger")

    assert code == 1
    assert "FAILED at event #10: the ledger head records 10 events with root abababababababab…" in err
    assert "which is not the tree rebuilt from the events (10, " in err


def test_a_head_moved_back_is_named_at_its_seq(ten_events, attacker):
    attacker.sql("UPDATE governance_ledgerhead SET seq = 7 WHERE id = 1")

    code, _, err = run_command("verify_ledger")

    assert code == 1
    assert "FAILED at event #7: the ledger head records 7 events" in err


def test_a_missing_head_is_named(ten_events, attacker):
    attacker.sql("DELETE FROM governance_ledgerhead")

    code, _, err = run_command("verify_ledger")

    assert code == 1 and "FAILED at event #10: the ledger head is missing" in err


def test_gaps_and_reorders_are_named_by_their_first_seq(ten_events, attacker):
    attacker.delete(3, 4)

    code, _, err = run_command("verify_ledger")

    assert code == 1 and "FAILED at event #3: missing: the next event found is #5; it was deleted" in err


# The hash chain written before the ledger was signed ---------------------------------------------------


def legacy_chain(count: int) -> list[str]:
    """Write `count` events of the old hash chain (as a migrated database holds them) and build the tree."""
    prev, rows = GENESIS_HASH, []
    for seq in range(1, count + 1):
        recorded_at = dt.datetime(2024, 1, 1, 9, 0, seq, 123456, tzinfo=dt.UTC)
        payload = json.dumps({"n": seq}, separators=(",", ":"))
        digest = hashlib.sha256(
            chained_content(
                seq=seq,
                recorded_at=utc_text(recorded_at),
                actor="system",
                action="test.event",
                initiative=None,
                payload=payload,
                prev_hash=prev,
            )
        ).hexdigest()
        rows.append(
            LedgerEvent(
                seq=seq,
                recorded_at=recorded_at,
                actor_name="system",
                action="test.event",
                payload=payload,
                prev_hash=prev,
                hash=digest,
            )
        )
        prev = digest
    LedgerEvent.objects.bulk_create(rows)
    assert build_tree_of_chained_events() == count
    return [row.hash for row in rows]


def test_a_chain_written_before_signing_then_signed_events_verify():
    legacy_chain(4)
    append(3)

    code, out, _ = run_command("verify_ledger", "--strict")

    assert code == 0 and "Ledger intact: 7 events" in out
    assert list(LedgerEvent.objects.order_by("seq").values_list("seq", flat=True)) == list(range(1, 8))


def test_an_edited_event_of_the_old_chain_is_named(attacker):
    legacy_chain(4)
    append(2)
    attacker.set_payload(2, '{"n":20}')

    code, _, err = run_command("verify_ledger")

    assert code == 1 and "FAILED at event #2: its content does not match its hash: it was edited" in err


def test_swapped_events_of_the_old_chain_are_named(attacker):
    legacy_chain(4)
    attacker.swap(2, 3)

    code, _, err = run_command("verify_ledger")

    assert code == 1
    assert (
        "FAILED at event #2: it claims to follow event #3, not #1: events were reordered or renumbered" in err
    )


def test_an_old_chain_recomputed_after_an_edit_is_caught_against_a_checkpoint(attacker, checkpoint_file):
    hashes = legacy_chain(3)
    kept = checkpoint_file()
    # Rewrite event #3, the chain's last, with its chain hash recomputed over the new content.
    event = LedgerEvent.objects.get(seq=3)
    digest = hashlib.sha256(
        chained_content(
            seq=3,
            recorded_at=utc_text(event.recorded_at),
            actor="system",
            action="test.event",
            initiative=None,
            payload='{"n":30}',
            prev_hash=hashes[1],
        )
    ).hexdigest()
    attacker.set_payload(3, '{"n":30}')
    attacker.set_column(3, "hash", digest)
    attacker.rebuild_tree()

    assert run_command("verify_ledger")[0] == 0  # self-consistent: unsigned events need a checkpoint
    code, _, err = run_command("verify_ledger", "--checkpoint", str(kept))

    assert code == 1
    assert (
        "FAILED at event #3: the tree of the first 3 events does not have the root of the checkpoint" in err
    )


# The database refuses, whatever the path -----------------------------------------------------------------


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
        pytest.param(lambda: LedgerEvent.objects.filter(seq=2).update(seq=20), id="renumber"),
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
        pytest.param(
            lambda: connection.cursor().execute("DELETE FROM governance_ledgertreenode"),
            id="tree nodes delete",
        ),
    ],
)
def test_every_way_of_rewriting_the_ledger_is_refused_and_it_stays_intact(ten_events, tamper):
    with pytest.raises((PermissionError, DatabaseError)), transaction.atomic():
        tamper()

    code, out, _ = run_command("verify_ledger", "--strict")
    assert code == 0 and "10 events" in out
    assert LedgerHead.objects.get().seq == 10
