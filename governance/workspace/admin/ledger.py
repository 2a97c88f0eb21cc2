"""The decision ledger in the admin: a read-only browser for auditors, and what each signer saw.

Nobody adds, changes or deletes an event here (the database refuses it anyway). The list stays
fast at millions of events: the unfiltered count is the last sequence number (the sequence is
gapless) plus the events waiting to be sequenced, instead of COUNT(*); the filters' choices come
from index seeks, and search looks up a sequence number or a hash through their unique indexes.
"""

from __future__ import annotations

import datetime as dt
import json

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import QuerySet
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from governance.access.selectors import sees_whole_portfolio, visible_initiatives
from governance.audit.signer_view import signer_view, stored_file_digests
from governance.ledger.events import CATALOGUE, SIGNOFF_RECORDED
from governance.ledger.models import LedgerEvent
from governance.ledger.verification import event_checks
from governance.reviews.models import SignOff
from governance.workspace.admin.access import access
from governance.workspace.admin.base import ReadOnlyAdmin
from governance.workspace.views import ledger as ledger_pages

TABLE = LedgerEvent._meta.db_table


def _distinct(column: str) -> list:
    """Distinct values of an indexed column by skipping through its index: one seek per value."""
    sql = (
        f"WITH RECURSIVE seen(value) AS ("
        f" SELECT MIN({column}) FROM {TABLE}"
        f" UNION ALL SELECT (SELECT MIN({column}) FROM {TABLE} WHERE {column} > seen.value)"
        f" FROM seen WHERE seen.value IS NOT NULL"
        f") SELECT value FROM seen WHERE value IS NOT NULL"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]


class LedgerPaginator(Paginator):
    """The whole ledger's count is its last sequence number; filtered lists are counted."""

    object_list: QuerySet[LedgerEvent]

    @cached_property
    def count(self) -> int:
        if not self.object_list.query.where:
            sequenced = LedgerEvent.last_seq()
            return sequenced + LedgerEvent.objects.filter(seq__isnull=True).count()
        return super().count


class ActionFilter(admin.SimpleListFilter):
    """The actions the ledger holds, by their catalogue labels in the catalogue's order; an action
    the catalogue does not declare (none is written any more) shows its code, at the end."""

    title = "action"
    parameter_name = "action"

    def lookups(self, request, model_admin):
        stored = set(_distinct("action"))
        declared = [(code, event.label) for code, event in CATALOGUE.items() if code in stored]
        return declared + [(code, code) for code in sorted(stored - CATALOGUE.keys())]

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


class ActorFilter(admin.SimpleListFilter):
    title = "actor"
    parameter_name = "actor"
    SYSTEM = "system"

    def lookups(self, request, model_admin):
        users = get_user_model().objects.filter(pk__in=_distinct("actor_id")).order_by("username")
        return [(self.SYSTEM, "system (no user)")] + [(str(u.pk), u.get_username()) for u in users]

    def queryset(self, request, queryset):
        if self.value() == self.SYSTEM:
            return queryset.filter(actor__isnull=True)
        if self.value():
            return queryset.filter(actor_id=self.value())
        return queryset


class InitiativeFilter(admin.SimpleListFilter):
    title = "initiative"
    parameter_name = "initiative"
    NONE = "none"

    def lookups(self, request, model_admin):
        initiatives = visible_initiatives(request.user).order_by("title").values_list("pk", "title")
        choices = [(str(pk), title) for pk, title in initiatives]
        if sees_whole_portfolio(request.user):
            choices.insert(0, (self.NONE, "none (committee, policies, exports)"))
        return choices

    def queryset(self, request, queryset):
        if self.value() == self.NONE:
            return queryset.filter(initiative__isnull=True)
        if self.value():
            return queryset.filter(initiative_id=self.value())
        return queryset


class RecordedBetweenFilter(admin.ListFilter):
    """Events recorded between two UTC days, both included.

    Written by hand: django-admin-rangefilter needs an inline script, which this site's Content
    Security Policy refuses; two native date inputs need none.
    """

    title = "recorded between (UTC days)"
    template = "governance/admin/date_range_filter.html"
    start_parameter, end_parameter = "recorded_from", "recorded_to"

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.start = self.end = None
        for name in (self.start_parameter, self.end_parameter):
            value = params.pop(name, None)
            if isinstance(value, list):
                value = value[-1]
            if value:
                try:
                    day = dt.date.fromisoformat(value)
                except ValueError:
                    raise IncorrectLookupParameters(f"{value!r} is not a day (YYYY-MM-DD).") from None
                setattr(self, "start" if name == self.start_parameter else "end", day)
        self.used_parameters = {}
        for name, chosen in ((self.start_parameter, self.start), (self.end_parameter, self.end)):
            if chosen is not None:
                self.used_parameters[name] = chosen.isoformat()
        mine = (self.start_parameter, self.end_parameter)
        self.kept_parameters = [
            (name, value) for name, values in request.GET.lists() if name not in mine for value in values
        ]
        kept = request.GET.copy()
        for name in mine:
            kept.pop(name, None)
        self.clear_url = "?" + kept.urlencode()

    def has_output(self) -> bool:
        return True

    def expected_parameters(self) -> list[str | None]:
        return [self.start_parameter, self.end_parameter]

    def choices(self, changelist):
        return []

    def queryset(self, request, queryset):
        if self.start is not None:
            queryset = queryset.filter(
                recorded_at__gte=dt.datetime.combine(self.start, dt.time.min, tzinfo=dt.UTC)
            )
        if self.end is not None:
            end = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
            queryset = queryset.filter(recorded_at__lt=end)
        return queryset


@admin.register(LedgerEvent)
class LedgerEventAdmin(ReadOnlyAdmin):
    list_display = ["seq", "recorded_at", "actor_name", "action", "initiative", "short_hash", "signer_link"]
    list_display_links = ["seq"]
    list_filter = [ActionFilter, ActorFilter, InitiativeFilter, RecordedBetweenFilter]
    change_list_template = "governance/admin/ledger_change_list.html"
    list_select_related = ["initiative"]
    list_per_page = 100
    ordering = ["-seq"]
    paginator = LedgerPaginator
    show_full_result_count = False
    actions = None
    search_fields = ["hash"]  # replaced by get_search_results: a seq or a hash, through unique indexes
    search_help_text = (
        "A sequence number, or an event's 64-hex-digit hash (e.g. from an anchor or an export)."
    )
    fields = (
        "seq",
        "recorded_at",
        "actor_name",
        "action",
        "initiative",
        "formatted_payload",
        "prev_hash",
        "hash",
        "key_id",
        "signature",
        "integrity",
        "signer_saw",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if sees_whole_portfolio(request.user):
            return queryset
        return queryset.filter(initiative__in=visible_initiatives(request.user))

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip().lower()
        if not term:
            return queryset, False
        if term.isdigit():
            return queryset.filter(seq=int(term)), False
        if len(term) == 64 and all(c in "0123456789abcdef" for c in term):
            return queryset.filter(hash=term), False
        return queryset.none(), False

    # Columns -----------------------------------------------------------------------------------

    @admin.display(description="Hash")
    def short_hash(self, obj: LedgerEvent):
        return format_html('<code title="{}">{}…</code>', obj.hash, obj.hash[:12])

    @admin.display(description="What the signer saw")
    def signer_link(self, obj: LedgerEvent):
        if obj.action != SIGNOFF_RECORDED.code:
            return ""
        url = reverse("admin:governance_ledgerevent_change", args=[obj.pk])
        return format_html('<a href="{}#signer-saw">Snapshot</a>', url)

    # The event's page ---------------------------------------------------------------------------

    @admin.display(description="Payload")
    def formatted_payload(self, obj: LedgerEvent):
        try:
            text = json.dumps(json.loads(obj.payload), indent=2, ensure_ascii=False, sort_keys=True)
        except ValueError:
            text = obj.payload
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', text)

    @admin.display(description="Integrity of this event")
    def integrity(self, obj: LedgerEvent):
        checks = format_html_join(
            "", "<li>{} {}</li>", (("✔" if ok else "✘", text) for ok, text in event_checks(obj))
        )
        place = (
            format_html("sequenced as #{} at {}", obj.seq, obj.sequenced_at)
            if obj.seq is not None and obj.sequenced_at is not None
            else format_html("#{}", obj.seq)
            if obj.seq is not None
            else "waiting to be sequenced"
        )
        return format_html(
            "<ul>{}<li>{}</li></ul><p>The whole ledger, against a checkpoint: "
            "<code>python manage.py verify_ledger --checkpoint FILE --public-key KEY</code>.</p>",
            checks,
            place,
        )

    @admin.display(description="What the signer saw")
    def signer_saw(self, obj: LedgerEvent):
        if obj.action != SIGNOFF_RECORDED.code:
            return "—"
        view = signer_view(obj)
        on_disk = stored_file_digests([e["id"] for e in view.evidence])

        def file_state(item):
            digest = on_disk.get(item["id"])
            if digest is None:
                return "no longer on file"
            if not digest:
                return "file unreadable"
            return "file unchanged" if digest == item["sha256"] else "FILE CHANGED since"

        evidence = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>#{}</td><td>{}</td></tr>",
            ((e["title"], e["kind"], e["sha256"], e["seq"], file_state(e)) for e in view.evidence),
        )
        kpis = format_html_join(
            "",
            "<tr><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    k["name"],
                    " (primary)" if k["is_primary"] else "",
                    k["direction"],
                    k["baseline"],
                    k["target"],
                    ", ".join(f"{m['period']:%Y-%m}: {m['value']}" for m in k["measurements"]) or "—",
                    "; ".join(_experiment_text(e) for e in k["experiments"]) or "—",
                )
                for k in view.kpis
            ),
        )
        if view.matches:
            verdict = format_html(
                "<p>✔ Rebuilt from the ledger up to event #{}, this snapshot's SHA-256 <code>{}</code> "
                "equals the digest the sign-off pinned: this is exactly what the signer saw.</p>",
                obj.seq,
                view.digest,
            )
        else:
            verdict = format_html(
                "<p>✘ Rebuilt from the ledger, this snapshot's SHA-256 <code>{}</code> differs from the "
                "digest the sign-off pinned (<code>{}</code>): the ledger does not hold all the signer saw.</p>",
                view.digest or "—",
                view.pinned,
            )
        gaps = format_html_join("", "<li>{}</li>", ((gap,) for gap in view.gaps))
        return format_html(
            '<div id="signer-saw">{}{}{}'
            "<h4>Evidence</h4><table><tr><th>Title</th><th>Kind</th><th>SHA-256</th><th>Recorded in</th>"
            "<th>Stored file now</th></tr>{}</table>"
            "<h4>KPIs</h4><table><tr><th>KPI</th><th>Direction</th><th>Baseline</th><th>Target</th>"
            "<th>Measurements</th><th>Experiments</th></tr>{}</table>{}</div>",
            verdict,
            format_html("<ul>{}</ul>", gaps) if view.gaps else "",
            _facts_summary(view.facts) if view.facts else "",
            evidence,
            kpis,
            _money_table(view.facts) if view.facts else "",
        )

    # A sign-off's snapshot by the sign-off's id -----------------------------------------------

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "may_audit_ledger": access(request).may_audit_ledger()}
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        return [
            path(
                "export/", self.admin_site.admin_view(self.export_view), name="governance_ledgerevent_export"
            ),
            path(
                "verify/", self.admin_site.admin_view(self.verify_view), name="governance_ledgerevent_verify"
            ),
            path(
                "signoff/<int:signoff_id>/",
                self.admin_site.admin_view(self.signoff_snapshot),
                name="governance_ledgerevent_signoff",
            ),
            *super().get_urls(),
        ]

    def export_view(self, request):
        return ledger_pages.export_page(request, self)

    def verify_view(self, request):
        return ledger_pages.verify_page(request, self)

    def signoff_snapshot(self, request, signoff_id: int):
        """Open the ledger event that recorded sign-off `signoff_id`, with what its signer saw."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        signoff = SignOff.objects.select_related("review").filter(pk=signoff_id).first()
        if signoff is None:
            raise Http404("No such sign-off.")
        events = self.get_queryset(request).filter(
            initiative_id=signoff.review.initiative_id, action=SIGNOFF_RECORDED.code
        )
        for pk, payload in events.values_list("pk", "payload"):
            if json.loads(payload).get("signoff") == signoff_id:
                return HttpResponseRedirect(
                    reverse("admin:governance_ledgerevent_change", args=[pk]) + "#signer-saw"
                )
        raise Http404("The ledger holds no record of this sign-off that you may see.")


def _experiment_text(row: dict) -> str:
    summary, looks = row["summary"], len(row["looks"])
    if row["metric"] == "mean":
        arms = (
            f"control mean {summary['control_mean']} (n = {summary['control_size']}), "
            f"treatment mean {summary['treatment_mean']} (n = {summary['treatment_size']})"
        )
    else:
        arms = (
            f"control {summary['control_successes']}/{summary['control_size']}, "
            f"treatment {summary['treatment_successes']}/{summary['treatment_size']}"
        )
    return f"{row['name']}: {arms}, {looks} look{'s' if looks != 1 else ''}"


def _facts_summary(facts: dict):
    """The rest of what the gate read: the policy, the stage, the business case, open conditions."""
    case = facts["business_case"]
    initiative = facts["initiative"]
    conditions = format_html_join("", "<li>{}</li>", ((c["text"],) for c in facts["open_conditions"]))
    return format_html(
        "<h4>Gate and initiative</h4><ul><li>{} gate, policy version {}</li><li>Stage {}{}; risk tier {}; "
        "personal data: {}</li><li>Business case: {}</li><li>Open conditions of earlier approvals: {}</li></ul>",
        facts["policy"]["gate"].capitalize(),
        facts["policy"]["version"],
        initiative["stage"],
        f" since {initiative['pilot_started_on']}" if initiative["pilot_started_on"] else "",
        initiative["risk_tier"],
        "yes" if initiative["uses_personal_data"] else "no",
        "none"
        if case is None
        else f"budget {case['budget']}, expected annual benefit {case['expected_annual_benefit']}, "
        f"horizon {case['horizon_months']} months",
        format_html("<ul>{}</ul>", conditions) if facts["open_conditions"] else "none",
    )


def _money_table(facts: dict):
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
        ((f"{e['month']:%Y-%m}", e["kind"], e["amount"]) for e in facts["costs_and_benefits"]),
    )
    return format_html(
        "<h4>Costs and benefits</h4><table><tr><th>Month</th><th>Kind</th><th>Amount</th></tr>{}</table>",
        rows if facts["costs_and_benefits"] else mark_safe('<tr><td colspan="3">None recorded.</td></tr>'),
    )
