"""export_ledger and tools/verify_export.py: a signed Merkle-tree export verifies offline with only
the public key (no Django); every tampering of the file, or of the ledger before it, fails."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import unicodedata

import pytest

from governance.ledger.content import leaf_hash_hex, signed_content, signed_message
from governance.ledger.merkle import root_of
from governance.ledger.models import LedgerEvent
from governance.ledger.notes import Checkpoint, sign_checkpoint
from governance.ledger.signing import SigningKey, ledger_signing_key
from governance.reviews.initiatives import business_case_record, initiative_create, kpi_define
from tests import factories
from tests.ledger.conftest import clock, run_command, verify_export

pytestmark = pytest.mark.django_db

DAY_1, DAY_2, DAY_3 = (dt.datetime(2025, 3, d, 9, 0, tzinfo=dt.UTC) for d in (1, 2, 3))


def describe(lead, title):
    initiative = initiative_create(
        actor=lead,
        title=title,
        department="Service – Zürich",
        pain_point="Customers wait an hour; “urgent” tickets wait longer.",
        process_embedding="Drafts replies in the ticketing tool",
    )
    business_case_record(
        actor=lead,
        initiative=initiative,
        budget="120000.50",
        expected_annual_benefit="400000",
        horizon_months=36,
        exit_criteria="Stop if the first reply is not 30% faster after three months.",
    )
    return initiative


def define_kpi(lead, initiative):
    kpi_define(
        actor=lead,
        initiative=initiative,
        name="First reply time",
        unit="minutes",
        direction="decrease",
        baseline="60",
        target="42.5",
        data_source="Ticketing BI",
    )


def checkpoint(tmp_path, name):
    path = tmp_path / name
    code, _, err = run_command("ledger_checkpoint", "--output", str(path), "--witness", str(tmp_path))
    assert code == 0, err
    return path


@pytest.fixture
def history(members, tmp_path):
    """Events on three days, a checkpoint kept after each of the first two:
    day 1: #1-2 (first initiative), day 2: #3-4 (second initiative), day 3: #5 (a KPI of the first)."""
    lead = factories.lead(username="léa")
    with clock(DAY_1):
        first = describe(lead, "Café reply assistant")
    day_1 = checkpoint(tmp_path, "day-1.txt")
    with clock(DAY_2):
        second = describe(lead, "Invoice matching")
    day_2 = checkpoint(tmp_path, "day-2.txt")
    with clock(DAY_3):
        define_kpi(lead, first)
    return {"first": first, "second": second, "lead": lead, "day_1": day_1, "day_2": day_2}


@pytest.fixture
def key(tmp_path):
    path = tmp_path / "ledger.pub"
    path.write_text(ledger_signing_key().verifier.text + "\n", encoding="utf-8")
    return path


def export(tmp_path, *args, fmt="json", name="export"):
    path = tmp_path / f"{name}.{fmt}"
    code, _, err = run_command(
        "export_ledger", "--actor", "auditor", "--format", fmt, "--output", str(path), *args
    )
    assert code == 0, err
    return path


def check(path, key, *args):
    return verify_export(path, "--public-key", key, *args)


def read(path):
    return json.loads(path.read_text(encoding="utf-8"))


def write(path, document):
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")


def receipt(tmp_path, seq, name="receipt.json"):
    path = tmp_path / name
    path.write_text(json.dumps(LedgerEvent.objects.get(seq=seq).receipt()), encoding="utf-8")
    return path


# What an attacker without the signing key can compute --------------------------------------------


def payload_text(event):
    return json.dumps(event["payload"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_sha256(event):
    content = signed_content(
        recorded_at=event["recorded_at"],
        actor_id=event["actor_id"],
        actor=event["actor"],
        action=event["action"],
        initiative=event["initiative"],
        nonce=event["nonce"],
        payload=payload_text(event),
    )
    return hashlib.sha256(content).hexdigest()


def resign(event, forger):
    event["hash"] = leaf_hash_hex(event["initiative"], content_sha256(event))
    event["key_id"] = forger.key_id
    event["signature"] = base64.b64encode(
        forger.sign(signed_message(event["hash"], event["recorded_at"]))
    ).decode()


def forge_checkpoint(document, forger):
    """Re-root the export's checkpoint over its (full-export) events, signed by the forger."""
    leaves = [bytes.fromhex(event["hash"]) for event in document["events"]]
    note = Checkpoint(origin=document["origin"], size=len(leaves), root=root_of(leaves))
    document["checkpoint"] = sign_checkpoint(note, forger)
    document["public_keys"] = [forger.verifier.text]


# Intact exports ---------------------------------------------------------------------------------


def test_a_full_export_verifies_offline_with_the_public_key(history, tmp_path, key):
    path = export(tmp_path)

    status, output = check(path, key)

    assert status == 0, output
    assert "Export intact: 5 events #1–#5; 5 signatures verified." in output
    document = read(path)
    assert document["tree"]["size"] == 5 and document["tree"]["left"] == document["tree"]["right"] == []
    assert "root " in output and "matches the export's checkpoint" in output
    assert "Zürich" in path.read_text(encoding="utf-8")  # text as UTF-8, not escaped


def test_an_initiative_export_withholds_the_other_events_and_still_proves_the_tree(history, tmp_path, key):
    path = export(tmp_path, "--initiative", str(history["second"].pk))
    text = path.read_text(encoding="utf-8")
    assert "Invoice matching" in text and "Café reply assistant" not in text

    status, output = check(path, key, "--receipt", receipt(tmp_path, 1))

    assert status == 0, output
    assert "Export intact: 5 events #1–#5, 3 withheld; 5 signatures verified." in output
    assert [e["seq"] for e in read(path)["events"] if e.get("withheld")] == [1, 2, 5]
    assert (
        "receipt.json: initiative.created recorded at 2025-03-01" in output and "is in the export" in output
    )


def test_a_period_export_mid_tree_is_proved_against_checkpoints_kept_earlier(history, tmp_path, key):
    path = export(tmp_path, "--since", "2025-03-02", "--until", "2025-03-02")
    tree = read(path)["tree"]
    assert [level for level, _ in tree["left"]] == [1] and [level for level, _ in tree["right"]] == [0]
    assert [proof["size"] for proof in tree["consistency"]] == [2, 4]

    status, output = check(
        path,
        key,
        "--checkpoint",
        history["day_1"],
        "--checkpoint",
        history["day_2"],
        "--receipt",
        receipt(tmp_path, 3, "in.json"),
        "--receipt",
        receipt(tmp_path, 1, "before.json"),
    )

    assert status == 0, output
    assert "Export intact: 2 events #3–#4; 2 signatures verified." in output
    assert "Tree: 5 events" in output
    assert "day-1.txt: 2 events, proved a prefix of the export's tree" in output
    assert "day-2.txt: 4 events, proved a prefix of the export's tree" in output
    assert "in.json: initiative.created recorded at 2025-03-02" in output and "is in the export" in output
    assert "before.json" in output and "outside the export's period" in output


def test_an_export_of_the_first_day_is_proved_against_a_later_checkpoint(history, tmp_path, key):
    path = export(tmp_path, "--until", "2025-03-01")

    status, output = check(path, key, "--checkpoint", history["day_2"])

    assert status == 0, output
    assert "Export intact: 2 events #1–#2" in output
    assert "day-2.txt: 4 events, proved a prefix of the export's tree." in output


# Tampering with the file -------------------------------------------------------------------------


def edit_amount(document):
    document["events"][1]["payload"]["budget"] = "12000.50"


def actor_in_nfd(document):
    document["events"][2]["actor"] = unicodedata.normalize("NFD", document["events"][2]["actor"])
    assert document["events"][2]["actor"] != "léa"


def float_payload(document):
    document["events"][1]["payload"]["horizon_months"] = 36.0


def withhold_in_a_full_export(document):
    event = document["events"][3]
    document["events"][3] = {
        "seq": 4,
        "withheld": True,
        "initiative": event["initiative"],
        "recorded_at": event["recorded_at"],
        "content_sha256": content_sha256(event),
        "key_id": event["key_id"],
        "signature": event["signature"],
        "prev_hash": None,
        "hash": event["hash"],
    }
    document["withheld"] = 1


def delete_middle(document):
    del document["events"][2]
    document["count"] = 4


def delete_and_renumber(document):
    del document["events"][2]
    for seq, event in enumerate(document["events"], 1):
        event["seq"] = seq
    document["count"] = document["last_seq"] = 4


def swap_contents(document):
    events = document["events"]
    events[2], events[3] = events[3], events[2]
    events[2]["seq"], events[3]["seq"] = 3, 4


def resign_with_own_key(document):
    forger = SigningKey.generate("valuegate.test/ledger")
    document["events"][1]["payload"]["budget"] = "12000.50"
    resign(document["events"][1], forger)
    forge_checkpoint(document, forger)


def own_checkpoint(document):
    forge_checkpoint(document, SigningKey.generate("valuegate.test/ledger"))


@pytest.mark.parametrize(
    ("tamper", "named"),
    [
        (edit_amount, "FAILED at event #2: its content does not match its hash"),
        (actor_in_nfd, "FAILED at event #3: its content does not match its hash"),
        (float_payload, "FAILED at event #2: its payload is not canonical JSON (36.0 is a float"),
        (
            withhold_in_a_full_export,
            "FAILED at event #4: it is withheld, but this is an export of the whole ledger",
        ),
        (delete_middle, "FAILED at event #3: missing: the next event in the export is #4"),
        (
            delete_and_renumber,
            "the export says count = 4 where its signed statement says 5: its period, scope or bounds "
            "were altered after it was signed",
        ),
        (swap_contents, "does not have the root of its checkpoint"),
        (resign_with_own_key, "FAILED at event #2: it is signed with a key you did not give"),
        (
            own_checkpoint,
            "the export's checkpoint is not genuine: it is signed only by keys you did not give",
        ),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_a_tampered_export_fails_naming_the_event(history, tmp_path, key, tamper, named):
    path = export(tmp_path)
    document = read(path)
    tamper(document)
    write(path, document)

    status, output = check(path, key)

    assert status == 1, output
    assert named in output


def test_a_withheld_event_claiming_the_exported_initiative_fails(history, tmp_path, key):
    path = export(tmp_path, "--initiative", str(history["second"].pk))
    document = read(path)
    document["events"][0]["initiative"] = history["second"].pk
    write(path, document)

    status, output = check(path, key)

    assert status == 1, output
    assert (
        "FAILED at event #1: it is withheld as another initiative's, yet names the exported initiative"
        in output
    )


def test_a_tail_moved_out_of_the_export_contradicts_its_signed_statement(history, tmp_path, key):
    """The tree still adds up with the cut events moved into its proof, and `until` can be moved
    to match; the statement the server signed with the export cannot."""
    path = export(tmp_path)
    document = read(path)
    cut = document["events"][3:]
    document["events"] = document["events"][:3]
    document["tree"]["right"] = [[0, event["hash"]] for event in cut]
    document["count"] = document["last_seq"] = 3
    document["until"] = "2025-03-02"
    write(path, document)

    status, output = check(path, key, "--receipt", receipt(tmp_path, 5))

    assert status == 1, output
    assert "its period, scope or bounds were altered after it was signed" in output


def test_a_statement_taken_from_another_export_does_not_fit(history, tmp_path, key):
    whole = read(export(tmp_path))
    path = export(tmp_path, "--since", "2025-03-03")
    document = read(path)
    document["statement"] = whole["statement"]
    write(path, document)

    status, output = check(path, key)

    assert status == 1, output
    assert "where its signed statement says" in output


def test_a_ledger_cut_before_the_export_is_caught_against_a_kept_checkpoint(history, tmp_path, key, attacker):
    kept = checkpoint(tmp_path, "day-3.txt")
    attacker.delete(4, 5)
    attacker.rebuild_tree()
    attacker.sql("DELETE FROM governance_ledgercheckpoint")
    path = export(tmp_path)
    assert check(path, key)[0] == 0  # consistent on its own, signed by the server

    status, output = check(path, key, "--checkpoint", kept)

    assert status == 1, output
    assert "the checkpoint you kept (" in output
    assert "has 5 events, the export's tree only 3: events were cut" in output


def test_a_kept_checkpoint_the_export_has_no_proof_for_is_a_failure(history, tmp_path, key):
    path = export(tmp_path, "--since", "2025-03-03")
    document = read(path)
    document["tree"]["consistency"] = [p for p in document["tree"]["consistency"] if p["size"] != 2]
    write(path, document)

    status, output = check(path, key, "--checkpoint", history["day_1"])

    assert status == 1, output
    assert "cannot prove the export extends the checkpoint you kept" in output


def test_a_bad_consistency_proof_is_a_failure(history, tmp_path, key):
    path = export(tmp_path, "--since", "2025-03-03")
    document = read(path)
    for proof in document["tree"]["consistency"]:
        proof["proof"][0] = "00" * 32
    write(path, document)

    status, output = check(path, key, "--checkpoint", history["day_1"])

    assert status == 1, output
    assert "does not extend the checkpoint you kept" in output


# What cannot be used ------------------------------------------------------------------------------


def test_without_a_public_key_nothing_is_verified(history, tmp_path):
    path = export(tmp_path)

    status, output = verify_export(path)

    assert status == 2
    assert "--public-key" in output


def test_a_bad_key_a_private_key_and_a_forged_receipt_are_unusable(history, tmp_path, key):
    path = export(tmp_path)
    assert check(path, key.parent / "missing.pub")[0] == 2
    assert verify_export(path, "--public-key", ledger_signing_key().text)[0] == 2
    forged = receipt(tmp_path, 2)
    data = json.loads(forged.read_text()) | {"hash": "ab" * 32}
    forged.write_text(json.dumps(data))

    status, output = check(path, key, "--receipt", forged)

    assert status == 2
    assert "not a genuine receipt" in output


def test_an_unreadable_export_is_reported_as_such(tmp_path, key):
    path = tmp_path / "export.csv"
    path.write_text("seq,when\n1,yesterday\n", encoding="utf-8")

    status, output = check(path, key)

    assert status == 2
    assert "unexpected CSV columns" in output


# CSV -----------------------------------------------------------------------------------------------


def test_a_csv_export_verifies_its_events_and_says_it_carries_no_tree(history, tmp_path, key):
    path = export(tmp_path, "--initiative", str(history["first"].pk), fmt="csv")

    status, output = check(path, key)

    assert status == 0, output
    assert "Export intact: 5 events #1–#5, 2 withheld; 5 signatures verified." in output
    assert "CSV carries no tree proof" in output

    status, output = check(path, key, "--checkpoint", history["day_1"])
    assert status == 2
    assert "use the JSON export" in output


def test_an_edited_csv_export_fails(history, tmp_path, key):
    path = export(tmp_path, fmt="csv")
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[2] = lines[2].replace("120000.50", "12000.50", 1)
    path.write_text("\n".join(lines), encoding="utf-8")

    status, output = check(path, key)

    assert status == 1, output
    assert "FAILED at event #2: its content does not match its hash" in output


def test_the_export_is_recorded_in_the_ledger_with_its_sha256(history, tmp_path):
    path = export(tmp_path, "--since", "2025-03-01")

    event = LedgerEvent.objects.order_by("-seq").first()
    payload = json.loads(event.payload)
    assert (event.action, event.actor_name) == ("ledger.exported", "auditor")
    assert payload["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (payload["first_seq"], payload["last_seq"], payload["events"]) == (1, 5, 5)
    assert read(path)["last_seq"] == 5  # the export does not contain itself


def test_an_old_anchor_given_as_head_must_name_the_event_s_hash(history, tmp_path, key):
    path = export(tmp_path)
    fifth = LedgerEvent.objects.get(seq=5).hash

    status, output = check(path, key, "--head", f"5:{fifth}")
    assert status == 0, output
    assert f"Anchor #5 ({fifth}) is in the export." in output

    status, output = check(path, key, "--head", f"5:{'ab' * 32}")
    assert status == 1
    assert "FAILED at event #5: its hash" in output and "differs from the anchor" in output
