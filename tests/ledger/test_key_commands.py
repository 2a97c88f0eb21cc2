"""ledger_keygen and ledger_public_key, and the keys read from the settings. No database."""

from __future__ import annotations

import io
import os
import stat

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError

from governance.ledger.notes import open_note, sign_note
from governance.ledger.signing import (
    SigningKey,
    VerifierKey,
    clear_key_cache,
    ledger_signing_key,
    ledger_verifier_keys,
)


def run(name: str, *args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(name, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture(autouse=True)
def _fresh_key_cache():
    clear_key_cache()
    yield
    clear_key_cache()


@pytest.fixture
def current(settings):
    key = SigningKey.generate("valuegate.test/ledger")
    settings.VALUEGATE_LEDGER_SIGNING_KEY = key.text
    settings.VALUEGATE_LEDGER_VERIFIER_KEYS = []
    return key


# --- ledger_keygen ----------------------------------------------------------------------------------


def test_keygen_writes_the_private_key_to_a_new_file_readable_by_its_owner_only(tmp_path, settings):
    settings.VALUEGATE_LEDGER_ORIGIN = "valuegate.example/ledger"
    path = tmp_path / "ledger.key"
    previous_umask = os.umask(0)  # even with a permissive umask
    try:
        out, err = run("ledger_keygen", "--output", str(path))
    finally:
        os.umask(previous_umask)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = SigningKey.parse(path.read_text().strip())
    assert key.name == "valuegate.example/ledger"
    # The printed public key parses and is the written key's.
    assert VerifierKey.parse(out.strip()) == key.verifier
    assert str(path) in err and "PRIVATE" not in out + err
    assert key.text.split("+", 4)[4] not in out + err


def test_keygen_refuses_to_overwrite_an_existing_file(tmp_path):
    path = tmp_path / "ledger.key"
    path.write_text("the key already in use\n")
    path.chmod(0o600)

    with pytest.raises(CommandError, match="already exists; refusing to overwrite"):
        run("ledger_keygen", "--output", str(path))

    assert path.read_text() == "the key already in use\n"


def test_keygen_refuses_a_symlink_in_place_of_the_file(tmp_path):
    target = tmp_path / "elsewhere"
    link = tmp_path / "ledger.key"
    link.symlink_to(target)

    with pytest.raises(CommandError):
        run("ledger_keygen", "--output", str(link))

    assert not target.exists()


def test_keygen_reports_a_file_it_cannot_create_as_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="Cannot create"):
        run("ledger_keygen", "--output", str(tmp_path / "no" / "such" / "dir" / "ledger.key"))


def test_keygen_without_output_prints_the_private_key_on_stdout_with_a_warning(settings):
    settings.VALUEGATE_LEDGER_ORIGIN = "valuegate.example/ledger"

    out, err = run("ledger_keygen", "--name", "other.example/log")

    key = SigningKey.parse(out.strip())
    assert key.name == "other.example/log"
    assert "WARNING" in err and "private" in err
    assert key.verifier.text in err
    assert out.strip().count("\n") == 0  # stdout is the key alone, ready to pipe into a file


def test_keygen_names_the_key_valuegate_local_ledger_when_no_origin_is_set(settings):
    if hasattr(settings, "VALUEGATE_LEDGER_ORIGIN"):
        del settings.VALUEGATE_LEDGER_ORIGIN

    out, _err = run("ledger_keygen")

    assert SigningKey.parse(out.strip()).name == "valuegate.local/ledger"


def test_each_keygen_run_makes_a_new_key():
    first, _ = run("ledger_keygen", "--name", "a.example/log")
    second, _ = run("ledger_keygen", "--name", "a.example/log")

    assert SigningKey.parse(first.strip()) != SigningKey.parse(second.strip())


@pytest.mark.parametrize("name", ["has space", "has+plus"])
def test_keygen_refuses_a_name_a_signed_note_cannot_carry(name):
    with pytest.raises(CommandError, match="Invalid key name"):
        run("ledger_keygen", "--name", name)


def test_a_generated_key_file_is_what_the_ledger_signs_with(tmp_path, settings):
    path = tmp_path / "ledger.key"
    out, _err = run("ledger_keygen", "--name", "valuegate.test/ledger", "--output", str(path))
    settings.VALUEGATE_LEDGER_SIGNING_KEY = str(path)

    note = sign_note("hello\n", ledger_signing_key())

    assert open_note(note, [VerifierKey.parse(out.strip())]).text == "hello\n"


# --- ledger_public_key --------------------------------------------------------------------------------


def test_public_key_prints_the_verifier_key_of_the_configured_signing_key(current):
    out, _err = run("ledger_public_key")

    assert out == current.verifier.text + "\n"
    assert "PRIVATE" not in out


def test_public_key_all_adds_the_older_verifier_keys_one_per_line(current, settings, tmp_path):
    old1, old2 = SigningKey.generate("valuegate.test/ledger"), SigningKey.generate("valuegate.test/ledger")
    keys_file = tmp_path / "older.pub"
    keys_file.write_text(f"# rotated\n{old2.verifier.text}\n")
    settings.VALUEGATE_LEDGER_VERIFIER_KEYS = [old1.verifier.text, str(keys_file), current.verifier.text]

    out, _err = run("ledger_public_key", "--all")

    assert out.splitlines() == [current.verifier.text, old1.verifier.text, old2.verifier.text]
    assert run("ledger_public_key")[0].splitlines() == [current.verifier.text]


@pytest.mark.parametrize("value", ["", "   "])
def test_public_key_without_a_configured_key_is_a_command_error_telling_to_run_keygen(settings, value):
    settings.VALUEGATE_LEDGER_SIGNING_KEY = value

    with pytest.raises(CommandError, match="VALUEGATE_LEDGER_SIGNING_KEY is not set.*ledger_keygen"):
        run("ledger_public_key")


def test_public_key_with_the_setting_missing_altogether_is_a_command_error(settings):
    if hasattr(settings, "VALUEGATE_LEDGER_SIGNING_KEY"):
        del settings.VALUEGATE_LEDGER_SIGNING_KEY

    with pytest.raises(CommandError, match="ledger_keygen"):
        run("ledger_public_key")


def test_public_key_with_a_missing_key_file_names_the_file(settings, tmp_path):
    settings.VALUEGATE_LEDGER_SIGNING_KEY = str(tmp_path / "gone.key")

    with pytest.raises(CommandError, match="gone.key does not exist.*ledger_keygen"):
        run("ledger_public_key")


def test_public_key_all_with_a_bad_older_key_is_a_command_error(current, settings):
    settings.VALUEGATE_LEDGER_VERIFIER_KEYS = [current.verifier.text[:-2]]

    with pytest.raises(CommandError, match="VALUEGATE_LEDGER_VERIFIER_KEYS"):
        run("ledger_public_key", "--all")


# --- The keys in the settings -------------------------------------------------------------------------


def test_the_signing_key_is_read_once_and_again_when_the_setting_changes(settings):
    first, second = SigningKey.generate("a.example/log"), SigningKey.generate("a.example/log")
    settings.VALUEGATE_LEDGER_SIGNING_KEY = first.text
    assert ledger_signing_key() is ledger_signing_key() == first
    assert list(ledger_verifier_keys()) == [first.key_id]

    settings.VALUEGATE_LEDGER_SIGNING_KEY = second.text

    assert ledger_signing_key() == second
    assert list(ledger_verifier_keys()) == [second.key_id]


def test_the_verifier_keys_follow_a_change_of_the_older_keys(current, settings):
    old = SigningKey.generate("valuegate.test/ledger")
    assert list(ledger_verifier_keys()) == [current.key_id]

    settings.VALUEGATE_LEDGER_VERIFIER_KEYS = [old.verifier.text]

    assert ledger_verifier_keys() == {current.key_id: current.verifier, old.key_id: old.verifier}


def test_the_verifier_keys_setting_may_be_missing(current, settings):
    del settings.VALUEGATE_LEDGER_VERIFIER_KEYS

    assert ledger_verifier_keys() == {current.key_id: current.verifier}


def test_an_unusable_signing_key_is_improperly_configured_without_echoing_it(settings):
    broken = SigningKey.generate("a.example/log").text.replace("PRIVATE+KEY", "PRIVATE+KEE")
    settings.VALUEGATE_LEDGER_SIGNING_KEY = broken

    with pytest.raises(ImproperlyConfigured, match="ledger_keygen") as refused:
        ledger_signing_key()

    assert broken.split("+", 4)[4] not in str(refused.value)
