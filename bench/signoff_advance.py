"""Benchmark 1: the sign-off that completes a review and advances its initiative, through the
services, against a hand-written minimal transaction writing the same rows. Goal: ≤ 1.5×
(PostgreSQL, heavy gate).

The minimal transaction locks the initiative and the review, inserts the sign-off, updates the
review's decision and the initiative's stage, appends one ledger row after the head and queues one
outbox row: what any correct implementation must write, with no gate, no digest, no checks. The
bare django-fsm-2 transition plus save() is printed beside it for reference. Both a light gate
(the pilot gate of a fresh proposal) and a heavy one (the scale gate of a pilot with months of
measurements, experiments with looks, costs and benefits) are timed; the three paths alternate,
and medians are reported.

    .venv/bin/python bench/signoff_advance.py [--initiatives 40]
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/valuegate_bench .venv/bin/python bench/signoff_advance.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import statistics
import time
from collections.abc import Callable

from _harness import create_database, line, peak_rss_mb, setup_django, verdict

FUNCTIONS = ("business", "legal", "finance", "technical")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--initiatives", type=int, default=40, help="per gate and path")
    args = parser.parse_args()
    create_database()
    setup_django()

    from django.db import connection

    from projects.vocabulary import Stage

    print(
        f"Benchmark 1 — completing sign-off ({connection.vendor}, {args.initiatives} initiatives per gate and path)"
    )
    for gate in ("pilot", "scale"):
        world = build(gate, args.initiatives)
        ours, minimal, bare = world["paths"]
        queries = {
            name: count_statements(fn) for name, fn in (("ours", ours), ("minimal", minimal), ("bare", bare))
        }
        timings = alternate([ours, minimal, bare], repeats=args.initiatives - 1)
        t_ours, t_minimal, t_bare = (statistics.median(t) for t in timings)
        label = "light: pilot gate" if gate == "pilot" else "heavy: scale gate (6 months, 2 KPIs, looks)"
        print(f"  {label}")
        line(
            "  services: last sign-off + gate + transition",
            f"{t_ours * 1000:8.2f} ms  ({queries['ours']} statements)",
        )
        line(
            "  minimal transaction, same rows",
            f"{t_minimal * 1000:8.2f} ms  ({queries['minimal']} statements)",
        )
        line("  bare: fsm transition + save()", f"{t_bare * 1000:8.2f} ms  ({queries['bare']} statements)")
        line(
            "  ratio to the minimal transaction",
            f"{t_ours / t_minimal:8.2f}×  {verdict(t_ours / t_minimal, 1.5)}",
        )
        line("  ratio to the bare transition", f"{t_ours / t_bare:8.2f}×")
        advanced = world["advanced"](Stage.PILOT if gate == "pilot" else Stage.SCALE)
        line("  initiatives advanced by the services", f"{advanced}/{args.initiatives}")
    line("peak RSS", f"{peak_rss_mb():8.0f} MB")


def build(gate: str, count: int) -> dict:
    """`count` reviews awaiting their last approval for each path, and the three paths."""
    from django.db import transaction
    from django.utils import timezone

    from governance.access.models import CommitteeFunction
    from governance.access.roles import FUNCTION_GROUPS
    from governance.reviews.services import review_open
    from governance.reviews.signoffs import signoff_record
    from projects.models import GateClearance, Initiative
    from projects.vocabulary import Stage
    from tests import factories

    make = (
        factories.proposal_ready_for_pilot_gate
        if gate == "pilot"
        else factories.pilot_with_everything_the_scale_gate_reads
    )
    suffix = time.monotonic_ns()
    with transaction.atomic():
        members = {c: factories.user_in(g, username=f"b{suffix}-{c}") for c, g in FUNCTION_GROUPS.items()}
        ours, minimal = [], []
        for reviews in (ours, minimal):
            for _ in range(count):
                initiative = make()
                review = review_open(actor=initiative.owner, initiative=initiative, gate=gate)
                for code in FUNCTIONS[:-1]:
                    signoff_record(
                        actor=members[code],
                        review=review,
                        function=code,
                        decision="approve",
                        rationale="Reviewed.",
                    )
                reviews.append(review)
        bare = [factories.InitiativeFactory(stage=Stage.PROPOSAL).pk for _ in range(count)]
        technical = CommitteeFunction.objects.get(code="technical")
    pending_ours, pending_minimal, pending_bare = iter(ours), iter(minimal), iter(bare)
    target = Stage.PILOT if gate == "pilot" else Stage.SCALE

    def through_services():
        signoff_record(
            actor=members["technical"],
            review=next(pending_ours),
            function="technical",
            decision="approve",
            rationale="Reviewed.",
        )

    def minimal_transaction():
        minimal_signoff(
            next(pending_minimal), reviewer=members["technical"], function=technical, stage=target
        )

    def bare_transition():
        with transaction.atomic():
            initiative = Initiative.objects.get(pk=next(pending_bare))
            initiative.gate_clearance = GateClearance(target=Stage.PILOT, passed=True)
            initiative.start_pilot(
                now=timezone.now(), deadline=timezone.now().date() + dt.timedelta(days=180)
            )
            initiative.save()

    def advanced(stage) -> int:
        return Initiative.objects.filter(pk__in=[r.initiative_id for r in ours], stage=stage).count()

    return {"paths": (through_services, minimal_transaction, bare_transition), "advanced": advanced}


def minimal_signoff(review, *, reviewer, function, stage: str) -> None:
    """The same rows as a completing sign-off, written by hand: lock the initiative and the
    review, insert the sign-off, update the review and the initiative, append one ledger row after
    the head, queue one outbox row. No gate, no digest, no checks."""
    from django.db import transaction
    from django.utils import timezone

    from governance.ledger.models import LedgerEvent, LedgerHead
    from governance.notifications.models import Notification
    from governance.reviews.models import GateReview, SignOff
    from projects.models import Initiative

    now, review_id = timezone.now(), review.pk
    with transaction.atomic():
        initiative = Initiative.objects.select_for_update(of=("self",)).get(pk=review.initiative_id)
        GateReview.objects.select_for_update(of=("self",)).get(pk=review_id)
        signoff = SignOff.objects.create(
            review_id=review_id,
            function=function,
            reviewer=reviewer,
            decision="approve",
            rationale="Reviewed.",
            digest="0" * 64,
            signed_at=now,
        )
        GateReview.objects.filter(pk=review_id).update(
            status="decided", outcome="go", outcome_reason="Approved.", decided_at=now, decided_by=reviewer
        )
        Initiative.objects.filter(pk=initiative.pk).update(stage=stage, stage_entered_at=now)
        Notification.objects.create(
            recipient_id=initiative.owner_id, event_key=f"bench-{signoff.pk}", subject="Decided", body="Go."
        )
        head = LedgerHead.objects.select_for_update(of=("self",)).get(id=1)
        digest = hashlib.sha256(f"{head.hash}{signoff.pk}".encode()).hexdigest()
        LedgerEvent.objects.create(
            seq=head.seq + 1,
            recorded_at=now,
            actor=reviewer,
            actor_name=reviewer.get_username(),
            action="signoff.recorded",
            initiative_id=initiative.pk,
            payload=f'{{"signoff":{signoff.pk}}}',
            prev_hash=head.hash,
            hash=digest,
        )
        LedgerHead.objects.filter(id=1).update(seq=head.seq + 1, hash=digest)


def count_statements(fn: Callable[[], object]) -> int:
    """The statements of one call, BEGIN to COMMIT (the outbox relay after it is not counted)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        fn()
    statements = [q["sql"] for q in queries]
    return statements.index("COMMIT") + 1 if "COMMIT" in statements else len(statements)


def alternate(paths: list[Callable[[], object]], repeats: int) -> list[list[float]]:
    """Run the paths in turn, `repeats` times, so that drift in machine load hits them alike."""
    samples: list[list[float]] = [[] for _ in paths]
    for _ in range(repeats):
        for fn, times in zip(paths, samples, strict=True):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return samples


if __name__ == "__main__":
    main()
