"""10,000 KPI measurements through the bulk API endpoint against the same rows by ORM bulk_create.

The API path is the whole request: token authentication, throttling, strict JSON parsing, row
validation, the service (permission, lock, checks, bulk insert, one ledger event) and the
response. The baseline is the bare `KPIMeasurement.objects.bulk_create` of the same rows in the
same batches. Both run alternately in one process against one database; the medians, their
ratio, each path's queries and the peak memory are printed.

A KPI has one measurement a month, from 2000-01 (ValueGate refuses earlier periods) to the current
month: about 320 months, so 10,000 measurements are 40 KPIs of 250 months each, one request per
KPI, as an integration back-filling a portfolio's history would send them.

    .venv/bin/python bench/api_ingest.py                 # a temporary SQLite file of its own
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/valuegate_bench_api .venv/bin/python bench/api_ingest.py

The PostgreSQL database is created if it is missing. Goal: ratio ≤ 3×.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from _harness import (
    counting_queries,
    create_database,
    line,
    peak_rss_mb,
    setup_django,
    use_bench_signing_key,
    verdict,
)

KPIS = 40
MONTHS_PER_KPI = 250  # 2000-01 is the earliest period allowed; 250 months back reach 2005
ROWS = KPIS * MONTHS_PER_KPI
REPEATS = int(os.environ.get("BENCH_REPEATS", "5"))
GOAL = 3.0
SQLITE_FILE = Path(tempfile.gettempdir()) / "valuegate-bench-api.sqlite3"  # outside the work tree


def setup() -> str:
    database = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{SQLITE_FILE}"
    if database.startswith("sqlite") and SQLITE_FILE.exists():
        SQLITE_FILE.unlink()
    create_database(database)
    use_bench_signing_key()
    setup_django(database=database)
    from django.db import connection

    return connection.vendor


def periods(count: int, *, today: dt.date) -> list[dt.date]:
    """The `count` months before `today`'s, oldest first (the current month may still change)."""
    index = today.year * 12 + today.month - 1
    return [dt.date((index - n) // 12, (index - n) % 12 + 1, 1) for n in range(count, 0, -1)]


def measurement_values() -> list[Decimal]:
    return [(Decimal(1000 + i % 997) / 7).quantize(Decimal("0.000001")) for i in range(MONTHS_PER_KPI)]


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> None:
    engine = setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.test import Client
    from django.utils import timezone

    from governance.access import roles
    from governance.api.tokens import token_issue
    from projects.models import KPI, Initiative, KPIMeasurement
    from projects.vocabulary import Stage

    lead, _ = get_user_model().objects.get_or_create(username="bench-lead")
    lead.groups.add(Group.objects.get(name=roles.PROJECT_LEADS))
    initiative = Initiative.objects.create(
        title="Bench pilot",
        owner=lead,
        department="Bench",
        pain_point="p",
        process_embedding="e",
        stage=Stage.PILOT,
    )
    _, secret = token_issue(actor=lead, name="bench", initiative=initiative)

    months = periods(MONTHS_PER_KPI, today=timezone.localdate())
    values = measurement_values()
    body = json.dumps(
        {
            "measurements": [
                {"period": d.isoformat(), "value": str(v), "sample_size": 5000, "source": "Warehouse export"}
                for d, v in zip(months, values, strict=True)
            ]
        }
    ).encode()
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    counter = iter(range(10**6))

    def fresh_kpis() -> list[KPI]:
        return [
            KPI.objects.create(
                initiative=initiative,
                name=f"KPI {next(counter)}",
                unit="%",
                direction="increase",
                baseline=Decimal(1),
                target=Decimal(2),
                data_source="bench",
            )
            for _ in range(KPIS)
        ]

    def through_api(kpis: list[KPI]) -> None:
        for kpi in kpis:
            response = client.post(
                f"/api/v1/initiatives/{initiative.pk}/kpis/{kpi.pk}/measurements/",
                data=body,
                content_type="application/json",
            )
            assert response.status_code == 201, response.content[:300]

    def bare_orm(kpis: list[KPI]) -> None:
        for kpi in kpis:
            KPIMeasurement.objects.bulk_create(
                [
                    KPIMeasurement(
                        kpi=kpi,
                        period=d,
                        value=v,
                        sample_size=5000,
                        source="Warehouse export",
                        recorded_by=lead,
                    )
                    for d, v in zip(months, values, strict=True)
                ]
            )

    def timed(path: Callable[[list[KPI]], None], samples: list[float]) -> int:
        """Run `path` on fresh KPIs (made outside the timing); its queries."""
        kpis = fresh_kpis()
        with counting_queries() as queries:
            start = time.perf_counter()
            path(kpis)
            samples.append(time.perf_counter() - start)
        assert KPIMeasurement.objects.filter(kpi__in=kpis).count() == ROWS
        return queries.queries

    warm_up: list[float] = []  # imports, first queries, caches: not counted in the medians
    timed(through_api, warm_up)
    timed(bare_orm, warm_up)
    api_samples: list[float] = []
    orm_samples: list[float] = []
    queries: dict[str, Any] = {}
    for _ in range(REPEATS):
        queries["orm"] = timed(bare_orm, orm_samples)
        queries["api"] = timed(through_api, api_samples)

    api, orm = median_ms(api_samples), median_ms(orm_samples)
    print(
        f"API ingestion of {ROWS:,} measurements, {KPIS} KPIs × {MONTHS_PER_KPI} months "
        f"({engine}, {len(body) * KPIS / 1e6:.2f} MB of JSON in {KPIS} requests, median of {REPEATS})"
    )
    line(
        f"bulk endpoint, {KPIS} requests",
        f"{api:8.1f} ms  ({queries['api']} queries, {queries['api'] / KPIS:g} per request)",
    )
    line(
        f"ORM bulk_create, {KPIS} batches of the same rows",
        f"{orm:8.1f} ms  ({queries['orm']} queries, {queries['orm'] / KPIS:g} per batch)",
    )
    line("ratio", f"{api / orm:8.2f}×  {verdict(api / orm, GOAL)}")
    line("peak RSS", f"{peak_rss_mb():8.0f} MB")


if __name__ == "__main__":
    main()
