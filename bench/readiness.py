"""Benchmark 3: gate evaluation for every initiative (the dashboard's "ready for next gate"
column) on a scale data set: per-initiative cost, queries per chunk, and memory that does not grow
with the portfolio.

    .venv/bin/python bench/readiness.py [--initiatives 10000]
    BENCH_DATABASE_URL=sqlite:////tmp/scale50k.sqlite3 .venv/bin/python bench/readiness.py --initiatives 50000

Seeds the benchmark database with seed_scale when it holds fewer initiatives than asked (in this
process: its peak memory then includes the seeding; `run_all.py` seeds in a process of its own).
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from dataclasses import dataclass

from _harness import counting_queries, line, peak_rss_mb, setup_django, use_bench_signing_key

MEMORY_GOAL_MB = 300


@dataclass
class Walk:
    """What one walk over the portfolio saw, kept as counts: the evaluations are not held."""

    facing: int = 0
    ready: int = 0
    seconds: float = 0.0
    queries: int = 0


@dataclass
class Split:
    """The walk's time split between reading the gate data and the pure gate rule."""

    reading: float = 0.0
    rule: float = 0.0
    evaluated: int = 0


def walk_portfolio(*, now: dt.datetime) -> Walk:
    from governance.reviews.readiness import iter_next_gate_readiness

    walk = Walk()
    start = time.perf_counter()
    with counting_queries() as queries:
        for _, evaluation in iter_next_gate_readiness(now=now):
            walk.facing += 1
            walk.ready += evaluation.passed
    walk.seconds = time.perf_counter() - start
    walk.queries = queries.queries
    return walk


def split_reading_from_rule(*, now: dt.datetime) -> Split:
    """The same chunks, read and then evaluated by the pure rule alone (current policies, no
    sign-offs), for how much of the cost is reading the database."""
    from governance.reviews.facts import current_policy, inputs_from, policy_rules
    from governance.reviews.readiness import facing_a_gate, gate_data_of, initiative_chunks
    from governance.rules.gates import evaluate_gate
    from projects.vocabulary import GATES_FROM_STAGE

    rules = {gate: policy_rules(current_policy(gate)) for gate in ("pilot", "scale", "retire")}
    split = Split()
    chunks = initiative_chunks(facing_a_gate())
    while True:
        start = time.perf_counter()
        rows = next(chunks, None)
        if rows is None:
            break
        data = gate_data_of(rows)
        split.reading += time.perf_counter() - start
        start = time.perf_counter()
        for gate_data in data.values():
            gate = GATES_FROM_STAGE[gate_data.stage][0]
            evaluate_gate(inputs_from(gate_data, rules[gate], (), ()), now=now)
        split.rule += time.perf_counter() - start
        split.evaluated += len(data)
    return split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--initiatives", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    use_bench_signing_key()  # seeding grants the scale users their roles: ledger events
    setup_django()

    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from governance.reviews.readiness import CHUNK_SIZE, QUERIES_PER_CHUNK
    from projects.models import Initiative

    have = Initiative.objects.count()
    if have < args.initiatives:
        call_command("seed_scale", initiatives=args.initiatives - have, ledger_events=0)

    now = timezone.now()
    walks = [walk_portfolio(now=now) for _ in range(args.repeats)]
    median = statistics.median(w.seconds for w in walks)
    walk = walks[0]
    split = split_reading_from_rule(now=now)
    chunks = -(-walk.facing // CHUNK_SIZE)
    peak = peak_rss_mb()

    print(f"Benchmark 3 — readiness of the whole portfolio ({connection.vendor})")
    line(
        "initiatives facing a gate",
        f"{walk.facing:,} (of {Initiative.objects.count():,}); {walk.ready} ready now",
    )
    line("all of them, median", f"{median:8.2f} s  ({walk.queries:,} queries)")
    line(
        f"  in chunks of {CHUNK_SIZE}",
        f"{chunks:,} chunks × {QUERIES_PER_CHUNK} queries + 1 for the policies",
    )
    line("per initiative", f"{median / max(walk.facing, 1) * 1e6:8.0f} µs")
    line("of which reading the database", f"{split.reading:8.2f} s")
    line(
        "of which the pure gate rule",
        f"{split.rule:8.2f} s ({split.rule / max(split.evaluated, 1) * 1e6:.0f} µs each)",
    )
    state = "met" if peak < MEMORY_GOAL_MB else "MISSED"
    line("peak RSS", f"{peak:8.0f} MB  goal < {MEMORY_GOAL_MB} MB: {state}")


if __name__ == "__main__":
    main()
