"""Concurrent ledger appends by OS processes on PostgreSQL, against plain INSERTs, side by side.

Eight processes (as gunicorn's workers are), each with its own Django connection, each making K
decisions: a `transaction.atomic()` block that appends one small signed event through
`ledger_append`, sealed right after its commit (`VALUEGATE_LEDGER_SEALING = "after_commit"`: the
sequencer numbers it under its advisory lock and extends the Merkle tree). Against them, eight
processes each INSERT an equal-size row into a bare table of the same shape (`LIKE
governance_ledgerevent INCLUDING ALL`: same columns and indexes, no foreign keys, no triggers), one
transaction per row. The two alternate, ROUNDS times, K/ROUNDS decisions per process each time,
and the median throughput of each is kept. Printed:
- the throughput ratio (goal: at least 0.7x the plain INSERTs);
- the sequencing lag, sequenced_at - recorded_at over every event: median and p99 (goal: p99 under
  1 s);
- how many events `seal_pending` still finds once everything is done (0 if every after-commit
  seal ran), and `verify_ledger` over the result.

    .venv/bin/python bench/ledger_appends.py [--decisions K] [--processes P] [--rounds R] [--postgres URL]

The database, valuegate_bench_ledger_appends_<pid> on the local server by default, is created for
the run and dropped at the end.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import secrets
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BARE_TABLE = "bench_bare_ledgerevent"
WARM_UP = 2  # untimed operations per process before the start line (connection, key, caches)


def _child_setup(database_url: str) -> None:
    """What _harness.setup_django does, without migrating: the parent has migrated already."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ.setdefault("DJANGO_SECRET_KEY", "benchmark-only-secret-key-" + "x" * 40)
    os.environ.setdefault("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
    import django

    django.setup()


def _event_type():
    from governance.ledger.events import DECIMAL, INT, TEXT, LedgerEventType, shape

    return LedgerEventType(
        code="bench.decided", label="Benchmark decision", payload=shape(n=INT, value=DECIMAL, note=TEXT)
    )


def _payload(worker: int, i: int) -> dict:
    return {"n": worker * 1_000_000 + i, "value": Decimal("12.500000"), "note": "a decision of the benchmark"}


def worker(
    path: str,
    database_url: str,
    index: int,
    count: int,
    user_id: int,
    initiative_ids: list[int],
    barrier,
    results,
) -> None:
    """One process: warm up, wait at the start line with the others, then `count` operations."""
    if path != "plain":
        os.environ["VALUEGATE_LEDGER_SEALING"] = path
    _child_setup(database_url)
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from governance.ledger.canonical import canonical_json
    from governance.ledger.chain import ledger_append
    from governance.ledger.events import declared
    from projects.models import Initiative

    user = get_user_model().objects.get(pk=user_id)
    initiatives = list(Initiative.objects.filter(pk__in=initiative_ids).order_by("pk"))
    appended = _event_type()
    filler_signature = "A" * 86 + "=="  # the length of a base64 Ed25519 signature
    sql = (
        f"INSERT INTO {BARE_TABLE} (recorded_at, actor_id, actor_name, action, initiative_id, payload, nonce, "
        "key_id, signature, hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    )

    def decision(i: int) -> None:
        with transaction.atomic():
            ledger_append(
                actor=user,
                action=appended,
                initiative=initiatives[(index + i) % len(initiatives)],
                payload=_payload(index, i),
            )

    def plain_insert(i: int) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                sql,
                [
                    timezone.now(),
                    user.pk,
                    user.username,
                    appended.code,
                    initiatives[(index + i) % len(initiatives)].pk,
                    canonical_json(_payload(index, i)),
                    secrets.token_hex(16),
                    "0badbeef",
                    filler_signature,
                    secrets.token_hex(32),
                ],
            )

    operation = plain_insert if path == "plain" else decision
    errors = []
    with declared(appended):
        for i in range(WARM_UP):
            operation(-1 - i)
        barrier.wait()
        started = time.monotonic()  # system-wide on Linux: comparable across the processes
        for i in range(count):
            try:
                operation(i)
            except Exception as error:  # counted and reported, not hidden
                errors.append(f"{type(error).__name__}: {error}")
        finished = time.monotonic()
    with open("/proc/self/status") as status:
        peak_kb = int(next(line for line in status if line.startswith("VmHWM")).split()[1])
    connection.close()
    results.put((started, finished, len(errors), errors[:3], peak_kb))


def run_round(
    path: str, processes: int, count: int, database_url: str, user_id: int, initiative_ids: list[int]
) -> dict:
    """`processes` processes of `path` (a sealing mode, or "plain"), `count` operations each; their throughput."""
    context = multiprocessing.get_context("spawn")  # a fresh interpreter and connection each, as a worker has
    barrier, results = context.Barrier(processes), context.Queue()
    children = [
        context.Process(
            target=worker, args=(path, database_url, index, count, user_id, initiative_ids, barrier, results)
        )
        for index in range(processes)
    ]
    for child in children:
        child.start()
    reports = [results.get(timeout=900) for _ in children]
    for child in children:
        child.join()
    started = min(report[0] for report in reports)
    finished = max(report[1] for report in reports)
    return {
        "rate": processes * count / (finished - started),
        "seconds": finished - started,
        "errors": sum(report[2] for report in reports),
        "messages": [message for report in reports for message in report[3]],
        "peak_mb": max(report[4] for report in reports) / 1024,
    }


PATHS = ("plain", "after_commit", "sequencer")


def start_sequencer(database_url: str) -> subprocess.Popen:
    """The one `manage.py ledger_sequencer` process of a deployment sealing with "sequencer"."""
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_DEBUG": "0"}
    env.setdefault("DJANGO_SECRET_KEY", "benchmark-only-secret-key-" + "x" * 40)
    return subprocess.Popen(
        [sys.executable, "manage.py", "ledger_sequencer", "--interval", "0.005"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )


def stop_sequencer(process: subprocess.Popen) -> None:
    """Let it seal what the round committed (at most 10 s), then stop it."""
    from django.db import connection

    from governance.ledger.models import LedgerEvent

    deadline = time.monotonic() + 10
    while LedgerEvent.objects.filter(seq__isnull=True).exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    connection.close()
    process.terminate()
    process.wait(timeout=30)


def sequencing_lag() -> tuple[int, float, float, float]:
    """(events, median, p99, max) of sequenced_at - recorded_at in seconds, over the sequenced events."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY lag), "
            "percentile_cont(0.99) WITHIN GROUP (ORDER BY lag), max(lag) FROM ("
            "SELECT extract(epoch FROM sequenced_at - recorded_at) AS lag FROM governance_ledgerevent "
            "WHERE seq IS NOT NULL) AS lags"
        )
        count, median, p99, worst = cursor.fetchone()
    return count, float(median or 0), float(p99 or 0), float(worst or 0)


def prepare_database(server_url: str) -> tuple[str, callable]:
    import psycopg

    server = urlunsplit(urlsplit(server_url)._replace(path="/postgres"))
    name = f"valuegate_bench_ledger_appends_{os.getpid()}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')

    def drop():
        from django.db import connections

        connections.close_all()
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}")), drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--decisions", type=int, default=300, help="decisions per process and path, K (default 300)"
    )
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3, help="alternations of the two paths (default 3)")
    parser.add_argument(
        "--postgres",
        metavar="SERVER_URL",
        default="postgres://postgres@127.0.0.1:5432/postgres",
        help="the PostgreSQL server to create the benchmark's database on (default: the local one)",
    )
    args = parser.parse_args()
    per_round = max(1, args.decisions // args.rounds)

    from governance.ledger.signing import SigningKey

    # Inherited by the spawned processes: one key; each ledger path sets its own sealing mode.
    os.environ["VALUEGATE_LEDGER_SIGNING_KEY"] = SigningKey.generate("valuegate-bench").text
    os.environ.pop("VALUEGATE_LEDGER_VERIFIER_KEYS", None)
    os.environ["VALUEGATE_LEDGER_SEALING"] = "after_commit"
    database_url, cleanup = prepare_database(args.postgres)
    try:
        from _harness import setup_django, verdict

        setup_django(database=database_url)
        from django.contrib.auth import get_user_model
        from django.db import connection

        from governance.ledger.models import LedgerEvent
        from governance.ledger.sequencer import seal_pending
        from governance.ledger.verification import verify_ledger
        from projects.models import Initiative

        user = get_user_model().objects.create(username="bench-lead")
        initiatives = Initiative.objects.bulk_create(
            Initiative(
                title=f"Initiative {i}", owner=user, department="Bench", pain_point="p", process_embedding="e"
            )
            for i in range(50)
        )
        ids = [i.pk for i in initiatives]
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TABLE {BARE_TABLE} (LIKE governance_ledgerevent INCLUDING ALL)")
        connection.close()  # the parent holds no connection while the children run

        print(
            f"Ledger appends benchmark: {args.processes} processes × {per_round} decisions × {args.rounds} rounds "
            f"per path (postgresql, {os.cpu_count()} cores)",
            flush=True,
        )
        rounds: dict[str, list[dict]] = {path: [] for path in PATHS}
        for number in range(1, args.rounds + 1):
            for path in PATHS:
                sequencer = start_sequencer(database_url) if path == "sequencer" else None
                try:
                    result = run_round(path, args.processes, per_round, database_url, user.pk, ids)
                finally:
                    if sequencer is not None:
                        stop_sequencer(sequencer)
                rounds[path].append(result)
                print(
                    f"  round {number} {path:<6} {result['rate']:7.1f} per second "
                    f"({args.processes * per_round} in {result['seconds']:.2f} s, {result['errors']} errors)",
                    flush=True,
                )
                for message in result["messages"]:
                    print(f"    {message}", flush=True)

        leftover = seal_pending()
        pending_after = LedgerEvent.objects.filter(seq__isnull=True).count()
        events, median, p99, worst = sequencing_lag()
        summary = verify_ledger()
        expected = args.processes * (per_round + WARM_UP) * args.rounds * (len(PATHS) - 1)

        plain = statistics.median(r["rate"] for r in rounds["plain"])
        print(
            f"Ledger appends — {args.processes} OS processes × {per_round} decisions, median of {args.rounds} rounds "
            "(postgresql)"
        )
        print(f"  plain INSERT, own transaction, per second        {plain:8.1f}")
        for path, label in (
            ("after_commit", "each sealed after its commit"),
            ("sequencer", "one sequencer process"),
        ):
            rate = statistics.median(r["rate"] for r in rounds[path])
            print(
                f"  ledger_append, {label:<30} {rate:8.1f} per second, "
                f"{rate / plain:5.2f}×  {verdict(rate / plain, 0.7, at_most=False)}"
            )
        print(
            f"  sequencing lag over {events:,} events           median {median * 1e3:.1f} ms, p99 {p99 * 1e3:.1f} ms, "
            f"max {worst * 1e3:.1f} ms  goal p99 < 1 s: {'met' if p99 < 1 else 'MISSED'}"
        )
        print(
            f"  left unsequenced: seal_pending found         {leftover.sealed} "
            f"({pending_after} still pending; goal 0: {'met' if leftover.sealed == 0 and pending_after == 0 else 'MISSED'})"
        )
        print(
            f"  verify_ledger                                {summary.count:,} events intact "
            f"(expected {expected:,} with the warm-ups), root {summary.head_hash[:16]}…"
        )
        errors = {path: sum(r["errors"] for r in results) for path, results in rounds.items()}
        print(f"  errors                                       {errors}")
        peak = max(r["peak_mb"] for results in rounds.values() for r in results)
        print(f"  peak RSS of a process                        {peak:8.0f} MB")
    finally:
        cleanup()


if __name__ == "__main__":
    main()
