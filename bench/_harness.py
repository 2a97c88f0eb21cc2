"""Shared set-up for the benchmarks: a database of their own, medians, side-by-side ratios.

Each benchmark measures ValueGate's path and a bare baseline doing the same work, alternately,
in one process, and prints the medians and their ratio. Machines are noisy; ratios are what
carry from one machine to another.
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_SIGNING_KEY = Path(tempfile.gettempdir()) / "valuegate-bench-ledger.key"  # outside the work tree


def setup_django(*, database: str | None = None) -> None:
    """Point Django at the benchmark database (BENCH_DATABASE_URL, or a SQLite file) and migrate it."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["DATABASE_URL"] = database or os.environ.get(
        "BENCH_DATABASE_URL", f"sqlite:///{ROOT / '.bench-db.sqlite3'}"
    )
    os.environ.setdefault("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
    # Production settings: DEBUG off (no query log kept in memory), so timings are the real ones.
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ.setdefault("DJANGO_SECRET_KEY", "benchmark-only-secret-key-" + "x" * 40)
    os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")  # the test client speaks plain HTTP
    import django

    django.setup()
    from django.conf import settings

    # Pages are rendered, not served: static URLs need no collected manifest here.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    from django.core.management import call_command

    from config.celery import app

    # As deployed: side effects are published to the broker (here an in-memory one) for a worker,
    # not run inside the request as the embedded default does.
    app.conf.task_always_eager = False
    call_command("migrate", verbosity=0, interactive=False)


def create_database(url: str | None = None) -> None:
    """Create the PostgreSQL database BENCH_DATABASE_URL names, if it is one and is missing."""
    url = url or os.environ.get("BENCH_DATABASE_URL", "")
    if not url.startswith("postgres"):
        return
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def side_by_side(
    ours: Callable[[], object], baseline: Callable[[], object], repeats: int
) -> tuple[float, float]:
    """Alternate the two paths so that drift in machine load hits both alike."""
    ours_samples, base_samples = [], []
    for _ in range(repeats):
        for fn, samples in ((baseline, base_samples), (ours, ours_samples)):
            start = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - start)
    return statistics.median(ours_samples), statistics.median(base_samples)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def verdict(ratio: float, goal: float, *, at_most: bool = True) -> str:
    met = ratio <= goal if at_most else ratio >= goal
    sign = "≤" if at_most else "≥"
    return f"goal {sign} {goal:g}×: {'met' if met else 'MISSED'}"


def line(label: str, value: str) -> None:
    print(f"  {label:<44} {value}")


def use_bench_signing_key() -> None:
    """Sign the ledger with the benchmarks' own key unless VALUEGATE_LEDGER_SIGNING_KEY is set.

    With DEBUG off (as the benchmarks run) nothing provides a key, and writes that append to the
    ledger (a membership granted, measurements recorded) refuse to go without one. One key file,
    made on first use and kept, so that a benchmark database reused from run to run is signed by
    one key throughout. Call before setup_django.
    """
    if os.environ.get("VALUEGATE_LEDGER_SIGNING_KEY"):
        return
    if not BENCH_SIGNING_KEY.exists():
        from governance.ledger.signing import SigningKey

        descriptor = os.open(BENCH_SIGNING_KEY, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as key_file:
            key_file.write(SigningKey.generate("valuegate-bench").text + "\n")
    os.environ["VALUEGATE_LEDGER_SIGNING_KEY"] = str(BENCH_SIGNING_KEY)


class QueryCount:
    def __init__(self) -> None:
        self.queries = 0

    def __call__(self, execute, sql, params, many, context):
        self.queries += 1
        return execute(sql, params, many, context)


@contextmanager
def counting_queries() -> Iterator[QueryCount]:
    """The statements run on the default connection inside the block, counted without keeping
    their SQL (CaptureQueriesContext keeps every statement's text: megabytes over a portfolio)."""
    from django.db import connection

    counter = QueryCount()
    with connection.execute_wrapper(counter):
        yield counter
