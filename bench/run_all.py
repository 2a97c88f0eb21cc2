"""`make bench`: every benchmark, on a portfolio-scale data set, one after another.

Benchmarks 1-3 run on a SQLite file seeded once with seed_scale (10,000 initiatives, 24 monthly
measurements per KPI); benchmark 4 needs PostgreSQL (BENCH_POSTGRES_URL, default the local
server); the ledger and API benchmarks build their own data (the two ledger benchmarks in databases
of their own on that PostgreSQL server). Each prints its ratios and peak memory; this script
collects the peak memory of each against the 300 MB goal.

    .venv/bin/python bench/run_all.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
SCALE_DB = HERE.parent / ".bench-db-scale.sqlite3"


def run(label: str, script: str, *args: str, env: dict[str, str] | None = None) -> float | str:
    print(f"\n=== {label} ===", flush=True)
    result = subprocess.run(
        [PYTHON, str(HERE / script), *args], env={**os.environ, **(env or {})}, capture_output=True, text=True
    )
    sys.stdout.write(result.stdout)
    if result.returncode != 0:
        sys.stdout.write(result.stderr[-3000:])
        print(f"  {label} FAILED (exit {result.returncode})")
        return "failed"
    peaks = [float(m) for m in re.findall(r"peak (?:RSS|memory)[^0-9]*([0-9.]+)\s*MB", result.stdout, re.I)]
    return max(peaks) if peaks else "not printed"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="1,000 initiatives, 100,000 ledger events, 60 appends per process",
    )
    args = parser.parse_args()
    initiatives = "1000" if args.quick else "10000"
    events = "100000" if args.quick else "1000000"
    appends = "60" if args.quick else "300"
    scale = {"BENCH_DATABASE_URL": f"sqlite:///{SCALE_DB}"}
    postgres = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/valuegate_bench")

    if not SCALE_DB.exists():
        # Seeded in its own process, so that no benchmark's peak memory includes the seeding.
        print(
            f"Seeding {SCALE_DB.name}: {initiatives} initiatives (once; delete the file to reseed)",
            flush=True,
        )
        env = {**os.environ, "DATABASE_URL": scale["BENCH_DATABASE_URL"]}
        for command in (
            ["migrate", "-v0"],
            ["seed_scale", "--initiatives", initiatives, "--ledger-events", "0"],
        ):
            subprocess.run([PYTHON, str(HERE.parent / "manage.py"), *command], env=env, check=True)

    peaks = {
        "1 sign-off and advance": run("1 sign-off and advance", "signoff_advance.py"),
        "1 sign-off and advance, PostgreSQL": run(
            "1 sign-off and advance, PostgreSQL", "signoff_advance.py", env={"BENCH_DATABASE_URL": postgres}
        ),
        "2 admin pages": run("2 admin pages", "admin_pages.py", "--initiatives", initiatives, env=scale),
        "3 portfolio readiness": run(
            "3 portfolio readiness", "readiness.py", "--initiatives", initiatives, env=scale
        ),
        "4 concurrent sign-offs": run(
            "4 concurrent sign-offs", "concurrent_signoffs.py", env={"BENCH_DATABASE_URL": postgres}
        ),
        "ledger verification": run(
            "ledger verification", "ledger_verify.py", "--events", events, "--postgres", postgres
        ),
        "ledger appends": run(
            "ledger appends", "ledger_appends.py", "--decisions", appends, "--postgres", postgres
        ),
        "API ingestion": run("API ingestion", "api_ingest.py"),
    }
    print("\n=== 5 memory: peak RSS of each benchmark (goal < 300 MB) ===")
    for label, peak in peaks.items():
        state = peak if isinstance(peak, str) else f"{peak:6.0f} MB  {'met' if peak < 300 else 'MISSED'}"
        print(f"  {label:<28} {state}")


if __name__ == "__main__":
    main()
