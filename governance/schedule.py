"""The committee's periodic work: chase sign-offs, escalate perpetual pilots, enforce exit criteria,
open monthly value reviews.

Each job takes an aware `now`, computes its schedule in UTC and is idempotent: what it did is
recorded under a unique key (review/function/kind, initiative/deadline, KPI/run of misses,
initiative/month) in the same transaction as its ledger event and notifications, so running it
twice, or twice at once, does nothing more. Celery beat runs them (governance/tasks.py); so does
`manage.py governance_tick`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from governance.api.idempotency import idempotency_keys_purge
from governance.reviews.follow_ups import overdue_signoffs_chase
from governance.reviews.pilots import perpetual_pilots_escalate
from governance.value.reviews import exit_criteria_enforce, value_reviews_open

# In this order: exit criteria before perpetual pilots, so that a failing pilot past its deadline
# faces the retire gate its exit criteria call for rather than the scale gate.
PERIODIC_JOBS: tuple[tuple[str, Callable[..., int]], ...] = (
    ("sign-off follow-ups", overdue_signoffs_chase),
    ("exit criteria", exit_criteria_enforce),
    ("perpetual pilots", perpetual_pilots_escalate),
    ("value reviews", value_reviews_open),
    ("expired idempotency keys", idempotency_keys_purge),
)


def run_periodic_work(*, now: dt.datetime) -> dict[str, int]:
    """Every periodic job once, in order; what each did."""
    return {name: job(now=now) for name, job in PERIODIC_JOBS}


__all__ = [
    "PERIODIC_JOBS",
    "exit_criteria_enforce",
    "overdue_signoffs_chase",
    "perpetual_pilots_escalate",
    "run_periodic_work",
    "value_reviews_open",
]
