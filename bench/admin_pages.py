"""Benchmark 2: the admin's initiative list, sign-off queue and dashboard at portfolio scale,
against a plain ModelAdmin list of the same table. Goal: ≤ 1.5×; query counts printed.

    .venv/bin/python bench/admin_pages.py [--initiatives 10000] [--repeats 7]

Seeds the benchmark database with seed_scale when it holds fewer initiatives than asked.
"""

from __future__ import annotations

import argparse
import sys
import types

from _harness import line, peak_rss_mb, setup_django, side_by_side, verdict


class CountingQueries:
    """Counts the SQL statements a block runs (the test client resets Django's own query log)."""

    def __enter__(self):
        from django.db import connection

        self.count = 0

        def wrapper(execute, sql, params, many, context):
            self.count += 1
            return execute(sql, params, many, context)

        self._context = connection.execute_wrapper(wrapper)
        self._context.__enter__()
        return self

    def __exit__(self, *exc):
        self._context.__exit__(*exc)

    def __len__(self):
        return self.count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--initiatives", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    setup_django()

    from django.contrib import admin
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import path

    import config.urls
    from governance.access import roles
    from projects.models import Initiative

    have = Initiative.objects.count()
    if have < args.initiatives:
        call_command("seed_scale", initiatives=args.initiatives - have, ledger_events=0)
    # Fresh statistics, as autovacuum (PostgreSQL) or a maintenance job (SQLite) would have them
    # on a portfolio grown over years: the planner chooses its plans from them.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    # The baseline: Django's own ModelAdmin over the same table, on an admin site of its own.
    plain_site = admin.AdminSite(name="plain")
    plain_site.register(Initiative)
    # And one listing the same columns as ValueGate's initiative list (the database's fields,
    # without the open review, the deadline's state or any permission check): what rendering
    # those columns costs on its own, beside the one-column list.
    same_columns_site = admin.AdminSite(name="same_columns")

    class SameColumns(admin.ModelAdmin):
        list_display = [
            "title",
            "stage",
            "department",
            "owner",
            "risk_tier",
            "pilot_deadline",
            "stage_entered_at",
        ]
        list_filter = ["stage", "risk_tier", "department"]
        list_select_related = ["owner"]

    same_columns_site.register(Initiative, SameColumns)
    urls = types.ModuleType("bench_admin_urls")
    urls.urlpatterns = [
        *config.urls.urlpatterns,
        path("plain/", plain_site.urls),
        path("same-columns/", same_columns_site.urls),
    ]
    sys.modules["bench_admin_urls"] = urls

    users = get_user_model().objects
    superuser = users.filter(username="bench-superuser").first() or users.create_superuser(
        "bench-superuser", "bench@example.test", None
    )
    chair, _ = users.get_or_create(username="bench-chair", defaults={"is_staff": True})
    chair.groups.add(Group.objects.get(name=roles.COMMITTEE_CHAIR))
    member = users.get(username="scale-business")
    member.is_staff = True
    member.save()

    def client_for(user):
        client = Client()
        client.force_login(user)
        return client

    pages = [
        ("initiative list (chair)", client_for(chair), "/admin/projects/initiative/"),
        ("sign-off queue (business member)", client_for(member), "/admin/governance/gatereview/queue/"),
        ("portfolio dashboard (chair)", client_for(chair), "/admin/projects/initiative/dashboard/"),
    ]
    baseline_client = client_for(superuser)
    baseline_url = "/plain/projects/initiative/"

    print(f"Benchmark 2 — admin pages at {Initiative.objects.count():,} initiatives ({connection.vendor})")
    with override_settings(ROOT_URLCONF="bench_admin_urls"):
        with CountingQueries() as base_queries:
            baseline_response = baseline_client.get(baseline_url)
            assert baseline_response.status_code == 200, baseline_response.status_code
        for label, client, url in pages:
            with CountingQueries() as ours_queries:
                response = client.get(url)
            assert response.status_code == 200, (label, response.status_code)

            def ours(client=client, url=url):
                client.get(url)

            def plain():
                baseline_client.get(baseline_url)

            ours_seconds, base_seconds = side_by_side(ours, plain, repeats=args.repeats)
            ratio = ours_seconds / base_seconds
            line(label, f"{ours_seconds * 1000:8.1f} ms ({len(ours_queries)} queries)")
            line("  plain ModelAdmin list", f"{base_seconds * 1000:8.1f} ms ({len(base_queries)} queries)")
            line("  ratio", f"{ratio:8.2f}×  {verdict(ratio, 1.5)}")
            if url == "/admin/projects/initiative/":

                def same_columns():
                    baseline_client.get("/same-columns/projects/initiative/")

                ours_seconds, same_seconds = side_by_side(ours, same_columns, repeats=args.repeats)
                line("  ModelAdmin list of the same columns", f"{same_seconds * 1000:8.1f} ms")
                line("  ratio to it", f"{ours_seconds / same_seconds:8.2f}×")
    line("peak RSS", f"{peak_rss_mb():8.0f} MB")


if __name__ == "__main__":
    main()
