"""10,000 KPI measurements through the bulk API endpoint against the same rows by ORM bulk_create.

The API path is the whole request: token authentication, throttling, strict JSON parsing, row
validation, the service (permission, lock, checks, bulk insert, one ledger event) and the
response. The baseline is the bare `KPIMeasurement.objects.bulk_create` of the same rows. Both run
alternately in one process against one database; the medians and their ratio are printed.

    .venv/bin/python bench/api_ingest.py                 # a temporary SQLite file of its own
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/valuegate_bench .venv/bin/python bench/api_ingest.py

The PostgreSQL database must exist. Goal: ratio ≤ 3×.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ROWS = 10_000
REPEATS = int(os.environ.get("BENCH_REPEATS", "5"))
SQLITE_FILE = Path(tempfile.gettempdir()) / "valuegate-bench-api.sqlite3"  # outside the work tree


def setup() -> str:
    database = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{SQLITE_FILE}"
    if database.startswith("sqlite") and SQLITE_FILE.exists():
        SQLITE_FILE.unlink()
    os.environ["DATABASE_URL"] = database
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["DJANGO_DEBUG"] = "0"  # no query log kept in memory: the timings are production's
    os.environ.setdefault("DJANGO_SECRET_KEY", "benchmark-only-secret-key-" + "x" * 40)
    os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")  # the test client speaks plain HTTP
    os.environ.setdefault("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    return database.split(":", 1)[0]


def periods(count: int) -> list[dt.date]:
    index = 2025 * 12  # January 2025, counting back one month per row
    return [dt.date((index - i) // 12, (index - i) % 12 + 1, 1) for i in range(count)]


def main() -> None:
    engine = setup()
    from django.contrib.auth.models import Group
    from django.test import Client

    from governance.access import roles
    from governance.api.tokens import token_issue
    from projects.models import KPI, Initiative, KPIMeasurement
    from projects.vocabulary import Stage

    user_model = __import__("django.contrib.auth", fromlist=["get_user_model"]).get_user_model()
    lead, _ = user_model.objects.get_or_create(username="bench-lead")
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

    days = periods(ROWS)
    values = [Decimal(1000 + i % 997) / 7 for i in range(ROWS)]
    values = [v.quantize(Decimal("0.000001")) for v in values]
    body = json.dumps(
        {
            "measurements": [
                {"period": d.isoformat(), "value": str(v), "sample_size": 5000, "source": "Warehouse export"}
                for d, v in zip(days, values, strict=True)
            ]
        }
    ).encode()
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    counter = iter(range(10**6))

    def fresh_kpi() -> KPI:
        return KPI.objects.create(
            initiative=initiative,
            name=f"KPI {next(counter)}",
            unit="%",
            direction="increase",
            baseline=Decimal(1),
            target=Decimal(2),
            data_source="bench",
        )

    def through_api(kpi: KPI) -> None:
        response = client.post(
            f"/api/v1/initiatives/{initiative.pk}/kpis/{kpi.pk}/measurements/",
            data=body,
            content_type="application/json",
        )
        assert response.status_code == 201, response.content[:300]

    def bare_orm(kpi: KPI) -> None:
        KPIMeasurement.objects.bulk_create(
            [
                KPIMeasurement(
                    kpi=kpi, period=d, value=v, sample_size=5000, source="Warehouse export", recorded_by=lead
                )
                for d, v in zip(days, values, strict=True)
            ]
        )

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # Warm-up (imports, first queries), counting each path's statements.
    with CaptureQueriesContext(connection) as api_queries:
        through_api(fresh_kpi())
    with CaptureQueriesContext(connection) as orm_queries:
        bare_orm(fresh_kpi())
    api_samples, orm_samples = [], []
    for _ in range(REPEATS):
        for fn, samples in ((bare_orm, orm_samples), (through_api, api_samples)):
            kpi = fresh_kpi()
            start = time.perf_counter()
            fn(kpi)
            samples.append(time.perf_counter() - start)
            assert KPIMeasurement.objects.filter(kpi=kpi).count() == ROWS

    api, orm = statistics.median(api_samples), statistics.median(orm_samples)
    print(
        f"API ingestion of {ROWS:,} measurements ({engine}, {len(body) / 1e6:.2f} MB body, median of {REPEATS})"
    )
    print(
        f"  bulk endpoint (auth, JSON, validation, service, ledger): {api * 1000:8.1f} ms"
        f"  ({len(api_queries)} queries)"
    )
    print(
        f"  ORM bulk_create of the same rows:                        {orm * 1000:8.1f} ms"
        f"  ({len(orm_queries)} queries)"
    )
    print(f"  ratio: {api / orm:.2f}x  (goal: at most 3x)")
    print(f"  peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
