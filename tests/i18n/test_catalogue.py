"""No string left behind: every msgid of the code is in the Chinese catalogue, translated, not fuzzy.

The catalogue is extracted afresh (`makemessages`, as `make messages` runs it) from a copy of the
source tree, so that the check sees the code as it is and never writes into the checkout.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
SOURCES = ("config", "governance", "projects", "locale", "manage.py")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> polib.POFile:
    if shutil.which("xgettext") is None:
        pytest.fail("xgettext is missing: install GNU gettext (apt-get install gettext)")
    tree = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tree / name, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
        else:
            shutil.copy2(source, tree / name)
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "--locale",
            "zh_Hans",
            "--no-obsolete",
            "--verbosity",
            "0",
        ],
        cwd=tree,
        check=True,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings", "HOME": str(tree)},
    )
    return polib.pofile(str(tree / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))


def _shown(entries) -> str:
    return "\n".join(f"  {e.msgid!r} ({', '.join(f for f, _ in e.occurrences[:2])})" for e in entries[:40])


def test_every_msgid_of_the_code_is_in_the_committed_catalogue(extracted):
    committed = {(e.msgctxt, e.msgid) for e in polib.pofile(str(CATALOGUE)) if not e.obsolete}
    missing = [e for e in extracted if (e.msgctxt, e.msgid) not in committed]
    assert not missing, (
        f"{len(missing)} msgid(s) not in {CATALOGUE.relative_to(ROOT)}; run `make messages` and translate:\n{_shown(missing)}"
    )


def test_every_msgid_is_translated_into_chinese(extracted):
    untranslated = [e for e in extracted if not e.translated()]
    assert not untranslated, (
        f"{len(untranslated)} msgid(s) without a Chinese translation:\n{_shown(untranslated)}"
    )


def test_no_translation_is_fuzzy(extracted):
    fuzzy = [e for e in extracted if "fuzzy" in e.flags]
    assert not fuzzy, f"{len(fuzzy)} fuzzy translation(s) to check:\n{_shown(fuzzy)}"


def test_every_translation_keeps_the_placeholders_of_its_msgid():
    """msgfmt --check-format catches a broken %(name)s; a translation that drops one reads wrong."""
    placeholder = re.compile(r"%\([a-z_]+\)[sd]|\{[a-z_]+\}")
    wrong = []
    for entry in polib.pofile(str(CATALOGUE)):
        if entry.obsolete or not entry.translated():
            continue
        # Chinese has one plural form: it says what the English plural says.
        expected = sorted(set(placeholder.findall(entry.msgid_plural or entry.msgid)))
        translations = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        for text in translations:
            if sorted(set(placeholder.findall(text))) != expected:
                wrong.append(entry)
    assert not wrong, (
        f"{len(wrong)} translation(s) whose placeholders differ from the msgid's:\n{_shown(wrong)}"
    )
