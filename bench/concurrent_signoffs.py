"""Benchmark 4: concurrent sign-offs on PostgreSQL.

8 clients sign the last approval of different initiatives (each advancing one), against 8
clients inserting the same sign-off rows plainly: goal ≥ 0.3× the plain throughput, no errors.
Then 8 clients advance the same initiative at once: exactly one transition.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/valuegate_bench .venv/bin/python bench/concurrent_signoffs.py
"""

from __future__ import annotations

import argparse
import os
import threading
import time

from _harness import line, peak_rss_mb, setup_django, verdict

CLIENTS = 8


def run_clients(work, per_client: int) -> tuple[float, list[Exception]]:
    from django.db import connection

    barrier = threading.Barrier(CLIENTS)
    errors: list[Exception] = []

    def client(index):
        try:
            barrier.wait()
            for n in range(per_client):
                work(index, n)
        except Exception as error:  # reported by the benchmark
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-client", type=int, default=15)
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/valuegate_bench")
    if not url.startswith("postgres"):
        raise SystemExit("This benchmark needs PostgreSQL: row locks are what it measures.")
    _create_database(url)
    setup_django(database=url)

    from django.db import transaction

    from governance.access.models import CommitteeFunction
    from governance.access.roles import FUNCTION_GROUPS
    from governance.errors import WrongStage
    from governance.ledger.models import LedgerEvent
    from governance.reviews.facts import initiative_with_gate_data, signoff_digest
    from governance.reviews.models import GateReview, SignOff
    from governance.reviews.services import initiative_advance, review_open
    from governance.reviews.signoffs import signoff_record
    from projects.models import Initiative
    from projects.vocabulary import Stage
    from tests import factories

    total = CLIENTS * args.per_client
    with transaction.atomic():
        suffix = time.monotonic_ns()
        members = {c: factories.user_in(g, username=f"c{suffix}-{c}") for c, g in FUNCTION_GROUPS.items()}
        chair = factories.user_in("Committee chair", username=f"c{suffix}-chair")
        reviews = []
        for _ in range(total):
            initiative = factories.proposal_ready_for_pilot_gate()
            review = review_open(actor=initiative.owner, initiative=initiative)
            for code in ("business", "legal", "finance"):
                signoff_record(
                    actor=members[code], review=review, function=code, decision="approve", rationale="ok"
                )
            reviews.append(review)
        plain_reviews = [
            review_open(actor=i.owner, initiative=i)
            for i in (factories.proposal_ready_for_pilot_gate() for _ in range(total))
        ]
        technical = CommitteeFunction.objects.get(code="technical")

    def sign(index, n):
        signoff_record(
            actor=members["technical"],
            review=reviews[index * args.per_client + n],
            function="technical",
            decision="approve",
            rationale="ok",
        )

    def plain_insert(index, n):
        with transaction.atomic():
            SignOff.objects.create(
                review=plain_reviews[index * args.per_client + n],
                function=technical,
                reviewer=members["technical"],
                decision="approve",
                rationale="ok",
                digest="0" * 64,
            )

    plain_seconds, plain_errors = run_clients(plain_insert, args.per_client)
    ours_seconds, ours_errors = run_clients(sign, args.per_client)
    advanced = Initiative.objects.filter(pk__in=[r.initiative_id for r in reviews], stage=Stage.PILOT).count()

    # Same initiative: approvals in place, eight clients ask to advance it at once.
    with transaction.atomic():
        target = factories.pilot_ready_for_scale_gate()
        review = review_open(actor=target.owner, initiative=target)
        digest = signoff_digest(initiative_with_gate_data(target.pk), review)
        for code in ("business", "legal", "finance", "technical"):
            SignOff.objects.create(
                review=review,
                function=CommitteeFunction.objects.get(code=code),
                reviewer=members[code],
                decision="approve",
                rationale="ok",
                digest=digest,
            )
    outcomes = []

    def advance(index, n):
        try:
            outcomes.append(initiative_advance(actor=chair, review=review))
        except WrongStage as refused:
            outcomes.append(refused)

    run_clients(advance, 1)
    transitions = LedgerEvent.objects.filter(action="initiative.transitioned", initiative=target).count()

    ours_rate, plain_rate = total / ours_seconds, total / plain_seconds
    print(f"Benchmark 4 — concurrent sign-offs, {CLIENTS} clients × {args.per_client} (postgresql)")
    line("services: last sign-off + advance, per second", f"{ours_rate:8.1f}  errors: {len(ours_errors)}")
    line("plain sign-off inserts, per second", f"{plain_rate:8.1f}  errors: {len(plain_errors)}")
    line(
        "throughput ratio",
        f"{ours_rate / plain_rate:8.2f}×  {verdict(ours_rate / plain_rate, 0.3, at_most=False)}",
    )
    line("initiatives advanced", f"{advanced}/{total}")
    line(
        "same initiative, 8 clients: transitions",
        f"{transitions} (goal: exactly 1); "
        f"{sum(isinstance(o, GateReview) for o in outcomes)} advanced, "
        f"{sum(isinstance(o, WrongStage) for o in outcomes)} told it was decided",
    )
    line("peak RSS", f"{peak_rss_mb():8.0f} MB")
    for error in (ours_errors + plain_errors)[:3]:
        print(f"  error: {error!r}")


def _create_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


if __name__ == "__main__":
    main()
