"""Benchmark 4: concurrent sign-offs on PostgreSQL, by OS processes (as gunicorn workers are).

Eight processes each sign the last approval of their own initiatives (each advancing one),
against eight processes writing the same rows with the hand-written minimal transaction of
benchmark 1. Reported: the throughput ratio to the minimal transactions (goal ≥ 0.6×, no errors,
each initiative advanced exactly once) and the scaling of the services from one process to eight.
Then eight processes advance the same initiative at once: exactly one transition.

Rounds alternate the paths (minimal ×8, services ×8, services ×1) and the medians are reported.
On a machine with fewer cores than processes the scaling is bounded by the cores, not the locks.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/valuegate_bench .venv/bin/python bench/concurrent_signoffs.py
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import statistics
import time

from _harness import create_database, line, setup_django, verdict

PROCESSES = 8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-process", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    url = os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/valuegate_bench")
    if not url.startswith("postgres"):
        raise SystemExit("This benchmark needs PostgreSQL: row locks are what it measures.")
    create_database(url)
    setup_django(database=url)

    from django.db import connection, connections
    from django.test.utils import CaptureQueriesContext

    from governance.ledger.models import LedgerEvent
    from projects.models import Initiative
    from projects.vocabulary import Stage

    world = build(rounds=args.rounds, per_process=args.per_process)
    # One of each, outside the timing, to count statements.
    with CaptureQueriesContext(connection) as ours_queries:
        run_path("services", [world["spare"][0]])
    with CaptureQueriesContext(connection) as minimal_queries:
        run_path("minimal", [world["spare"][1]])
    connections.close_all()  # every process opens its own connection

    rates: dict[str, list[float]] = {"minimal8": [], "services8": [], "services1": []}
    errors: dict[str, list[str]] = {name: [] for name in rates}
    rss: list[float] = []
    for round_ in world["rounds"]:
        for name, path, processes in (
            ("minimal8", "minimal", PROCESSES),
            ("services8", "services", PROCESSES),
            ("services1", "services", 1),
        ):
            reviews = round_[name]
            seconds, failed, peaks = run_processes(path, reviews, processes)
            rates[name].append(len(reviews) / seconds)
            errors[name].extend(failed)
            rss.extend(peaks)

    signed = [r for round_ in world["rounds"] for name in ("services8", "services1") for r in round_[name]]
    advanced = Initiative.objects.filter(pk__in=[r.initiative_id for r in signed], stage=Stage.PILOT).count()
    transitions = LedgerEvent.objects.filter(
        action="initiative.transitioned", initiative_id__in=[r.initiative_id for r in signed]
    ).count()
    same = same_initiative_race(world)

    minimal8, services8, services1 = (
        statistics.median(rates[n]) for n in ("minimal8", "services8", "services1")
    )
    ratio, scaling = services8 / minimal8, services8 / services1
    print(
        f"Benchmark 4 — concurrent sign-offs by OS processes, {PROCESSES} × {args.per_process}, "
        f"median of {args.rounds} rounds (postgresql, {os.cpu_count()} cores)"
    )
    line(
        "services, 8 processes: sign-offs per second",
        f"{services8:8.1f}  ({count_until_commit(ours_queries)} statements each)",
    )
    line(
        "minimal transaction, 8 processes, per second",
        f"{minimal8:8.1f}  ({count_until_commit(minimal_queries)} statements each)",
    )
    line("services, 1 process, per second", f"{services1:8.1f}")
    line("ratio to 8 minimal-transaction processes", f"{ratio:8.2f}×  {verdict(ratio, 0.6, at_most=False)}")
    line("scaling of the services from 1 to 8 processes", f"{scaling:8.2f}×")
    line("errors", "  ".join(f"{name}: {len(found)}" for name, found in errors.items()))
    line("initiatives advanced exactly once", f"{advanced}/{len(signed)} advanced, {transitions} transitions")
    line("same initiative, 8 processes: transitions", same)
    line("peak RSS of a process", f"{max(rss):8.0f} MB")
    for found in errors.values():
        for error in found[:3]:
            print(f"  error: {error}")


def build(*, rounds: int, per_process: int) -> dict:
    from django.db import transaction

    from governance.access.roles import FUNCTION_GROUPS
    from governance.reviews.services import review_open
    from governance.reviews.signoffs import signoff_record
    from tests import factories

    suffix = time.monotonic_ns()
    with transaction.atomic():
        members = {c: factories.user_in(g, username=f"c{suffix}-{c}") for c, g in FUNCTION_GROUPS.items()}
        chair = factories.user_in("Committee chair", username=f"c{suffix}-chair")

        def awaiting_last_approval():
            initiative = factories.proposal_ready_for_pilot_gate()
            review = review_open(actor=initiative.owner, initiative=initiative)
            for code in ("business", "legal", "finance"):
                signoff_record(
                    actor=members[code], review=review, function=code, decision="approve", rationale="ok"
                )
            return review

        world_rounds = [
            {
                "minimal8": [awaiting_last_approval() for _ in range(PROCESSES * per_process)],
                "services8": [awaiting_last_approval() for _ in range(PROCESSES * per_process)],
                "services1": [awaiting_last_approval() for _ in range(2 * per_process)],
            }
            for _ in range(rounds)
        ]
        spare = [awaiting_last_approval(), awaiting_last_approval()]
    _members.update(members, chair=chair)
    return {"rounds": world_rounds, "spare": spare}


_members: dict = {}


def run_path(path: str, reviews) -> list[str]:
    """Sign the last approval of each review by `path`; return the errors met."""
    from signoff_advance import minimal_signoff

    from governance.access.models import CommitteeFunction
    from governance.reviews.signoffs import signoff_record

    technical = CommitteeFunction.objects.get(code="technical") if path == "minimal" else None
    failed = []
    for review in reviews:
        try:
            if path == "services":
                signoff_record(
                    actor=_members["technical"],
                    review=review,
                    function="technical",
                    decision="approve",
                    rationale="ok",
                )
            else:
                minimal_signoff(review, reviewer=_members["technical"], function=technical, stage="pilot")
        except Exception as error:  # counted and shown by the benchmark
            failed.append(repr(error))
    return failed


def _worker(path, reviews, barrier, results) -> None:
    from django.db import connection, connections

    connection.ensure_connection()  # connecting is not what is measured
    barrier.wait()
    start = time.monotonic()
    failed = run_path(path, reviews)
    end = time.monotonic()
    connections.close_all()
    results.put((start, end, failed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def run_processes(path: str, reviews, processes: int) -> tuple[float, list[str], list[float]]:
    """Share `reviews` among `processes` forked processes started together; return the seconds
    from the first start to the last end, the errors and each process's peak RSS."""
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(processes), context.Queue()
    shares = [reviews[i::processes] for i in range(processes)]
    workers = [context.Process(target=_worker, args=(path, share, barrier, results)) for share in shares]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=600) for _ in workers]
    for worker in workers:
        worker.join()
    starts, ends, failed, peaks = zip(*outcomes, strict=True)
    return max(ends) - min(starts), [e for f in failed for e in f], list(peaks)


def same_initiative_race(world) -> str:
    """Eight processes advance one initiative whose approvals are all in place."""
    from django.db import connections, transaction

    from governance.access.models import CommitteeFunction
    from governance.ledger.models import LedgerEvent
    from governance.reviews.facts import initiative_with_gate_data, signoff_digest
    from governance.reviews.models import SignOff
    from governance.reviews.services import review_open
    from tests import factories

    with transaction.atomic():
        target = factories.proposal_ready_for_pilot_gate()
        review = review_open(actor=target.owner, initiative=target)
        digest = signoff_digest(initiative_with_gate_data(target.pk), review)
        for code in ("business", "legal", "finance", "technical"):
            SignOff.objects.create(
                review=review,
                function=CommitteeFunction.objects.get(code=code),
                reviewer=_members[code],
                decision="approve",
                rationale="ok",
                digest=digest,
            )
    connections.close_all()
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(PROCESSES), context.Queue()
    workers = [context.Process(target=_advance, args=(review, barrier, results)) for _ in range(PROCESSES)]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join()
    transitions = LedgerEvent.objects.filter(action="initiative.transitioned", initiative=target).count()
    return (
        f"{transitions} (goal: exactly 1); {outcomes.count('advanced')} advanced, "
        f"{outcomes.count('refused')} told it was decided, {len(outcomes) - outcomes.count('advanced') - outcomes.count('refused')} errors"
    )


def _advance(review, barrier, results) -> None:
    from django.db import connection, connections

    connection.ensure_connection()
    from governance.errors import WrongStage
    from governance.reviews.services import initiative_advance

    barrier.wait()
    try:
        initiative_advance(actor=_members["chair"], review=review)
        results.put("advanced")
    except WrongStage:
        results.put("refused")
    except Exception as error:  # shown as an error count
        results.put(repr(error))
    finally:
        connections.close_all()


def count_until_commit(queries) -> int:
    statements = [q["sql"] for q in queries]
    return statements.index("COMMIT") + 1 if "COMMIT" in statements else len(statements)


if __name__ == "__main__":
    main()
