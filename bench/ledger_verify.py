"""Ledger verification against plain SHA-256, side by side in one run.

Builds a ledger of N chained events (default 1,000,000) in a fresh database, then prints:
- the time `verify_ledger` takes to recompute the chain, and the time plain `hashlib.sha256` takes
  over the very same canonical bytes, with their ratio (goal: at most 3x); also the time reading
  the rows alone takes, so the ratio can be split into the database's share and the rest. Each is
  measured three times, side by side, and the best run kept;
- the same for `verify_ledger --strict` (which also re-encodes every payload);
- the append rate through `ledger_append`, one transaction per event as the services append;
- peak memory of the `manage.py verify_ledger` command run on that ledger (goal: under 200 MB),
  and of this whole benchmark.

    .venv/bin/python bench/ledger_verify.py [--events N] [--appends N] [--postgres URL]

By default the ledger lives in a temporary SQLite file. With --postgres (a server URL such as
postgres://postgres@127.0.0.1:5432/postgres) a database named valuegate_ledger_bench_<pid> is
created on that server and dropped at the end. The events are inserted in bulk, precomputed and
chained, in one transaction: only the appends measured for their rate go through ledger_append.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHUNK = 10_000
ROUNDS = 3
ACTORS = ["business-member", "legal-member", "finance-member", "technical-member", "chair", "Zoë", "system"]


def payload_for(i: int) -> tuple[str, dict]:
    """A realistic mix of ledger events, varied by index."""
    kind = i % 6
    if kind == 0:
        return "signoff.recorded", {
            "signoff": i,
            "review": i // 7,
            "function": ("business", "legal", "finance", "technical")[i % 4],
            "decision": "approve",
            "rationale": "Reviewed the evidence and the measured KPI values; the pilot meets its target.",
            "digest": hashlib.sha256(str(i).encode()).hexdigest(),
            "conditions": [],
        }
    if kind == 1:
        return "kpi.measurements_recorded", {
            "kpi": i // 11,
            "measurements": [
                {
                    "period": dt.date(2024 + m, 1 + i % 12, 1),
                    "value": Decimal(i % 997) / 100,
                    "sample_size": 1000 + m,
                    "source": "BI warehouse",
                }
                for m in range(3)
            ],
        }
    if kind == 2:
        return "evidence.submitted", {
            "evidence": i,
            "kind": "pilot_report",
            "title": "Pilot report – Zürich contact centre",
            "sha256": hashlib.sha256(str(-i).encode()).hexdigest(),
        }
    if kind == 3:
        return "review.opened", {
            "review": i // 7,
            "gate": "scale",
            "policy_version": 1,
            "functions": ["business", "legal", "finance", "technical"],
        }
    if kind == 4:
        return "initiative.transitioned", {"review": i // 7, "from": "pilot", "to": "scale"}
    return "membership.granted", {"user": f"user{i}", "group": "Committee: finance"}


def prepare_database(args) -> tuple[str, callable]:
    if args.postgres:
        import psycopg

        name = f"valuegate_ledger_bench_{os.getpid()}"
        with psycopg.connect(args.postgres, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        parts = urlsplit(args.postgres)
        url = urlunsplit(parts._replace(path=f"/{name}"))

        def drop():
            from django.db import connections

            connections.close_all()
            with psycopg.connect(args.postgres, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}"')

        return url, drop
    directory = tempfile.mkdtemp(prefix="valuegate-ledger-bench-")
    return f"sqlite:///{directory}/ledger.sqlite3", lambda: shutil.rmtree(directory, ignore_errors=True)


def build_ledger(n: int, initiative_ids: list[int]) -> float:
    """Insert n chained events in one transaction; return the seconds it took."""
    from django.db import connection, transaction

    from governance.ledger.canonical import canonical_json
    from governance.ledger.chain import GENESIS_HASH, canonical_event_bytes
    from governance.models import LedgerHead

    postgres = connection.vendor == "postgresql"
    start = dt.datetime(2022, 1, 1, tzinfo=dt.UTC)
    columns = "seq, recorded_at, actor_id, actor_name, action, initiative_id, payload, prev_hash, hash"
    prev = GENESIS_HASH
    began = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for first in range(1, n + 1, CHUNK):
            rows = []
            for seq in range(first, min(first + CHUNK, n + 1)):
                at = start + dt.timedelta(seconds=seq * 90, microseconds=(seq * 7919) % 1_000_000)
                at_text = at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                actor = ACTORS[seq % len(ACTORS)]
                action, payload = payload_for(seq)
                payload_text = canonical_json(payload)
                initiative = initiative_ids[seq % len(initiative_ids)] if seq % 9 else None
                data = canonical_event_bytes(seq, at_text, actor, action, initiative, payload_text, prev)
                digest = hashlib.sha256(data).hexdigest()
                stored_at = at if postgres else at.replace(tzinfo=None).isoformat(" ")
                rows.append((seq, stored_at, None, actor, action, initiative, payload_text, prev, digest))
                prev = digest
            if postgres:
                with cursor.cursor.copy(f"COPY governance_ledgerevent ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                cursor.executemany(
                    f"INSERT INTO governance_ledgerevent ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    rows,
                )
            if first // CHUNK % 20 == 0:
                print(f"  built {min(first + CHUNK - 1, n):,} events", file=sys.stderr, flush=True)
        LedgerHead.objects.update_or_create(id=1, defaults={"seq": n, "hash": prev})
    return time.perf_counter() - began


def timed_plain_hash() -> tuple[float, int]:
    """Plain hashlib.sha256 over the very bytes verification hashes; only the hashing is timed."""
    from governance.ledger.chain import canonical_event_bytes, chain_chunks

    sha256 = hashlib.sha256
    seconds, total_bytes = 0.0, 0
    for chunk in chain_chunks():
        data = [canonical_event_bytes(*row[:7]) for row in chunk]
        t0 = time.perf_counter()
        for item in data:
            sha256(item).hexdigest()
        seconds += time.perf_counter() - t0
        total_bytes += sum(map(len, data))
    return seconds, total_bytes


def timed_verify(*, strict: bool):
    from governance.ledger.chain import verify_ledger

    t0 = time.perf_counter()
    summary = verify_ledger(strict=strict)
    return time.perf_counter() - t0, summary


def append_rate(count: int, user, initiative_ids: list[int]) -> float:
    from django.db import transaction

    from governance.ledger.chain import ledger_append
    from governance.ledger.events import DECIMAL, INT, TEXT, LedgerEventType, declared, shape
    from projects.models import Initiative

    # An event of the benchmark's own, checked against its schema as a service's event is.
    appended = LedgerEventType(
        code="bench.appended", label="Benchmark append", payload=shape(n=INT, value=DECIMAL, note=TEXT)
    )
    initiatives = list(Initiative.objects.filter(pk__in=initiative_ids))
    with declared(appended):
        t0 = time.perf_counter()
        for i in range(count):
            with transaction.atomic():
                ledger_append(
                    actor=user,
                    action=appended,
                    initiative=initiatives[i % len(initiatives)],
                    payload={
                        "n": i,
                        "value": Decimal("12.500000"),
                        "note": "appended through the service path",
                    },
                )
        return count / (time.perf_counter() - t0)


# The child reports its own high-water mark (VmHWM): unlike ru_maxrss, it does not inherit the
# resident size of the process that forked it.
_PEAK_REPORTING = (
    "import runpy, sys\n"
    "sys.argv = sys.argv[1:]\n"
    "try:\n"
    "    runpy.run_path(sys.argv[0], run_name='__main__')\n"
    "finally:\n"
    "    hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
    "    print('peak-kb', hwm, file=sys.stderr)\n"
)


def peak_mb() -> float:
    """This process's peak resident memory so far (VmHWM), in MB."""
    with open("/proc/self/status") as status:
        return int(next(line for line in status if line.startswith("VmHWM")).split()[1]) / 1024


def command_peak_rss(database_url: str) -> tuple[float, float, str]:
    """Run `manage.py verify_ledger` on the bench ledger; return (seconds, peak RSS MB, first line)."""
    env = {**os.environ, "DATABASE_URL": database_url}
    t0 = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _PEAK_REPORTING,
            str(ROOT / "manage.py"),
            "verify_ledger",
            "--progress-every",
            "250000",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"verify_ledger failed:\n{done.stdout}\n{done.stderr}")
    peak_kb = int(done.stderr.rsplit("peak-kb", 1)[1].split()[0])
    return seconds, peak_kb / 1024, done.stdout.strip().splitlines()[0]


def timed_read() -> tuple[float, int]:
    """Stream the same rows without hashing them: what reading alone costs."""
    from governance.ledger.chain import chain_chunks

    t0 = time.perf_counter()
    rows = sum(len(chunk) for chunk in chain_chunks())
    return time.perf_counter() - t0, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--appends", type=int, default=2_000)
    parser.add_argument("--postgres", metavar="SERVER_URL", help="run on PostgreSQL instead of SQLite")
    args = parser.parse_args()

    database_url, cleanup = prepare_database(args)
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    try:
        import django

        django.setup()
        from django.contrib.auth import get_user_model
        from django.core.management import call_command
        from django.db import connection

        from projects.models import Initiative

        call_command("migrate", verbosity=0)
        user = get_user_model().objects.create(username="bench-lead")
        initiatives = Initiative.objects.bulk_create(
            Initiative(
                title=f"Initiative {i}", owner=user, department="Bench", pain_point="p", process_embedding="e"
            )
            for i in range(50)
        )
        ids = [i.pk for i in initiatives]
        engine = f"{connection.vendor} {connection.Database.__name__} {connection.get_database_version()}"
        print(f"ValueGate ledger verification benchmark: {args.events:,} events on {engine}", flush=True)

        build_seconds = build_ledger(args.events, ids)
        n = args.events
        # Side by side, three rounds, best of each: other processes on the machine slow one phase
        # or another; the fastest run of each is the closest to what it costs.
        plain_seconds = read_seconds = verify_seconds = float("inf")
        for _ in range(ROUNDS):
            seconds, total_bytes = timed_plain_hash()
            plain_seconds = min(plain_seconds, seconds)
            read_seconds = min(read_seconds, timed_read()[0])
            seconds, summary = timed_verify(strict=False)
            assert summary.count == n, summary
            verify_seconds = min(verify_seconds, seconds)
        strict_seconds, _ = timed_verify(strict=True)
        rate = append_rate(args.appends, user, ids)
        cli_seconds, cli_peak_mb, cli_line = command_peak_rss(database_url)
        own_peak_mb = peak_mb()

        per = 1e6 / n
        print(f"built and inserted       {build_seconds:8.2f} s  (bulk, precomputed chain)")
        print(f"timings below: best of {ROUNDS} rounds, each phase run side by side")
        print(
            f"plain hashlib.sha256     {plain_seconds:8.2f} s  {plain_seconds * per:6.2f} µs/event "
            f"(same canonical bytes, {total_bytes / n:.0f} bytes/event)"
        )
        print(
            f"reading the rows only    {read_seconds:8.2f} s  {read_seconds * per:6.2f} µs/event "
            f"(no hashing: the database and driver's share)"
        )
        print(
            f"verify_ledger            {verify_seconds:8.2f} s  {verify_seconds * per:6.2f} µs/event  "
            f"ratio {verify_seconds / plain_seconds:.2f}x  (goal <= 3x)"
        )
        print(
            f"  of which past reading  {verify_seconds - read_seconds:8.2f} s  "
            f"{(verify_seconds - read_seconds) * per:6.2f} µs/event  "
            f"ratio {(verify_seconds - read_seconds) / plain_seconds:.2f}x  (rebuilding bytes, hashing, checking)"
        )
        print(
            f"verify_ledger --strict   {strict_seconds:8.2f} s  {strict_seconds * per:6.2f} µs/event  "
            f"ratio {strict_seconds / plain_seconds:.2f}x"
        )
        print(
            f"append rate              {rate:8.0f} events/s through ledger_append ({args.appends:,} appends)"
        )
        print(
            f"manage.py verify_ledger  {cli_seconds:8.2f} s  peak RSS {cli_peak_mb:.0f} MB (goal < 200 MB): "
            f"{cli_line}"
        )
        print(f"this benchmark           peak RSS {own_peak_mb:.0f} MB")
    finally:
        cleanup()


if __name__ == "__main__":
    main()
