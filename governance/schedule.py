"""The committee's periodic work: chase sign-offs, escalate perpetual pilots, enforce exit criteria,
open monthly value reviews, sequence
what a crashed process left unsequenced in the ledger and publish its signed checkpoints.

Each job takes an aware `now`, computes its schedule in UTC and is idempotent: what it did is
recorded under a unique key (review/function/kind, initiative/deadline, KPI/run of misses,
initiative/month) in the same transaction as its ledger event and notifications, so running it
twice, or twice at once, does nothing more. Celery beat runs them (governance/tasks.py); so does
`manage.py governance_tick`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.utils.translation import gettext_lazy as _

from governance.api.idempotency import idempotency_keys_purge
from governance.audit.services import ledger_checkpoints_publish
from governance.ledger.sequencer import ledger_events_sequence
from governance.oversight.follow_ups import overdue_signoffs_chase
from governance.oversight.pilots import perpetual_pilots_escalate
from governance.oversight.value_reviews import exit_criteria_enforce, value_reviews_open
from governance.value.connectors.services import kpi_sources_read

# In this order: exit criteria before perpetual pilots, so that a failing pilot past its deadline
# faces the retire gate its exit criteria call for rather than the scale gate.
PERIODIC_JOBS: tuple[tuple[str, Callable[..., int]], ...] = (
    # First, so that exit criteria and value reviews judge the figures just read.
    ("KPIs measured from source", kpi_sources_read),
    ("sign-off follow-ups", overdue_signoffs_chase),
    ("exit criteria", exit_criteria_enforce),
    ("perpetual pilots", perpetual_pilots_escalate),
    ("value reviews", value_reviews_open),
    ("expired idempotency keys", idempotency_keys_purge),
    # Last, so that the checkpoint covers what the jobs above decided.
    ("ledger events sequenced", ledger_events_sequence),
    ("ledger checkpoints published", ledger_checkpoints_publish),
)


# The jobs as people read them (governance_tick's report); the names above are stable keys.
PERIODIC_JOB_LABELS = {
    "KPIs measured from source": _("KPI measurements read from their sources"),
    "sign-off follow-ups": _("sign-off follow-ups"),
    "exit criteria": _("exit criteria"),
    "perpetual pilots": _("perpetual pilots"),
    "value reviews": _("value reviews"),
    "expired idempotency keys": _("expired idempotency keys"),
    "ledger events sequenced": _("ledger events sequenced"),
    "ledger checkpoints published": _("ledger checkpoints published"),
}


def run_periodic_work(*, now: dt.datetime) -> dict[str, int]:
    """Every periodic job once, in order; what each did."""
    return {name: job(now=now) for name, job in PERIODIC_JOBS}


__all__ = [
    "PERIODIC_JOBS",
    "PERIODIC_JOB_LABELS",
    "exit_criteria_enforce",
    "kpi_sources_read",
    "ledger_events_sequence",
    "ledger_checkpoints_publish",
    "overdue_signoffs_chase",
    "perpetual_pilots_escalate",
    "run_periodic_work",
    "value_reviews_open",
]
