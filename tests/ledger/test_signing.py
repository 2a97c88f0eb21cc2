"""Ledger keys, signed notes and checkpoints: interoperable with golang.org/x/mod/sumdb/note.

The test vectors are copied from the reference implementation and the specifications:
- golang.org/x/mod, sumdb/note/note_test.go (TestNewVerifier, TestNewSigner, TestSign, TestOpen):
  the PeterNeumann and EnochRoot keys and signatures;
- golang.org/x/mod, sumdb/client_test.go: the test server's key (its key ID 00000c67 starts with
  zeros) and a tree head it signed, and sumdb/tlog/note_test.go (TestFormatTree): a tree body;
- c2sp.org/signed-note (signed-note.md, "Example") and c2sp.org/tlog-checkpoint (its example).
(golang/mod at commit fe2ec04f7c3c3aa6fad97631aafcff6e49e2d1db; C2SP/C2SP main.)
No database.
"""

from __future__ import annotations

import base64
import hashlib
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from governance.ledger.notes import (
    MAX_SIGNATURES,
    Checkpoint,
    NoteError,
    OpenedNote,
    open_checkpoint,
    open_note,
    sign_checkpoint,
    sign_note,
)
from governance.ledger.signing import (
    KeyFormatError,
    SigningKey,
    VerifierKey,
    decode_base64,
    load_signing_key,
    load_verifier_keys,
)

ROOT = Path(__file__).resolve().parents[2]


def flip(text: str, index: int) -> str:
    """`text` with the character at `index` replaced by another base64 character."""
    return text[:index] + ("B" if text[index] == "A" else "A") + text[index + 1 :]


# golang.org/x/mod sumdb/note/note_test.go
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
PETER_SIG = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
ENOCH_SIG = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
PETER_NOTE = TEXT + "\n" + PETER_SIG

# golang.org/x/mod sumdb/client_test.go: the test server's keys and its signed tree of size 6.
SUMDB_SKEY = "PRIVATE+KEY+localhost.localdev/sumdb+00000c67+AXu6+oaVaOYuQOFrf1V59JK1owcFlJcHwwXHDfDGxSPk"
SUMDB_VKEY = "localhost.localdev/sumdb+00000c67+AcTrnkbUA+TU4heY3hkjiSES/DSQniBqIeQ/YppAUtK6"
SUMDB_TREE = (
    "go.sum database tree\n6\nwc4SkQt52o5W2nQ8To2ARs+mWuUJjss+sdleoiqxMmM=\n\n"
    "— localhost.localdev/sumdb AAAMZ6oRNswlEZ6ZZhxrCvgl1MBy+nusq4JU+TG6Fe2NihWLqOzb+y2c2kzRLoCr4tvw9o36ucQEnhc20e4nA4Qc/wc=\n"
)

# c2sp.org/signed-note, "Example".
C2SP_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
C2SP_NOTE = (
    "This is an example message.\n\n"
    "— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)
# c2sp.org/tlog-checkpoint: its example (no verifier key is published for it).
C2SP_CHECKPOINT = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
    "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
)


@pytest.fixture(scope="module")
def peter():
    return VerifierKey.parse(PETER_VKEY)


@pytest.fixture(scope="module")
def enoch():
    return VerifierKey.parse(ENOCH_VKEY)


@pytest.fixture(scope="module")
def ours():
    # A fixed seed: a random one made the checks below depend on the bytes drawn.
    return SigningKey.from_seed("valuegate.test/ledger", bytes(range(32)))


# --- Keys ---------------------------------------------------------------------------------------


def test_the_go_signer_and_verifier_keys_parse_with_their_key_hash_and_format_back_identically():
    signer = SigningKey.parse(PETER_SKEY)
    verifier = VerifierKey.parse(PETER_VKEY)

    assert (signer.name, signer.key_hash, signer.key_id) == ("PeterNeumann", 0xC74F20A3, "c74f20a3")
    assert signer.verifier == verifier
    assert signer.text == PETER_SKEY and verifier.text == PETER_VKEY
    assert len(verifier.public) == 32 and len(signer.seed) == 32


def test_a_key_id_with_leading_zeros_keeps_all_eight_hex_digits():
    verifier = VerifierKey.parse(SUMDB_VKEY)

    assert verifier.key_hash == 0xC67 and verifier.key_id == "00000c67"
    assert SigningKey.parse(SUMDB_SKEY).verifier == verifier
    assert verifier.text == SUMDB_VKEY


def test_the_key_hash_is_the_first_four_bytes_of_sha256_of_name_newline_algorithm_and_key():
    verifier = VerifierKey.parse(C2SP_VKEY)
    digest = hashlib.sha256(b"example.com/foo\n\x01" + verifier.public).digest()

    assert verifier.key_id == digest[:4].hex() == "530d903a"


def test_every_truncation_and_every_altered_character_of_a_verifier_key_is_refused():
    # As TestNewVerifier: each proper substring, and the key with any one byte incremented.
    for i in range(len(PETER_VKEY) + 1):
        for j in range(i + 1, len(PETER_VKEY) + 1):
            if (i, j) != (0, len(PETER_VKEY)):
                with pytest.raises(KeyFormatError):
                    VerifierKey.parse(PETER_VKEY[i:j])
    for i, ch in enumerate(PETER_VKEY):
        with pytest.raises(KeyFormatError):
            VerifierKey.parse(PETER_VKEY[:i] + chr(ord(ch) + 1) + PETER_VKEY[i + 1 :])


def test_every_truncation_and_altered_character_of_a_signer_key_is_refused_without_echoing_it():
    secret = PETER_SKEY.split("+", 4)[4]
    for i in range(len(PETER_SKEY) + 1):
        for j in range(i + 1, len(PETER_SKEY) + 1):
            if (i, j) != (0, len(PETER_SKEY)):
                with pytest.raises(KeyFormatError) as refused:
                    SigningKey.parse(PETER_SKEY[i:j])
                assert secret[:8] not in str(refused.value)
    for i, ch in enumerate(PETER_SKEY):
        with pytest.raises(KeyFormatError) as refused:
            SigningKey.parse(PETER_SKEY[:i] + chr(ord(ch) + 1) + PETER_SKEY[i + 1 :])
        assert secret[:8] not in str(refused.value)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # From TestNewVerifier: wrong key length and unknown algorithm, each with an adjusted hash.
        # (Go decodes the first's non-canonical base64; this module refuses it as such.)
        ("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==", "canonical base64"),
        ("PeterNeumann+00000000+" + base64.b64encode(b"\x01" + bytes(31)).decode(), "32 bytes, not 31"),
        ("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "unknown algorithm 0x65"),
        ("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "does not match"),
        ("EnochRoot+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "does not match"),
        ("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "lowercase hex"),
        ("PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "lowercase hex"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T", "base64"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW ", "base64"),
        ("PeterNeumann+c74f20a3+", "empty"),
        ("PeterNeumann+c74f20a3", "<name>+<hash>+<key>"),
        ("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "white space"),
        ("+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "non-empty"),
        ("", "<name>+<hash>+<key>"),
        (PETER_SKEY, "private signer key"),
    ],
)
def test_a_malformed_verifier_key_is_refused_saying_why(text, reason):
    with pytest.raises(KeyFormatError, match=reason.replace("+", r"\+")) as refused:
        VerifierKey.parse(text)

    assert "AYEKFALVFGyN" not in str(refused.value)


@pytest.mark.parametrize(
    "text",
    [
        "PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",  # wrong hash
        "PRIVATE+KEY+EnochRoot+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",  # wrong name
        "private+key+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AoEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",  # algorithm 2
        PETER_VKEY,
        " " + PETER_SKEY,
    ],
)
def test_a_malformed_signer_key_is_refused_without_repeating_its_secret(text):
    with pytest.raises(KeyFormatError) as refused:
        SigningKey.parse(text)

    assert "FALVFGyN" not in str(refused.value) and "ARpc2QcU" not in str(refused.value)


@pytest.mark.parametrize("name", ["", "a b", "a+b", "a\tb", "a\nb", "a\u00a0b", "a\u2003b", "a\x01b"])
def test_a_key_name_with_space_plus_or_control_characters_is_refused(name):
    with pytest.raises(KeyFormatError, match="key name"):
        SigningKey.generate(name)


def test_a_generated_key_signs_what_its_verifier_accepts_and_round_trips_through_its_text(ours):
    message = b"seq 1\n"
    signature = ours.sign(message)

    assert len(signature) == 64
    assert ours.verifier.verify(message, signature)
    assert SigningKey.parse(ours.text) == ours
    assert VerifierKey.parse(ours.verifier.text) == ours.verifier
    assert ours.key_id == f"{ours.key_hash:08x}" == ours.verifier.key_id
    assert SigningKey.generate(ours.name) != ours


def test_verify_answers_false_for_any_bad_signature_and_never_raises(ours, peter):
    signature = ours.sign(b"text\n")
    altered = bytes([signature[0] ^ 1]) + signature[1:]

    assert not ours.verifier.verify(b"text\n", altered)
    assert not ours.verifier.verify(b"text!\n", signature)
    assert not peter.verify(b"text\n", signature)
    for bad in (b"", signature[:63], signature + b"\0", b"\xff" * 64):
        assert not ours.verifier.verify(b"text\n", bad)


def test_a_signing_keys_repr_and_str_never_show_its_seed(ours):
    shown = repr(ours) + str(ours) + repr([ours]) + repr(ours.verifier)
    secret = ours.text.split("+", 4)[4]

    assert "seed" not in shown and secret not in shown and ours.seed.hex() not in shown
    assert repr(ours.seed) not in shown
    assert ours.name in shown


def test_strict_base64_refuses_non_canonical_spellings():
    assert decode_base64("QQ==") == b"A"
    for bad in ("QR==", "QQ", "QQ=", "Q Q==", "QQ==\n", "-_=="):
        with pytest.raises(ValueError):
            decode_base64(bad)


# --- Loading keys ---------------------------------------------------------------------------------


def test_load_signing_key_takes_the_key_text_or_a_file_holding_it(tmp_path, ours):
    path = tmp_path / "ledger.key"
    path.write_text(f"\n  {ours.text}  \n")

    assert load_signing_key(ours.text) == ours
    assert load_signing_key(f" {ours.text}\n") == ours
    assert load_signing_key(str(path)) == ours


def test_load_signing_key_names_a_missing_unreadable_or_malformed_file_but_never_its_content(tmp_path):
    secret = PETER_SKEY.split("+", 4)[4]
    with pytest.raises(KeyFormatError, match="does not exist") as refused:
        load_signing_key(str(tmp_path / "missing.key"))
    assert str(tmp_path / "missing.key") in str(refused.value)

    with pytest.raises(KeyFormatError, match="cannot read") as refused:
        load_signing_key(str(tmp_path))
    assert str(tmp_path) in str(refused.value)

    bad = tmp_path / "bad.key"
    bad.write_text(PETER_SKEY.replace("c74f20a3", "c74f20a4"))
    with pytest.raises(KeyFormatError, match="does not hold a valid signer key") as refused:
        load_signing_key(str(bad))
    assert str(bad) in str(refused.value) and secret not in str(refused.value)

    binary = tmp_path / "binary.key"
    binary.write_bytes(b"\xff\xfe")
    with pytest.raises(KeyFormatError, match="cannot read"):
        load_signing_key(str(binary))


def test_load_signing_key_refuses_an_empty_value_or_a_mistyped_key_without_echoing_it():
    with pytest.raises(KeyFormatError, match="no signing key"):
        load_signing_key("  ")
    mistyped = PETER_SKEY.replace("PRIVATE+KEY", "PRIVATE+KYE")
    with pytest.raises(KeyFormatError) as refused:
        load_signing_key(mistyped)
    assert "AYEKFALV" not in str(refused.value)


def test_load_verifier_keys_reads_texts_and_files_of_one_key_per_line_keyed_by_key_id(tmp_path):
    path = tmp_path / "old.pub"
    path.write_text(f"# rotated 2026-01\n{ENOCH_VKEY}\n\n  {SUMDB_VKEY}  \n")

    keys = load_verifier_keys([PETER_VKEY, str(path), "", PETER_VKEY])

    assert list(keys) == ["c74f20a3", "af0cfe78", "00000c67"]
    assert keys["af0cfe78"] == VerifierKey.parse(ENOCH_VKEY)
    assert load_verifier_keys(PETER_VKEY) == {"c74f20a3": VerifierKey.parse(PETER_VKEY)}
    assert load_verifier_keys([]) == {}


def test_load_verifier_keys_names_the_bad_file_and_line_and_refuses_a_private_key(tmp_path):
    path = tmp_path / "old.pub"
    path.write_text(f"{ENOCH_VKEY}\nPeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW\n")
    with pytest.raises(KeyFormatError, match=r"old\.pub, line 2: .*does not match"):
        load_verifier_keys([str(path)])

    with pytest.raises(KeyFormatError, match="does not exist"):
        load_verifier_keys([str(tmp_path / "nowhere.pub")])

    with pytest.raises(KeyFormatError, match="private signer key") as refused:
        load_verifier_keys([PETER_VKEY, PETER_SKEY])
    assert "AYEKFALV" not in str(refused.value)

    secret_file = tmp_path / "wrong.pub"
    secret_file.write_text(PETER_SKEY + "\n")
    with pytest.raises(KeyFormatError, match="private signer key") as refused:
        load_verifier_keys([str(secret_file)])
    assert "AYEKFALV" not in str(refused.value)


# --- Signed notes ---------------------------------------------------------------------------------


def test_signing_the_go_example_with_the_go_key_gives_the_go_note_byte_for_byte():
    # Ed25519 is deterministic: same key and text, same signature as note.Sign.
    assert sign_note(TEXT, SigningKey.parse(PETER_SKEY)) == PETER_NOTE


def test_the_go_note_opens_with_the_go_verifier(peter):
    opened = open_note(PETER_NOTE, [peter])

    assert opened == OpenedNote(text=TEXT, verified=(peter,), unverified=())
    assert open_note(PETER_NOTE.encode("utf-8"), peter) == opened


def test_the_c2sp_example_note_opens_with_its_verifier_key():
    key = VerifierKey.parse(C2SP_VKEY)

    assert open_note(C2SP_NOTE, {key.key_id: key}).text == "This is an example message.\n"


def test_signatures_by_unknown_keys_are_listed_not_verified(peter, enoch):
    note = TEXT + "\n" + PETER_SIG + ENOCH_SIG

    one = open_note(note, [peter])
    both = open_note(note, {peter.key_id: peter, enoch.key_id: enoch})

    assert one.verified == (peter,) and one.unverified == ("EnochRoot+af0cfe78",)
    assert both.verified == (peter, enoch) and both.unverified == ()


def test_a_note_no_known_key_signed_is_refused_naming_its_signers(peter, enoch, ours):
    with pytest.raises(
        NoteError, match=r"no signature by a known key: .*PeterNeumann\+c74f20a3, EnochRoot\+af0cfe78"
    ):
        open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [ours.verifier])
    with pytest.raises(NoteError, match="no signature by a known key"):
        open_note(PETER_NOTE, [])
    with pytest.raises(NoteError, match=r"example\.com/behind-the-sofa\+"):
        open_checkpoint(C2SP_CHECKPOINT, [peter])


def test_a_signature_sharing_only_the_name_or_only_the_key_id_of_a_known_key_is_ignored(peter, ours):
    # c2sp.org/signed-note: unknown unless both name and key ID match a known key.
    impostor = SigningKey.generate("PeterNeumann")
    same_name = sign_note(TEXT, impostor)
    raw = base64.b64decode(PETER_SIG.split()[-1])
    same_id = "— EnochRoot " + base64.b64encode(raw).decode() + "\n"

    with pytest.raises(NoteError, match=f"no signature by a known key: .*PeterNeumann\\+{impostor.key_id}"):
        open_note(same_name, [peter])
    with pytest.raises(NoteError, match=r"EnochRoot\+c74f20a3"):
        open_note(TEXT + "\n" + same_id, [peter])
    assert open_note(PETER_NOTE + same_id, [peter]).unverified == ("EnochRoot+c74f20a3",)


def test_a_tampered_text_fails_the_known_keys_signature_and_the_whole_note_is_refused(peter, enoch):
    tampered = PETER_NOTE.replace("don't", "do")

    with pytest.raises(NoteError, match="^signature by PeterNeumann does not verify$"):
        open_note(tampered, [peter])
    # A valid signature by another known key does not rescue it.
    with pytest.raises(NoteError, match="signature by PeterNeumann does not verify"):
        open_note(TEXT + "\n" + ENOCH_SIG + flip(PETER_SIG, 50), [peter, enoch])


def test_an_altered_signature_by_a_known_key_is_refused(peter):
    # From TestOpen: "ABCD" spliced into the signature.
    altered = PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]

    with pytest.raises(NoteError, match="signature by PeterNeumann does not verify"):
        open_note(TEXT + "\n" + altered, [peter])


def test_repeated_signatures_are_reported_once(peter):
    opened = open_note(TEXT + "\n" + PETER_SIG * 3 + ENOCH_SIG * 2, [peter])

    assert opened.verified == (peter,) and opened.unverified == ("EnochRoot+af0cfe78",)


@pytest.mark.parametrize(
    "note",
    [
        # TestOpen's malformed messages.
        TEXT,
        TEXT + "\n",
        TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + PETER_NOTE,
        TEXT
        + "\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
        PETER_NOTE + "Unexpected line.\n",
        # And more.
        "",
        TEXT + "\n" + PETER_SIG * (MAX_SIGNATURES + 1),
        TEXT + "\n" + PETER_SIG.replace("— ", "- "),
        TEXT + "\n" + PETER_SIG.replace("— ", "—"),
        TEXT + "\n" + PETER_SIG.replace(" x08go", "  x08go"),
        TEXT + "\n" + PETER_SIG.replace("AM=", "AN="),  # non-canonical base64
        TEXT + "\n" + PETER_SIG.replace("AM=", "AM"),
        TEXT + "\n— PeterNeumann x08go/Y=\n",  # too short
        TEXT + "\n— PeterNeumann\n",
        TEXT + "\n— PeterNeumann \n",
        PETER_NOTE.replace("\n", "\r\n"),
        TEXT.replace(" ", "\t") + "\n" + PETER_SIG,
        "\ud800" + PETER_NOTE,
    ],
)
def test_a_malformed_note_is_refused(note, peter):
    with pytest.raises(NoteError):
        open_note(note, [peter])


def test_a_note_that_is_not_utf8_is_refused(peter):
    with pytest.raises(NoteError, match="UTF-8"):
        open_note(b"\xff" + PETER_NOTE.encode(), [peter])


@pytest.mark.parametrize("text", ["", "no final newline", "tab\there\n", "bell\x07\n", "cr\r\n", "\udc80\n"])
def test_sign_note_refuses_text_a_note_cannot_carry(text, ours):
    with pytest.raises(NoteError):
        sign_note(text, ours)


@pytest.mark.parametrize(
    "text", ["one line\n", "first\n\nafter a blank line\n", "ends blank\n\n", "\n", "Zoë – “Zürich”\n"]
)
def test_a_note_signed_here_opens_to_the_same_text_blank_lines_included(text, ours):
    # c2sp.org/signed-note: the text may hold empty lines; the last blank line separates it.
    opened = open_note(sign_note(text, ours), [ours.verifier])

    assert opened.text == text and opened.verified == (ours.verifier,)


def test_a_second_signature_of_the_same_text_can_be_appended_as_a_cosignature(ours, peter):
    note = sign_note(TEXT, SigningKey.parse(PETER_SKEY))
    cosigned = note + sign_note(TEXT, ours).split("\n\n")[-1]

    assert open_note(cosigned, [peter, ours.verifier]).verified == (peter, ours.verifier)


# --- Checkpoints ----------------------------------------------------------------------------------


def test_a_checkpoint_body_is_formatted_as_the_go_tree_note():
    # sumdb/tlog TestFormatTree: RecordHash("hello world") = SHA-256(0x00 || "hello world").
    root = hashlib.sha256(b"\x00hello world").digest()
    body = "go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n"

    assert Checkpoint("go.sum database tree", 123456789012, root).body() == body
    assert Checkpoint.parse(body) == Checkpoint("go.sum database tree", 123456789012, root)


def test_the_go_test_servers_signed_tree_opens_and_signing_it_again_gives_the_same_note():
    checkpoint, opened = open_checkpoint(
        SUMDB_TREE, [VerifierKey.parse(SUMDB_VKEY)], origin="go.sum database tree"
    )

    assert checkpoint.size == 6 and checkpoint.extensions == ()
    assert base64.b64encode(checkpoint.root).decode() == "wc4SkQt52o5W2nQ8To2ARs+mWuUJjss+sdleoiqxMmM="
    assert opened.verified[0].key_id == "00000c67"
    assert sign_checkpoint(checkpoint, SigningKey.parse(SUMDB_SKEY)) == SUMDB_TREE


def test_the_c2sp_example_checkpoint_body_parses():
    body = C2SP_CHECKPOINT.split("\n\n")[0] + "\n"

    assert Checkpoint.parse(body).origin == "example.com/behind-the-sofa"
    assert Checkpoint.parse(body).size == 20852163
    assert Checkpoint.parse(body).body() == body


def test_a_checkpoint_with_extension_lines_round_trips_through_signing(ours):
    checkpoint = Checkpoint(
        origin=ours.name,
        size=42,
        root=hashlib.sha256(b"root").digest(),
        extensions=("time 2026-12-01T18:00:00.000000Z", "other extension"),
    )

    note = sign_checkpoint(checkpoint, ours)
    opened_checkpoint, opened = open_checkpoint(note, {ours.key_id: ours.verifier}, origin=ours.name)

    assert note.startswith(checkpoint.body() + "\n— valuegate.test/ledger ")
    assert checkpoint.body().splitlines()[3] == "time 2026-12-01T18:00:00.000000Z"
    assert opened_checkpoint == checkpoint and opened.text == checkpoint.body()


def test_an_empty_tree_has_size_zero():
    checkpoint = Checkpoint("log", 0, bytes(32))

    assert checkpoint.body() == "log\n0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
    assert Checkpoint.parse(checkpoint.body()) == checkpoint


def test_open_checkpoint_refuses_another_origin_and_a_note_that_is_no_checkpoint(ours):
    note = sign_checkpoint(Checkpoint("valuegate.test/ledger", 1, bytes(32)), ours)

    with pytest.raises(NoteError, match="origin 'valuegate.test/ledger', not 'other.example/log'"):
        open_checkpoint(note, [ours.verifier], origin="other.example/log")
    with pytest.raises(NoteError, match="checkpoint"):
        open_checkpoint(sign_note("just a note\n", ours), [ours.verifier])
    with pytest.raises(NoteError, match="does not verify"):
        open_checkpoint(note.replace("\n1\n", "\n2\n"), [ours.verifier])


ROOT_B64 = base64.b64encode(bytes(range(32))).decode()


@pytest.mark.parametrize(
    "body",
    [
        f"log\n01\n{ROOT_B64}\n",  # leading zero
        f"log\n00\n{ROOT_B64}\n",
        f"log\n+1\n{ROOT_B64}\n",
        f"log\n-1\n{ROOT_B64}\n",
        f"log\n 1\n{ROOT_B64}\n",
        f"log\n1 \n{ROOT_B64}\n",
        f"log\n1.0\n{ROOT_B64}\n",
        f"log\n1_000\n{ROOT_B64}\n",
        f"log\n0x10\n{ROOT_B64}\n",
        f"log\n١\n{ROOT_B64}\n",  # an Arabic-Indic digit: Unicode digits are not ASCII decimal
        f"log\n\n{ROOT_B64}\n",
        f"log\n{2**63}\n{ROOT_B64}\n",
        f"\n1\n{ROOT_B64}\n",  # empty origin
        "log\n1\n" + base64.b64encode(bytes(31)).decode() + "\n",  # 31-byte root
        "log\n1\n" + base64.b64encode(bytes(33)).decode() + "\n",
        "log\n1\n" + ROOT_B64[:-2] + "\n",  # bad padding
        "log\n1\n" + ROOT_B64[:-2] + "9=\n",  # non-canonical trailing bits
        "log\n1\n" + ROOT_B64.replace("A", "-") + "\n",  # URL alphabet
        f"log\n1\n{ROOT_B64}",  # no final newline
        f"log\n1\n{ROOT_B64}\n\n",  # an empty extension line
        f"log\n1\n{ROOT_B64}\n\next\n",
        "log\n1\n",
        "",
        f"log\r\n1\n{ROOT_B64}\n",
    ],
)
def test_checkpoint_parse_is_strict(body):
    with pytest.raises(NoteError):
        Checkpoint.parse(body)


@pytest.mark.parametrize(
    "fields",
    [
        {"origin": "", "size": 1, "root": bytes(32)},
        {"origin": "a\nb", "size": 1, "root": bytes(32)},
        {"origin": "log", "size": -1, "root": bytes(32)},
        {"origin": "log", "size": True, "root": bytes(32)},
        {"origin": "log", "size": 2**63, "root": bytes(32)},
        {"origin": "log", "size": 1, "root": bytes(31)},
        {"origin": "log", "size": 1, "root": "00" * 32},
        {"origin": "log", "size": 1, "root": bytes(32), "extensions": ("",)},
        {"origin": "log", "size": 1, "root": bytes(32), "extensions": ("a\nb",)},
        {"origin": "log", "size": 1, "root": bytes(32), "extensions": "time x"},
    ],
)
def test_a_checkpoint_that_cannot_be_written_is_refused_when_built(fields):
    with pytest.raises(NoteError):
        Checkpoint(**fields)


def test_the_signing_and_note_modules_import_without_django():
    program = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r}); sys.modules['django'] = None; "
        "import governance.ledger.notes, governance.ledger.signing; "
        "print(sorted(m for m in sys.modules if m.startswith('django')))"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", program], capture_output=True, text=True, cwd=ROOT, timeout=60
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['django']"


def test_a_verifier_key_pickles_and_a_signing_key_does_not(ours):
    copied = pickle.loads(pickle.dumps(ours.verifier))

    assert copied == ours.verifier and copied.verify(b"m\n", ours.sign(b"m\n"))
    with pytest.raises(TypeError):
        pickle.dumps(ours)
