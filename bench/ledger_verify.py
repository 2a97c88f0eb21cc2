"""Verifying the signed ledger against raw SHA-256 and raw Ed25519, side by side in one run.

Builds a ledger of N signed events (default 1,000,000) in a fresh database, sequenced into its
Merkle tree exactly as the sequencer leaves it, then prints:
- the time `verify_ledger` takes (rebuild every leaf, check every signature, rebuild the tree),
  against (a) raw `hashlib.sha256` over the very same content bytes and (b) raw SHA-256 plus a
  raw Ed25519 verification of the very same signatures (the honest floor: verification must
  check every signature), with both ratios (goal: at most 3x raw SHA-256); also reading the rows
  alone, the database and driver's share. The four phases alternate, ROUNDS times, medians kept;
- the peak memory of `manage.py verify_ledger` on that ledger, run as a process of its own
  (goal: under 200 MB), and its growth over the process's size before it verified;
- one inclusion proof at size N (`event_inclusion` after the first `ledger_checkpoint()`):
  building it from the stored tree, and verifying it with `merkle.verify_inclusion`, against one
  SHA-256 call (goal: under 10 ms).

    .venv/bin/python bench/ledger_verify.py [--events N] [--rounds R] [--postgres URL | --sqlite]

By default the ledger lives on the local PostgreSQL server (postgres://postgres@127.0.0.1:5432),
in a database valuegate_bench_ledger_verify_<pid> created for the run and dropped at the end;
--sqlite uses a temporary SQLite file instead. The events are built in bulk: each one's content,
leaf hash and signature computed exactly as governance/ledger/chain.py writes them (by two worker
processes), inserted with COPY (executemany on SQLite) with their seq already set, and the tree's
nodes and head stored as governance/ledger/sequencer.py stores them. Goals are printed as met or
missed, never asserted.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import multiprocessing
import os
import secrets
import shutil
import statistics
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
ACTORS = ["business-member", "legal-member", "finance-member", "technical-member", "chair", "Zoë", "system"]
EVENT_COLUMNS = (
    "seq, recorded_at, sequenced_at, actor_id, actor_name, action, initiative_id, payload, nonce, "
    "key_id, signature, hash"
)
NODE_COLUMNS = 'level, "index", hash'
START = dt.datetime(2022, 1, 1, tzinfo=dt.UTC)


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


# Building the ledger ---------------------------------------------------------------------------------


def _signed_rows(job: tuple) -> list[tuple]:
    """Events first..last as rows of EVENT_COLUMNS, built as chain.py `_write` builds them.

    Runs in a worker process: pure computation (no database), so two of them sign in parallel.
    """
    first, last, key_text, actor_ids, initiative_ids, postgres = job
    from governance.ledger.canonical import canonical_json, utc_text
    from governance.ledger.content import sign_event
    from governance.ledger.signing import SigningKey

    key = SigningKey.parse(key_text)
    rows = []
    for seq in range(first, last + 1):
        at = START + dt.timedelta(seconds=seq * 90, microseconds=(seq * 7919) % 1_000_000)
        at_text = utc_text(at)
        actor = ACTORS[seq % len(ACTORS)]
        actor_id = actor_ids[actor]
        action, payload = payload_for(seq)
        payload_text = canonical_json(payload)
        initiative = initiative_ids[seq % len(initiative_ids)] if seq % 9 else None
        nonce = secrets.token_hex(16)
        digest, signature = sign_event(
            key,
            recorded_at=at_text,
            actor_id=actor_id,
            actor=actor,
            action=action,
            initiative=initiative,
            nonce=nonce,
            payload=payload_text,
        )
        sealed = at + dt.timedelta(milliseconds=40)
        if not postgres:  # as Django stores an aware datetime in SQLite: naive UTC text
            at, sealed = at.replace(tzinfo=None).isoformat(" "), sealed.replace(tzinfo=None).isoformat(" ")
        rows.append(
            (
                seq,
                at,
                sealed,
                actor_id,
                actor,
                action,
                initiative,
                payload_text,
                nonce,
                key.key_id,
                signature,
                digest,
            )
        )
    return rows


def _insert(cursor, postgres: bool, table: str, columns: str, rows: list[tuple]) -> None:
    if postgres:
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join(["%s"] * len(columns.split(",")))
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)


def build_ledger(n: int, key_text: str, actor_ids: dict, initiative_ids: list[int]) -> float:
    """Insert n signed, sequenced events, their tree nodes and the head, in one transaction."""
    from django.db import connection, transaction

    from governance.ledger.merkle import TreeBuilder
    from governance.ledger.models import LedgerHead

    postgres = connection.vendor == "postgresql"
    jobs = [
        (first, min(first + CHUNK - 1, n), key_text, actor_ids, initiative_ids, postgres)
        for first in range(1, n + 1, CHUNK)
    ]
    builder = TreeBuilder()
    began = time.perf_counter()
    # Forked before any query of this transaction; the workers never touch the database.
    with (
        multiprocessing.get_context("fork").Pool(2) as pool,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        for number, rows in enumerate(pool.imap(_signed_rows, jobs), start=1):
            _insert(cursor, postgres, "governance_ledgerevent", EVENT_COLUMNS, rows)
            nodes = []
            for row in rows:  # as the sequencer stores them: every node an append completes
                nodes.extend(builder.append(bytes.fromhex(row[-1])))
            _insert(
                cursor,
                postgres,
                "governance_ledgertreenode",
                NODE_COLUMNS,
                [(lv, i, h.hex()) for lv, i, h in nodes],
            )
            if number % 10 == 0 or number == len(jobs):
                print(f"  built {rows[-1][0]:,} events ({time.perf_counter() - began:.0f} s)", flush=True)
        LedgerHead.objects.update_or_create(
            id=1, defaults={"seq": builder.size, "hash": builder.root().hex()}
        )
    return time.perf_counter() - began


# The timed phases ------------------------------------------------------------------------------------


def _content_of(row) -> bytes:
    from governance.ledger.content import signed_content

    _seq, at, actor_id, actor, action, initiative, payload, nonce, *_rest = row
    return signed_content(
        recorded_at=at,
        actor_id=actor_id,
        actor=actor,
        action=action,
        initiative=initiative,
        nonce=nonce,
        payload=payload,
    )


def timed_raw_sha256() -> tuple[float, int]:
    """(a) hashlib.sha256 over each event's content bytes; only the hashing is timed."""
    from governance.ledger.verification import event_chunks

    sha256 = hashlib.sha256
    seconds, total_bytes = 0.0, 0
    for rows in event_chunks():
        data = [_content_of(row) for row in rows]
        t0 = time.perf_counter()
        for item in data:
            sha256(item).digest()
        seconds += time.perf_counter() - t0
        total_bytes += sum(map(len, data))
    return seconds, total_bytes


def timed_raw_floor(public_key) -> float:
    """(b) the same SHA-256 plus a raw Ed25519 verification of each stored signature; only those timed."""
    from governance.ledger.content import signed_message
    from governance.ledger.verification import event_chunks

    sha256, verify = hashlib.sha256, public_key.verify
    seconds = 0.0
    for rows in event_chunks():
        data = [(_content_of(row), base64.b64decode(row[9]), signed_message(row[11], row[1])) for row in rows]
        t0 = time.perf_counter()
        for content, signature, message in data:
            sha256(content).digest()
            verify(signature, message)  # raises InvalidSignature on a bad one
        seconds += time.perf_counter() - t0
    return seconds


def timed_read() -> float:
    """Stream the same rows as verification, doing nothing with them."""
    from governance.ledger.verification import event_chunks

    t0 = time.perf_counter()
    for _rows in event_chunks():
        pass
    return time.perf_counter() - t0


def timed_verify(n: int, workers: int = 1) -> float:
    from governance.ledger.verification import verify_ledger

    t0 = time.perf_counter()
    summary = verify_ledger(workers=workers)
    seconds = time.perf_counter() - t0
    if summary.count != n:
        raise SystemExit(f"verify_ledger read {summary.count} events, not {n}")
    return seconds


# The child reports its size before verifying (Django loaded, key read) and its high-water mark
# (VmHWM) after: unlike ru_maxrss, VmHWM does not inherit the resident size of its parent.
_PEAK_CHILD = """
import os, sys
sys.path.insert(0, sys.argv[1])
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
import django
django.setup()
from django.core.management import call_command
from governance.ledger.signing import ledger_verifier_keys
ledger_verifier_keys()
def status(field):
    return int(next(l for l in open("/proc/self/status") if l.startswith(field)).split()[1])
before = status("VmRSS:")
call_command("verify_ledger", "--progress-every", "10000000")
print("memory-kb", before, status("VmHWM:"), file=sys.stderr)
"""


def command_memory() -> tuple[float, float, float, str]:
    """Run `manage.py verify_ledger` in a process of its own: (seconds, MB before, peak MB, its output)."""
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _PEAK_CHILD, str(ROOT)],
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"manage.py verify_ledger failed:\n{done.stdout}\n{done.stderr[-3000:]}")
    before_kb, peak_kb = map(int, done.stderr.rsplit("memory-kb", 1)[1].split()[:2])
    return seconds, before_kb / 1024, peak_kb / 1024, done.stdout.strip().splitlines()[0]


def proof_timings(n: int, samples: int = 50) -> dict:
    """Inclusion proofs at size n: building (stored nodes) and verifying, against one SHA-256 call."""
    import random

    from governance.ledger.checkpoints import event_inclusion, ledger_checkpoint
    from governance.ledger.merkle import verify_inclusion

    t0 = time.perf_counter()
    checkpoint = ledger_checkpoint()  # the first one verifies the whole ledger before signing
    checkpoint_seconds = time.perf_counter() - t0
    assert checkpoint.size == n, checkpoint.size
    rng = random.Random(7)
    seqs = [1, n, *(rng.randint(1, n) for _ in range(samples - 2))]
    build, check, lengths = [], [], []
    sha256 = hashlib.sha256
    one = b"x" * 366
    repeat = 200
    sha_samples = []
    for seq in seqs:
        t0 = time.perf_counter()
        proof = event_inclusion(seq=seq)
        build.append(time.perf_counter() - t0)
        leaf, path, root = (
            bytes.fromhex(proof.leaf_hash),
            [bytes.fromhex(p) for p in proof.proof],
            bytes.fromhex(proof.root),
        )
        lengths.append(len(path))
        t0 = time.perf_counter()
        for _ in range(repeat):
            ok = verify_inclusion(leaf, seq - 1, proof.tree_size, path, root)
        check.append((time.perf_counter() - t0) / repeat)
        if not ok:
            raise SystemExit(f"the inclusion proof of event #{seq} does not verify")
        t0 = time.perf_counter()
        for _ in range(repeat):
            sha256(one).digest()
        sha_samples.append((time.perf_counter() - t0) / repeat)
    return {
        "checkpoint": checkpoint_seconds,
        "build": statistics.median(build),
        "build_max": max(build),
        "verify": statistics.median(check),
        "sha": statistics.median(sha_samples),
        "length": statistics.median(lengths),
        "samples": len(seqs),
    }


# Set-up ---------------------------------------------------------------------------------------------


def prepare_database(args) -> tuple[str, callable]:
    if args.sqlite:
        directory = tempfile.mkdtemp(prefix="valuegate-bench-ledger-")
        return f"sqlite:///{directory}/ledger.sqlite3", lambda: shutil.rmtree(directory, ignore_errors=True)
    import psycopg

    server = urlunsplit(urlsplit(args.postgres)._replace(path="/postgres"))
    name = f"valuegate_bench_ledger_verify_{os.getpid()}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')

    def drop():
        from django.db import connections

        connections.close_all()
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return urlunsplit(urlsplit(args.postgres)._replace(path=f"/{name}")), drop


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3, help="side-by-side rounds, medians kept (default 3)")
    parser.add_argument(
        "--postgres",
        metavar="SERVER_URL",
        default="postgres://postgres@127.0.0.1:5432/postgres",
        help="the PostgreSQL server to create the benchmark's database on (default: the local one)",
    )
    parser.add_argument("--sqlite", action="store_true", help="a temporary SQLite file instead of PostgreSQL")
    args = parser.parse_args()
    n = args.events

    from governance.ledger.signing import SigningKey

    key = SigningKey.generate("valuegate-bench")
    os.environ["VALUEGATE_LEDGER_SIGNING_KEY"] = key.text  # the children (verify_ledger) read it too
    os.environ.pop("VALUEGATE_LEDGER_VERIFIER_KEYS", None)
    database_url, cleanup = prepare_database(args)
    try:
        from _harness import peak_rss_mb, setup_django

        setup_django(database=database_url)
        from django.contrib.auth import get_user_model
        from django.db import connection

        from projects.models import Initiative

        users = {name: get_user_model().objects.create(username=name) for name in ACTORS if name != "system"}
        actor_ids = {name: (users[name].pk if name in users else None) for name in ACTORS}
        initiatives = Initiative.objects.bulk_create(
            Initiative(
                title=f"Initiative {i}",
                owner=users["chair"],
                department="Bench",
                pain_point="p",
                process_embedding="e",
            )
            for i in range(50)
        )
        engine = f"{connection.vendor} {'.'.join(map(str, connection.get_database_version()))}"
        print(f"Ledger verification benchmark: {n:,} signed events on {engine}", flush=True)
        build_seconds = build_ledger(n, key.text, actor_ids, [i.pk for i in initiatives])
        print(f"  built and inserted in {build_seconds:.1f} s; timing {args.rounds} rounds", flush=True)

        public = key.verifier._key  # the raw cryptography Ed25519PublicKey
        from governance.ledger.parallel import default_workers

        workers = default_workers()
        samples = {"sha": [], "floor": [], "read": [], "verify": [], "parallel": []}
        total_bytes = 0
        for number in range(1, args.rounds + 1):
            seconds, total_bytes = timed_raw_sha256()
            samples["sha"].append(seconds)
            samples["floor"].append(timed_raw_floor(public))
            samples["read"].append(timed_read())
            samples["verify"].append(timed_verify(n))
            samples["parallel"].append(timed_verify(n, workers))
            print(
                f"  round {number}: sha256 {samples['sha'][-1]:.2f} s, sha256+ed25519 {samples['floor'][-1]:.2f} s, "
                f"reading {samples['read'][-1]:.2f} s, verify_ledger {samples['verify'][-1]:.2f} s, "
                f"with {workers} workers {samples['parallel'][-1]:.2f} s",
                flush=True,
            )
        print("  manage.py verify_ledger in a process of its own, for its memory", flush=True)
        cli_seconds, cli_before_mb, cli_peak_mb, cli_line = command_memory()
        print("  first checkpoint and inclusion proofs", flush=True)
        proofs = proof_timings(n)

        sha, floor, read, verify, parallel = (
            statistics.median(samples[k]) for k in ("sha", "floor", "read", "verify", "parallel")
        )
        per = 1e6 / n
        print(
            f"Ledger verification — {n:,} signed events ({engine}), median of {args.rounds} rounds side by side"
        )
        print(
            f"  raw hashlib.sha256 of the content       {sha:8.2f} s  {sha * per:7.2f} µs/event ({total_bytes / n:.0f} bytes/event)"
        )
        print(
            f"  raw sha256 + raw Ed25519 verify         {floor:8.2f} s  {floor * per:7.2f} µs/event  (the floor)"
        )
        print(f"  reading the rows only                   {read:8.2f} s  {read * per:7.2f} µs/event")
        print(f"  verify_ledger                           {verify:8.2f} s  {verify * per:7.2f} µs/event")
        print(
            f"    ratio to raw SHA-256                  {verify / sha:8.2f}×  goal ≤ 3×: {verdict(verify / sha <= 3)}"
        )
        print(f"    ratio to raw SHA-256 + Ed25519        {verify / floor:8.2f}×")
        print(f"    past reading, ratio to the floor      {(verify - read) / floor:8.2f}×")
        print(
            f"  verify_ledger, {workers} worker processes       {parallel:8.2f} s  {parallel * per:7.2f} µs/event"
        )
        print(
            f"    ratio to raw SHA-256                  {parallel / sha:8.2f}×  goal ≤ 3×: {verdict(parallel / sha <= 3)}"
        )
        print(f"    ratio to raw SHA-256 + Ed25519        {parallel / floor:8.2f}×")
        print(f"    speed-up over one process             {verify / parallel:8.2f}×")
        print(
            f"  manage.py verify_ledger                 {cli_seconds:8.2f} s  peak RSS {cli_peak_mb:.0f} MB "
            f"(+{cli_peak_mb - cli_before_mb:.0f} MB while verifying)  goal < 200 MB: {verdict(cli_peak_mb < 200)}"
        )
        print(f"    {cli_line}")
        print(
            f"  first ledger_checkpoint()               {proofs['checkpoint']:8.2f} s  (verifies the whole ledger)"
        )
        print(
            f"  inclusion proof at {n:,}: build      {proofs['build'] * 1e3:8.2f} ms  median of {proofs['samples']} "
            f"(max {proofs['build_max'] * 1e3:.2f} ms, {proofs['length']:.0f} hashes, read from the stored tree)"
        )
        print(
            f"    verify_inclusion                      {proofs['verify'] * 1e6:8.1f} µs  "
            f"ratio {proofs['verify'] / proofs['sha']:.1f}× one SHA-256 call ({proofs['sha'] * 1e6:.2f} µs)  "
            f"goal < 10 ms: {verdict(proofs['verify'] < 0.010)}"
        )
        total_proof = proofs["build"] + proofs["verify"]
        print(
            f"    build + verify                        {total_proof * 1e3:8.2f} ms  goal < 10 ms: {verdict(total_proof < 0.010)}"
        )
        print(f"  this benchmark                          peak RSS {peak_rss_mb():.0f} MB")
    finally:
        cleanup()


if __name__ == "__main__":
    main()
