"""Benchmark 3: gate evaluation for every initiative (the dashboard's "ready for next gate"
column) on a scale data set: per-initiative cost and a fixed number of queries.

    .venv/bin/python bench/readiness.py [--initiatives 10000]

Seeds the benchmark database with seed_scale when it holds fewer initiatives than asked.
"""

from __future__ import annotations

import argparse
import time

from _harness import line, peak_rss_mb, setup_django


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--initiatives", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    setup_django()

    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from governance.reviews.readiness import next_gate_readiness
    from governance.rules.gates import evaluate_gate
    from projects.models import Initiative

    have = Initiative.objects.count()
    if have < args.initiatives:
        call_command("seed_scale", initiatives=args.initiatives - have, ledger_events=0)

    timings = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            readiness = next_gate_readiness(now=timezone.now())
        timings.append(time.perf_counter() - start)
    best = sorted(timings)[len(timings) // 2]

    # The pure rule alone on the same inputs, for how much of the cost is reading the database.
    from governance.reviews import readiness as module

    inputs_start = time.perf_counter()
    data = module._gate_data(Initiative.objects.filter(pk__in=list(readiness)))
    load = time.perf_counter() - inputs_start
    from governance.reviews.facts import current_policy, inputs_from, policy_rules

    rules = {gate: policy_rules(current_policy(gate)) for gate in ("pilot", "scale", "retire")}
    start = time.perf_counter()
    for gate_data in data.values():
        evaluate_gate(
            inputs_from(gate_data, rules["scale" if gate_data.stage == "pilot" else "pilot"], (), ()),
            now=timezone.now(),
        )
    pure = time.perf_counter() - start

    ready = sum(1 for e in readiness.values() if e.passed)
    print(f"Benchmark 3 — readiness of the whole portfolio ({connection.vendor})")
    line(
        "initiatives facing a gate",
        f"{len(readiness):,} (of {Initiative.objects.count():,}); {ready} ready now",
    )
    line("all of them, median", f"{best:8.2f} s  ({len(queries)} queries)")
    line("per initiative", f"{best / max(len(readiness), 1) * 1e6:8.0f} µs")
    line("of which reading the database", f"{load:8.2f} s")
    line("of which the pure gate rule", f"{pure:8.2f} s ({pure / max(len(data), 1) * 1e6:.0f} µs each)")
    line("peak RSS", f"{peak_rss_mb():8.0f} MB")


if __name__ == "__main__":
    main()
