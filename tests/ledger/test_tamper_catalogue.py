"""The tamper catalogue: every way of rewriting the signed ledger, caught by `verify_ledger`.

The auditor keeps, outside the database, only the ledger's public key, the last checkpoint
published before the tampering and, for some cases, the receipt of a decision. The attacker has
the database (SQLite file or PostgreSQL superuser) but not the signing key: they drop the triggers
and rewrite rows with plain SQL, then genuine decisions go on being recorded. Each test's docstring
says what the auditor needs to catch its case.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import unicodedata

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from governance.ledger.canonical import utc_text
from governance.ledger.content import chained_content, leaf_hash_hex, signed_message
from governance.ledger.models import LedgerEvent, LedgerHead
from governance.ledger.sequencer import seal_pending
from governance.ledger.signing import SigningKey, ledger_signing_key
from tests.factories import InitiativeFactory
from tests.ledger.conftest import append, run_command

pytestmark = pytest.mark.django_db

TAMPERED, UNUSABLE = 1, 2


class Auditor:
    """What an auditor keeps outside the database, and how they run the verifier."""

    def __init__(self, tmp_path):
        self.dir = tmp_path
        self.public_key = tmp_path / "ledger.pub"
        self.public_key.write_text(ledger_signing_key().verifier.text + "\n", encoding="utf-8")
        self.witness = tmp_path / "witness"
        self.witness.mkdir()
        self.kept: list[str] = []

    def take_checkpoint(self):
        """Publish a checkpoint now and keep its file."""
        path = self.dir / f"checkpoint-{len(self.kept)}.txt"
        code, out, err = run_command(
            "ledger_checkpoint", "--output", str(path), "--witness", str(self.witness)
        )
        assert code == 0, err
        assert path.read_text(encoding="utf-8") == out
        self.kept.append(str(path))
        return path

    def keep_receipt(self, event: LedgerEvent):
        path = self.dir / f"receipt-{event.hash[:8]}.json"
        path.write_text(json.dumps(event.receipt()), encoding="utf-8")
        return path

    def verify(self, *args, key=None, checkpoints: bool = True) -> tuple[int, str, str]:
        """verify_ledger with the public key file (or `key`) and, unless told not to, the checkpoints kept."""
        command = ["--public-key", str(key or self.public_key)]
        if checkpoints:
            for path in self.kept:
                command += ["--checkpoint", path]
        return run_command("verify_ledger", *command, *map(str, args))


@pytest.fixture
def auditor(tmp_path):
    return Auditor(tmp_path)


@pytest.fixture
def people(db):
    users = get_user_model().objects
    return users.create_user(username="alice"), users.create_user(username="bob")


@pytest.fixture
def ledger(people, auditor):
    """Ten genuine decisions by alice, checkpointed by the auditor."""
    events = append(10, actor=people[0], note="Zoë – Zürich")
    auditor.take_checkpoint()
    return events


def later_decisions(count: int = 3) -> list[LedgerEvent]:
    """Genuine decisions recorded after the tampering (the application keeps running)."""
    return append(count, note="after the tampering")


def failed(result: tuple[int, str, str], seq: int, *words: str) -> None:
    """verify_ledger exited 1 naming event #seq, in words including `words`."""
    code, _out, err = result
    assert code == TAMPERED, err
    assert f"Ledger verification FAILED at event #{seq}:" in err, err
    for word in words:
        assert word in err, err


def db_time(value: dt.datetime):
    return connection.ops.adapt_datetimefield_value(value)


def intact(result: tuple[int, str, str], count: int) -> None:
    code, out, err = result
    assert code == 0, err
    assert f"Ledger intact: {count} events, every signature verified" in out


# Edits of a signed event's columns ------------------------------------------------------------------


def _edits(people):
    """Column -> a new value for event #4 (computed once the ledger exists)."""
    initiative = InitiativeFactory()
    return {
        "recorded_at": lambda event: db_time(event.recorded_at + dt.timedelta(seconds=1)),
        "actor_id": lambda event: people[1].pk,
        "actor_name": lambda event: "bob",
        "action": lambda event: "test.other",
        "initiative_id": lambda event: initiative.pk,
        "payload": lambda event: event.payload.replace('"n":3', '"n":300'),
        "nonce": lambda event: "ff" * 16,
        "key_id": lambda event: "deadbeef",
        "signature": lambda event: LedgerEvent.objects.get(seq=5).signature,
        "hash": lambda event: hashlib.sha256(b"anything").hexdigest(),
    }


CONTENT = ["recorded_at", "actor_id", "actor_name", "action", "initiative_id", "payload", "nonce"]
EXPECTED_PLAIN = {
    **{column: "its content does not match its hash: it was edited" for column in CONTENT},
    "hash": "its content does not match its hash: it was edited",
    "key_id": "it is signed with key 'deadbeef', which is not a known ledger key: it was forged",
    "signature": "its signature does not verify: it was forged or edited",
}
EXPECTED_RECOMPUTED = {
    **{column: "its signature does not verify: it was forged or edited" for column in CONTENT},
    "key_id": "it is signed with key 'deadbeef', which is not a known ledger key: it was forged",
    "signature": "its signature does not verify: it was forged or edited",
}


@pytest.mark.parametrize("with_checkpoint", [False, True], ids=["public key alone", "with checkpoint"])
@pytest.mark.parametrize("column", list(EXPECTED_PLAIN))
def test_an_edited_column_of_a_signed_event_is_named(
    ledger, people, attacker, auditor, column, with_checkpoint
):
    """Public key alone: the leaf hash no longer covers the columns, or the signature fails."""
    value = _edits(people)[column](ledger[3])
    attacker.set_column(4, column, value)
    later_decisions()

    failed(auditor.verify(checkpoints=with_checkpoint), 4, EXPECTED_PLAIN[column])


@pytest.mark.parametrize("with_checkpoint", [False, True], ids=["public key alone", "with checkpoint"])
@pytest.mark.parametrize("column", list(EXPECTED_RECOMPUTED))
def test_an_edit_with_its_hash_and_the_tree_recomputed_is_named(
    ledger, people, attacker, auditor, column, with_checkpoint
):
    """Public key alone: the attacker can recompute the leaf hash and the tree, not the signature."""
    value = _edits(people)[column](ledger[3])
    attacker.set_column(4, column, value)
    attacker.rehash(4)
    attacker.rebuild_tree()
    later_decisions()

    failed(auditor.verify(checkpoints=with_checkpoint), 4, EXPECTED_RECOMPUTED[column])


def test_an_edited_payload_recomputed_with_the_tree_is_caught_by_its_signature(ledger, attacker, auditor):
    """Public key alone: a rewritten amount, hash, tree and head all recomputed — the signature is not."""
    attacker.set_payload(7, ledger[6].payload.replace("Zoë", "Zoe"))
    attacker.rehash(7)
    attacker.rebuild_tree()
    later_decisions()
    head = LedgerHead.objects.get()
    assert head.seq == 13  # the stored tree and head are consistent with the rewritten events

    failed(auditor.verify(checkpoints=False), 7, "signature does not verify", "forged or edited")
    failed(auditor.verify(), 7, "signature does not verify")


# Deleted, renumbered, reordered and cut events -------------------------------------------------------


def test_a_deleted_middle_event_leaves_a_gap_that_is_named(ledger, attacker, auditor):
    """Public key alone: the sequence has a gap."""
    attacker.delete(5)
    later_decisions()

    failed(auditor.verify(checkpoints=False), 5, "missing: the next event found is #6; it was deleted")


def test_a_deleted_event_with_the_rest_renumbered_and_the_tree_rebuilt_is_caught_by_the_checkpoint(
    ledger, attacker, auditor
):
    """Checkpoint: nine consistent, genuinely signed events, but not the tree the checkpoint signed."""
    attacker.delete(5)
    attacker.renumber()
    attacker.rebuild_tree()
    later_decisions()

    intact(auditor.verify(checkpoints=False), count=12)  # every signature still holds
    failed(
        auditor.verify(),
        10,
        "the tree of the first 10 events does not have the root of the checkpoint",
        "deleted",
    )


def test_a_deleted_event_with_the_rest_renumbered_and_nothing_appended_is_a_cut(ledger, attacker, auditor):
    """Checkpoint: the ledger is now shorter than the checkpoint."""
    attacker.delete(5)
    attacker.renumber()
    attacker.rebuild_tree()

    failed(auditor.verify(), 10, "missing: a checkpoint records 10 events, the ledger ends at #9")


def test_two_swapped_events_with_the_tree_rebuilt_are_caught_by_the_checkpoint(ledger, attacker, auditor):
    """Checkpoint: signatures do not cover the order, the checkpoint's root does."""
    attacker.swap(3, 8)
    attacker.rebuild_tree()
    later_decisions()

    intact(auditor.verify(checkpoints=False), count=13)
    failed(auditor.verify(), 10, "does not have the root of the checkpoint", "reordered")


def test_two_swapped_events_without_the_tree_rebuilt_disagree_with_the_head(ledger, attacker, auditor):
    """Public key alone: the head the sequencer moved is not the tree of the reordered events."""
    attacker.swap(3, 8)

    failed(auditor.verify(checkpoints=False), 10, "the ledger head records 10 events with root")


def test_a_cut_tail_that_left_the_head_is_caught_with_the_public_key_alone(ledger, attacker, auditor):
    """Public key alone: the head still counts the deleted events."""
    attacker.delete(8, 9, 10)

    failed(
        auditor.verify(checkpoints=False),
        8,
        "missing: the ledger head records 10 events, the ledger ends at #7: the tail was cut",
    )


def test_a_cut_tail_with_the_head_moved_is_caught_by_the_checkpoint(ledger, attacker, auditor):
    """Checkpoint: what is left is a consistent ledger of seven events; the checkpoint knew ten."""
    attacker.delete(8, 9, 10)
    attacker.rebuild_tree()

    intact(auditor.verify(checkpoints=False), count=7)
    failed(
        auditor.verify(),
        8,
        "missing: a checkpoint records 10 events, the ledger ends at #7: the tail was cut",
    )


def test_a_cut_tail_with_the_head_moved_and_new_decisions_after_is_caught_by_the_checkpoint(
    ledger, attacker, auditor
):
    """Checkpoint: the ledger grew past the checkpoint again, but not from the tree it signed."""
    attacker.delete(8, 9, 10)
    attacker.rebuild_tree()
    later_decisions(5)

    intact(auditor.verify(checkpoints=False), count=12)
    failed(auditor.verify(), 10, "does not have the root of the checkpoint", "deleted")


def test_a_ledger_emptied_with_its_head_reset_is_caught_by_the_checkpoint(ledger, attacker, auditor):
    """Checkpoint: an empty ledger is consistent; the checkpoint says it had ten events."""
    attacker.sql("DELETE FROM governance_ledgerevent")
    attacker.rebuild_tree()  # no nodes left, the head reset to the empty tree
    assert LedgerHead.objects.get().seq == 0

    intact(auditor.verify(checkpoints=False), count=0)
    failed(
        auditor.verify(),
        1,
        "missing: a checkpoint records 10 events, the ledger ends at #0: the tail was cut",
    )


@pytest.mark.parametrize("victim", [10, 4], ids=["last decision", "middle decision renumbered"])
def test_the_receipt_of_a_cut_decision_names_it(ledger, attacker, auditor, victim):
    """Receipt: the decision's maker kept its signed receipt; no event of the ledger has its hash."""
    receipt = auditor.keep_receipt(ledger[victim - 1])
    attacker.delete(victim)
    attacker.renumber()
    attacker.rebuild_tree()

    assert auditor.verify(checkpoints=False)[0] == 0
    code, out, err = auditor.verify("--receipt", receipt, checkpoints=False)

    failed(
        (code, out, err),
        10,
        "missing: the receipt of test.event recorded at",
        "names no event of the ledger: it was cut",
    )
    assert ledger[victim - 1].hash[:16] in err


# Forged events ---------------------------------------------------------------------------------------


def test_a_forged_append_is_caught_without_a_checkpoint(ledger, attacker, auditor):
    """Public key alone: the forger signed with a key of their own, which the auditor does not know."""
    seq = attacker.forge_append(actor_name="mallory", action="test.event")
    later_decisions()

    failed(auditor.verify(checkpoints=False), seq, "which is not a known ledger key: it was forged")


def test_a_forged_append_claiming_the_ledgers_key_id_is_caught_without_a_checkpoint(
    ledger, attacker, auditor
):
    """Public key alone: the key id is ours, the signature is not."""
    seq = attacker.forge_append(key_id=ledger_signing_key().key_id)

    failed(auditor.verify(checkpoints=False), seq, "its signature does not verify: it was forged")


def test_a_forged_unsigned_event_after_signed_ones_is_caught(ledger, attacker, auditor):
    """Public key alone: the hash chain's format only exists before the first signed event."""
    last = ledger[-1]
    at = "2026-02-01T00:00:00.000000Z"
    chain_hash = hashlib.sha256(
        chained_content(
            seq=11,
            recorded_at=at,
            actor="mallory",
            action="test.event",
            initiative=None,
            payload='{"n":0}',
            prev_hash=last.hash,
        )
    ).hexdigest()
    LedgerEvent.objects.bulk_create(
        [
            LedgerEvent(
                seq=11,
                recorded_at=dt.datetime(2026, 2, 1, tzinfo=dt.UTC),
                actor_name="mallory",
                action="test.event",
                payload='{"n":0}',
                prev_hash=last.hash,
                hash=chain_hash,
            )
        ]
    )
    attacker.rebuild_tree()
    later_decisions()

    failed(auditor.verify(checkpoints=False), 11, "it is unsigned, after signed events: it was forged")


def test_a_forged_pending_event_is_refused_by_the_sequencer_and_reported(ledger, attacker, auditor):
    """Public key alone: the row waits unsequenced, its signature failing, and verification says so."""
    at = "2026-03-01T00:00:00.000000Z"
    forger = SigningKey.generate("valuegate.test/ledger")
    digest = leaf_hash_hex(None, hashlib.sha256(b"made up").hexdigest())
    LedgerEvent.objects.bulk_create(
        [
            LedgerEvent(
                recorded_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
                actor_name="mallory",
                action="test.event",
                payload='{"n":0}',
                nonce="00" * 16,
                key_id=ledger_signing_key().key_id,
                signature=base64.b64encode(forger.sign(signed_message(digest, at))).decode(),
                hash=digest,
            )
        ]
    )
    forged_id = LedgerEvent.objects.get(hash=digest).pk

    assert forged_id in seal_pending().refused
    later_decisions()  # genuine decisions are still sealed around it
    assert LedgerEvent.objects.get(pk=forged_id).seq is None
    assert LedgerEvent.objects.filter(seq__isnull=False).count() == 13

    code, out, err = auditor.verify(checkpoints=False)
    assert code == TAMPERED, err
    assert "at event #14:" in err
    assert "an event waiting to be sequenced is not genuine: it was forged" in err


@pytest.mark.parametrize(
    "pending", ["genuine decision not yet sealed", "last event un-sequenced by the attacker"]
)
def test_an_edit_is_caught_while_an_event_waits_to_be_sequenced(ledger, attacker, auditor, settings, pending):
    """Public key alone: pending events must not hide the sequenced ones from verification."""
    attacker.set_payload(4, ledger[3].payload.replace('"n":3', '"n":300'))
    if pending == "genuine decision not yet sealed":
        settings.VALUEGATE_LEDGER_SEALING = "after_commit"
        append(1)  # recorded; its sequencing waits for a commit the test never makes
    else:
        attacker.sql("UPDATE governance_ledgerevent SET seq = NULL, sequenced_at = NULL WHERE seq = 10")
        attacker.rebuild_tree()  # the head now names event #9, which exists
    assert LedgerEvent.objects.filter(seq__isnull=True).count() == 1

    failed(auditor.verify(checkpoints=False), 4, "its content does not match its hash: it was edited")


# Rewritten forms of the same content -----------------------------------------------------------------


@pytest.mark.parametrize("recompute", [False, True], ids=["hash kept", "hash and tree recomputed"])
def test_a_name_rewritten_into_nfd_is_caught(auditor, attacker, recompute):
    """Public key alone: signed content is hashed byte for byte, never normalised while verifying."""
    jose = get_user_model().objects.create_user(username="José")
    append(4, actor=jose)
    auditor.take_checkpoint()
    decomposed = unicodedata.normalize("NFD", "José")
    assert decomposed != "José" and LedgerEvent.objects.get(seq=2).actor_name == "José"
    intact(auditor.verify(), count=4)

    attacker.set_column(2, "actor_name", decomposed)
    if recompute:
        attacker.rehash(2)
        attacker.rebuild_tree()
    later_decisions()

    expected = "its signature does not verify" if recompute else "its content does not match its hash"
    failed(auditor.verify(checkpoints=False), 2, expected)
    failed(auditor.verify(), 2, expected)


@pytest.mark.parametrize("strict", [False, True], ids=["default", "strict"])
def test_a_payload_rewritten_out_of_canonical_form_is_caught_even_with_its_hash_recomputed(
    ledger, attacker, auditor, strict
):
    """Public key alone: same value, other bytes; the recomputed hash is not the one signed."""
    attacker.set_payload(1, '{"n": 0, "note": "Zoë – Zürich"}')
    attacker.rehash(1)
    attacker.rebuild_tree()
    later_decisions()

    failed(
        auditor.verify(*(["--strict"] if strict else []), checkpoints=False),
        1,
        "its signature does not verify",
    )


# The auditor's own trust root ------------------------------------------------------------------------


def _resign_everything(attacker, forger: SigningKey) -> None:
    """Sign every event again with the attacker's key (as if they held the only copy of the key file)."""
    for event in LedgerEvent.objects.filter(seq__isnull=False):
        signature = base64.b64encode(forger.sign(signed_message(event.hash, utc_text(event.recorded_at))))
        attacker.sql(
            "UPDATE governance_ledgerevent SET key_id = %s, signature = %s WHERE id = %s",
            [forger.key_id, signature.decode(), event.pk],
        )


def test_verifying_with_the_attackers_own_key_file_fails(ledger, attacker, auditor, tmp_path):
    """Public key (the genuine one) or checkpoint: a key swapped in by the attacker proves nothing."""
    forger = SigningKey.generate("valuegate.test/ledger")
    their_key = tmp_path / "attacker.pub"
    their_key.write_text(forger.verifier.text + "\n", encoding="utf-8")
    attacker.set_payload(3, ledger[2].payload.replace('"n":2', '"n":200'))
    attacker.rehash(3)
    attacker.rebuild_tree()

    # Only event #3 re-signed by the attacker: the genuine events do not verify with their key.
    event = LedgerEvent.objects.get(seq=3)
    attacker.sql(
        "UPDATE governance_ledgerevent SET key_id = %s, signature = %s WHERE seq = 3",
        [
            forger.key_id,
            base64.b64encode(forger.sign(signed_message(event.hash, utc_text(event.recorded_at)))).decode(),
        ],
    )
    failed(auditor.verify(key=their_key, checkpoints=False), 1, "not a known ledger key")
    failed(auditor.verify(checkpoints=False), 3, "not a known ledger key: it was forged")

    # Every event re-signed by the attacker: their key fits the events, but not the checkpoint.
    _resign_everything(attacker, forger)
    code, _, err = auditor.verify(key=their_key)
    assert code == UNUSABLE, err
    assert "is not genuine" in err
    failed(auditor.verify(checkpoints=False), 1, "not a known ledger key: it was forged")


# The intact ledger -----------------------------------------------------------------------------------


def test_an_intact_ledger_verifies_against_its_checkpoints_and_a_receipt(ledger, auditor):
    """Public key, checkpoints and a receipt: an untouched ledger passes them all (exit 0)."""
    later = later_decisions(5)
    auditor.take_checkpoint()
    receipt = auditor.keep_receipt(ledger[4])
    later_receipt = auditor.keep_receipt(later[-1])

    code, out, err = auditor.verify("--receipt", receipt, "--receipt", later_receipt, "--strict")

    intact((code, out, err), count=15)
    assert f"tree root {LedgerHead.objects.get().hash}" in out
    assert "Checkpoint of 10 events" in out and "Checkpoint of 15 events" in out
    assert "2 receipts found in the ledger." in out


# Verification by worker processes --------------------------------------------------------------------


@pytest.mark.parametrize("column", ["payload", "signature", "key_id"])
def test_worker_processes_name_the_same_first_fault_as_one_process(ledger, people, attacker, auditor, column):
    """Chunks of two events, checked by three workers while this process reads ahead: the fault
    at #4 is reported, although a worker finished a later chunk first, and the words are the same."""
    attacker.set_column(4, column, _edits(people)[column](ledger[3]))
    attacker.set_column(9, "hash", _edits(people)["hash"](ledger[8]))
    later_decisions()

    alone = auditor.verify("--workers", "1", "--chunk-size", "2")
    workers = auditor.verify("--workers", "3", "--chunk-size", "2")

    failed(workers, 4, EXPECTED_PLAIN[column])
    assert workers == alone


def test_worker_processes_verify_an_intact_ledger_to_the_same_root(ledger, auditor):
    later_decisions(7)
    alone = auditor.verify("--workers", "1", "--chunk-size", "3")
    workers = auditor.verify("--workers", "2", "--chunk-size", "3")
    intact(workers, 17)
    assert workers[1].splitlines()[0] == alone[1].splitlines()[0]  # the same count and tree root


def test_workers_must_be_positive(ledger, auditor):
    code, _out, err = auditor.verify("--workers", "0")
    assert code == UNUSABLE and "--workers must be positive" in err
