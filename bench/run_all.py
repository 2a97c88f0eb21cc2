"""`make bench`: every benchmark, on a portfolio-scale data set, one after another.

Benchmarks 2 and 3 run on a SQLite file seeded once with seed_scale (10,000 initiatives by
default, 24 monthly measurements per KPI; a file per size); benchmark 4 needs PostgreSQL
(BENCH_POSTGRES_URL, default the local server); the ledger and API benchmarks build their own data
(the two ledger benchmarks in databases of their own on that PostgreSQL server). Each prints its
ratios and peak memory; this script collects the peak memory of each, and of the seeding when it
seeds, against the 300 MB goal.

    .venv/bin/python bench/run_all.py [--quick | --initiatives 50000]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

from _harness import use_bench_signing_key

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
MEMORY_GOAL_MB = 300


def scale_database(initiatives: int) -> Path:
    """The seeded file of this size: a quick run's never stands in for a full one's."""
    return HERE.parent / f".bench-db-scale-{initiatives}.sqlite3"


def manage(*command: str, env: dict[str, str]) -> float:
    """Run `manage.py command` and wait for it; its peak RSS in MB (its own, not its siblings')."""
    args = [PYTHON, str(HERE.parent / "manage.py"), *command]
    process = subprocess.Popen(args, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, args)
    return usage.ru_maxrss / 1024


def seed(database: Path, initiatives: int) -> float:
    """Seed `database` in processes of its own, so that no benchmark's peak memory includes the
    seeding; seed_scale's peak RSS in MB."""
    print(
        f"Seeding {database.name}: {initiatives:,} initiatives (once; delete the file to reseed)", flush=True
    )
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}"}
    try:
        manage("migrate", "-v0", env=env)
        return manage("seed_scale", "--initiatives", str(initiatives), "--ledger-events", "0", env=env)
    except BaseException:
        database.unlink(missing_ok=True)  # a half-seeded file would pass for a seeded one next time
        raise


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
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        "--quick",
        action="store_true",
        help="1,000 initiatives, 100,000 ledger events, 60 appends per process",
    )
    size.add_argument("--initiatives", type=int, default=10_000, help="the portfolio's size (default 10,000)")
    args = parser.parse_args()
    initiatives = "1000" if args.quick else str(args.initiatives)
    events = "100000" if args.quick else "1000000"
    appends = "60" if args.quick else "300"
    database = scale_database(int(initiatives))
    scale = {"BENCH_DATABASE_URL": f"sqlite:///{database}"}
    postgres = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/valuegate_bench")
    # With DEBUG off, as the benchmarks run, the ledger signs with a key only the environment gives.
    use_bench_signing_key()

    peaks: dict[str, float | str] = {}
    if not database.exists():
        peaks[f"seed_scale, {int(initiatives):,} initiatives"] = seed(database, int(initiatives))

    peaks |= {
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
    print(f"\n=== 5 memory: peak RSS of each benchmark (goal < {MEMORY_GOAL_MB} MB) ===")
    for label, peak in peaks.items():
        if isinstance(peak, str):
            state = peak
        else:
            state = f"{peak:6.0f} MB  {'met' if peak < MEMORY_GOAL_MB else 'MISSED'}"
        print(f"  {label:<36} {state}")


if __name__ == "__main__":
    main()
