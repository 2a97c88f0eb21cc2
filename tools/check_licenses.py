#!/usr/bin/env python3
"""Check that every runtime dependency's licence lets ValueGate be distributed under Apache-2.0.

    python tools/check_licenses.py [REQUIREMENTS]       # `make licenses`; default requirements.txt

The runtime set is read from the compiled requirements file (every transitive pin), and each
package's licence is read with pip-licenses from the environment this interpreter runs in, which
must have that set installed (the development venv has it, at the same versions). Development
tools are not checked: they are never shipped.

A licence passes when every part of it is on PERMISSIVE below: an SPDX expression passes when one
side of each OR passes and both sides of each AND pass; several trove classifiers count as AND.
Anything else fails: GPL, AGPL and LGPL, a licence this script does not know, and missing metadata.
A package that fails may be named in ALLOWED with the licence text it was reviewed for and the
reason it is acceptable; when its licence text changes, it is checked afresh.

Exit status: 0 every runtime package passes; 1 some do not (each is named); 2 pip-licenses or the
requirements file cannot be read.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

# Licences compatible with distributing ValueGate under Apache-2.0, as SPDX identifiers and as
# the trove classifiers (or free text) that packages put in their metadata instead.
PERMISSIVE = {
    "0BSD",
    "Apache-2.0",
    "Apache Software License",
    "BSD",
    "BSD License",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "CC0-1.0",
    "ISC",
    "ISC License (ISCL)",
    "MIT",
    "MIT License",
    "MIT-CMU",
    "MIT-0",  # MIT without the attribution condition: more permissive still
    # File-level copyleft: MPL-2.0 code may be used by Apache-2.0 code unmodified.
    "MPL-2.0",
    "Mozilla Public License 2.0 (MPL 2.0)",
    "PSF-2.0",
    "Python Software Foundation License",
    "Unlicense",
    "Zlib",
}

# Packages that fail the rule above yet are acceptable: name -> (licence text reviewed, reason).
ALLOWED: dict[str, tuple[str, str]] = {
    # psycopg is LGPL-3.0, not GPL: a program may use an LGPL library without taking its licence,
    # provided the library stays replaceable. ValueGate imports it unmodified from a separately
    # installed package and ships none of its code, so the user can always swap in another build.
    "psycopg": (
        "LGPL-3.0-only",
        "LGPL library used unmodified as a separately installed package (PostgreSQL driver)",
    ),
    # The same library's compiled part; its wheels also bundle libpq (PostgreSQL licence) and
    # OpenSSL (Apache-2.0), both permissive.
    "psycopg-binary": (
        "LGPL-3.0-only",
        "psycopg's C accelerator, same licence and same use as psycopg",
    ),
}

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==")
COPYLEFT = re.compile(r"\b(A|L)?GPL|General Public License", re.IGNORECASE)


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_names(requirements: Path) -> list[str]:
    names = [m.group(1) for line in requirements.read_text().splitlines() if (m := PIN.match(line))]
    return sorted({normalise(name) for name in names})


def installed_licences(names: list[str]) -> dict[str, tuple[str, str]]:
    """name -> (version, licence) as pip-licenses reads them (classifiers, else the License field)."""
    # --with-system: pip-licenses leaves its own dependencies (wcwidth, prettytable) out otherwise.
    command = [sys.executable, "-m", "piplicenses", "--from=mixed", "--with-system", "--format=json"]
    output = subprocess.run([*command, "--packages", *names], check=True, capture_output=True, text=True)
    return {normalise(row["Name"]): (row["Version"], row["License"]) for row in json.loads(output.stdout)}


def passes(licence: str) -> bool:
    text = licence.strip()
    if not text or text.upper() == "UNKNOWN":
        return False
    if "; " in text:  # several classifiers: each must pass
        return all(passes(part) for part in text.split("; "))
    if text.startswith("(") and text.endswith(")") and text.count("(") == 1:
        text = text[1:-1].strip()
    if " OR " in text:
        return any(passes(part) for part in text.split(" OR "))
    if " AND " in text:
        return all(passes(part) for part in text.split(" AND "))
    return text in PERMISSIVE and not COPYLEFT.search(text)


def main(argv: list[str]) -> int:
    requirements = Path(argv[1] if len(argv) > 1 else "requirements.txt")
    try:
        names = runtime_names(requirements)
        found = installed_licences(names)
    except (OSError, subprocess.CalledProcessError, json.JSONDecodeError) as error:
        detail = getattr(error, "stderr", "") or ""
        print(f"Cannot read the runtime licences: {error} {detail}".strip(), file=sys.stderr)
        return 2
    if not names:
        print(f"No pinned package in {requirements}.", file=sys.stderr)
        return 2

    problems = []
    width = max(len(name) for name in names)
    for name in names:
        if name not in found:
            problems.append(f"{name}: in {requirements} but not installed here, so its licence is unread")
            continue
        version, licence = found[name]
        if passes(licence):
            verdict = "ok"
        elif name in ALLOWED and ALLOWED[name][0] == licence:
            verdict = f"allowed: {ALLOWED[name][1]}"
        else:
            verdict = "NOT COMPATIBLE"
            reviewed = ALLOWED.get(name)
            hint = f" (allowed for {reviewed[0]!r}; review it again)" if reviewed else ""
            problems.append(f"{name} {version}: licence {licence!r} is not known to be compatible{hint}")
        print(f"{name:<{width}}  {version:<12} {licence}  [{verdict}]")

    print()
    if problems:
        print(f"{len(problems)} runtime package(s) fail the Apache-2.0 licence check:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        print(
            "Replace the package, or review its licence and add it to ALLOWED in tools/check_licenses.py"
            " with the reason.",
            file=sys.stderr,
        )
        return 1
    print(f"All {len(names)} runtime packages have licences compatible with Apache-2.0.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
