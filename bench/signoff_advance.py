"""Benchmark 1: record the last sign-off and advance an initiative through the services,
against a bare django-fsm-2 transition plus save() on the same table. Goal: ≤ 3×.

    .venv/bin/python bench/signoff_advance.py [--initiatives 60]
"""

from __future__ import annotations

import argparse
import datetime as dt

from _harness import line, peak_rss_mb, setup_django, side_by_side, verdict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--initiatives", type=int, default=60)
    args = parser.parse_args()
    setup_django()

    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from governance.access.roles import FUNCTION_GROUPS
    from governance.reviews.services import review_open
    from governance.reviews.signoffs import signoff_record
    from projects.models import GateClearance, Initiative
    from projects.vocabulary import Stage
    from tests import factories

    with transaction.atomic():
        members = {
            code: factories.user_in(group, username=f"bench-{code}")
            for code, group in FUNCTION_GROUPS.items()
        }
        reviews, bare = [], []
        for _ in range(args.initiatives):
            initiative = factories.proposal_ready_for_pilot_gate()
            review = review_open(actor=initiative.owner, initiative=initiative)
            for code in ("business", "legal", "finance"):
                signoff_record(
                    actor=members[code],
                    review=review,
                    function=code,
                    decision="approve",
                    rationale="Reviewed.",
                )
            reviews.append(review)
            bare.append(factories.InitiativeFactory(stage=Stage.PROPOSAL).pk)

    pending_reviews, pending_bare = iter(reviews), iter(bare)

    def through_services():
        signoff_record(
            actor=members["technical"],
            review=next(pending_reviews),
            function="technical",
            decision="approve",
            rationale="Reviewed.",
        )

    def bare_transition():
        with transaction.atomic():
            initiative = Initiative.objects.get(pk=next(pending_bare))
            initiative.gate_clearance = GateClearance(target=Stage.PILOT, passed=True)
            initiative.start_pilot(
                now=timezone.now(), deadline=timezone.now().date() + dt.timedelta(days=180)
            )
            initiative.save()

    # One of each, outside the timing, to count queries.
    with CaptureQueriesContext(connection) as ours_queries:
        through_services()
    with CaptureQueriesContext(connection) as bare_queries:
        bare_transition()
    ours, base = side_by_side(through_services, bare_transition, repeats=args.initiatives - 1)
    moved = Initiative.objects.filter(pk__in=[r.initiative_id for r in reviews], stage=Stage.PILOT).count()

    print(f"Benchmark 1 — sign-off and advance ({connection.vendor}, {args.initiatives} initiatives each)")
    line(
        "services: last sign-off + gate + transition", f"{ours * 1000:8.2f} ms  ({len(ours_queries)} queries)"
    )
    line("bare: fsm transition + save()", f"{base * 1000:8.2f} ms  ({len(bare_queries)} queries)")
    line("ratio", f"{ours / base:8.1f}×  {verdict(ours / base, 3)}")
    line("initiatives advanced by the services", f"{moved}/{args.initiatives}")
    line("peak RSS", f"{peak_rss_mb():8.0f} MB")


if __name__ == "__main__":
    main()
