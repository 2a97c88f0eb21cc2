"""`manage.py ledger_proof`: inclusion and consistency proofs an auditor checks against signed
checkpoints with the public key alone, read from the stored tree in a fixed number of queries."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.ledger.checkpoints import event_inclusion, ledger_checkpoint
from governance.ledger.merkle import verify_consistency, verify_inclusion
from governance.ledger.models import LedgerEvent
from governance.ledger.notes import open_checkpoint
from governance.ledger.signing import ledger_signing_key
from tests.ledger.conftest import append, run_command

pytestmark = pytest.mark.django_db


def signed_tree(note: str):
    checkpoint, _ = open_checkpoint(note, [ledger_signing_key().verifier])
    return checkpoint


def test_every_event_is_proved_in_the_checkpoint_and_a_wrong_leaf_is_not():
    append(13)
    ledger_checkpoint()
    for event in LedgerEvent.objects.order_by("seq"):
        code, out, err = run_command("ledger_proof", "--seq", str(event.seq))
        assert code == 0, err
        proof = json.loads(out)
        checkpoint = signed_tree(proof["checkpoint"])
        path = [bytes.fromhex(node) for node in proof["proof"]]
        assert proof["leaf_hash"] == event.hash and proof["root_hash"] == checkpoint.root.hex()
        assert verify_inclusion(
            bytes.fromhex(event.hash), event.seq - 1, checkpoint.size, path, checkpoint.root
        )
        assert not verify_inclusion(bytes(32), event.seq - 1, checkpoint.size, path, checkpoint.root)


def test_a_receipts_hash_finds_its_proof_and_a_later_checkpoint_extends_an_earlier_one():
    first = append(5)
    ledger_checkpoint()
    append(6)
    ledger_checkpoint()

    code, out, _ = run_command("ledger_proof", "--hash", first[2].hash)
    assert code == 0 and json.loads(out)["seq"] == 3

    code, out, err = run_command("ledger_proof", "--consistency", "5")
    assert code == 0, err
    proof = json.loads(out)
    old, new = signed_tree(proof["old_checkpoint"]), signed_tree(proof["new_checkpoint"])
    nodes = [bytes.fromhex(node) for node in proof["proof"]]
    assert (old.size, new.size) == (5, 11)
    assert verify_consistency(old.size, new.size, old.root, new.root, nodes)


def test_a_proof_reads_the_tree_in_one_query_whatever_its_size():
    append(40)
    ledger_checkpoint()
    with CaptureQueriesContext(connection) as queries:
        event_inclusion(seq=17)
    assert len(queries) == 2  # the checkpoint, the nodes


@pytest.mark.parametrize(
    "args, message",
    [
        (("--seq", "99"), "Event #99 is not in the checkpoint of 3 events."),
        (("--hash", "ab" * 32), "No sequenced event has that hash."),
        (("--consistency", "2"), "No checkpoint of that size has been published."),
    ],
)
def test_a_proof_that_cannot_be_given_says_why(args, message):
    append(3)
    ledger_checkpoint()
    code, _, err = run_command("ledger_proof", *args)
    assert code == 1 and message in err


def test_an_export_reads_the_tree_in_one_query_however_many_checkpoints_it_proves(members):
    """Each earlier checkpoint gets its consistency proof; their nodes come in one query, not one each."""
    import io

    from governance.audit.services import ledger_export

    for _ in range(12):
        append(3)
        ledger_checkpoint()
    with CaptureQueriesContext(connection) as queries:
        summary = ledger_export(actor=members["auditor"], out=io.BytesIO(), fmt="json")
    node_reads = [
        q["sql"] for q in queries if q["sql"].startswith("SELECT") and "governance_ledgertreenode" in q["sql"]
    ]
    assert len(node_reads) == 1
    assert summary.checkpoint.size == 36
