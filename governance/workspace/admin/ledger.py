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
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from governance.access.selectors import sees_whole_portfolio, visible_initiatives
from governance.audit.signer_view import signer_view, stored_file_digests
from governance.ledger.events import CATALOGUE, SIGNOFF_RECORDED
from governance.ledger.models import LedgerEvent
from governance.ledger.verification import event_checks
from governance.reasons import say_stored
from governance.reviews.models import SignOff
from governance.workspace.admin.access import access
from governance.workspace.admin.base import ReadOnlyAdmin
from governance.workspace.views import ledger as ledger_pages
from projects.vocabulary import Gate

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

    title = gettext_lazy("action")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        stored = set(_distinct("action"))
        declared = [(code, event.label) for code, event in CATALOGUE.items() if code in stored]
        return declared + [(code, code) for code in sorted(stored - CATALOGUE.keys())]

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


class ActorFilter(admin.SimpleListFilter):
    title = gettext_lazy("actor")
    parameter_name = "actor"
    SYSTEM = "system"

    def lookups(self, request, model_admin):
        users = get_user_model().objects.filter(pk__in=_distinct("actor_id")).order_by("username")
        return [(self.SYSTEM, _("system (no user)"))] + [(str(u.pk), u.get_username()) for u in users]

    def queryset(self, request, queryset):
        if self.value() == self.SYSTEM:
            return queryset.filter(actor__isnull=True)
        if self.value():
            return queryset.filter(actor_id=self.value())
        return queryset


class InitiativeFilter(admin.SimpleListFilter):
    title = gettext_lazy("initiative")
    parameter_name = "initiative"
    NONE = "none"

    def lookups(self, request, model_admin):
        initiatives = visible_initiatives(request.user).order_by("title").values_list("pk", "title")
        choices = [(str(pk), title) for pk, title in initiatives]
        if sees_whole_portfolio(request.user):
            choices.insert(0, (self.NONE, _("none (committee, policies, exports)")))
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

    title = gettext_lazy("recorded between (UTC days)")
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
                    raise IncorrectLookupParameters(
                        _("%(value)r is not a day (YYYY-MM-DD).") % {"value": value}
                    ) from None
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
    list_display = [
        "seq",
        "recorded_at",
        "actor_name",
        "action_name",
        "initiative",
        "short_hash",
        "signer_link",
    ]
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
    search_help_text = gettext_lazy(
        "A sequence number, or an event's 64-hex-digit hash (e.g. from an anchor or an export)."
    )
    fields = (
        "seq",
        "recorded_at",
        "actor_name",
        "action_name",
        "initiative",
        "formatted_payload",
        "reasons_in_words",
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

    @admin.display(description=gettext_lazy("Hash"))
    def short_hash(self, obj: LedgerEvent):
        return format_html('<code title="{}">{}…</code>', obj.hash, obj.hash[:12])

    @admin.display(description=gettext_lazy("action"), ordering="action")
    def action_name(self, obj: LedgerEvent):
        # The catalogue's name for people; the code stays in the payload export and the filter's URL.
        return obj.action_label

    @admin.display(description=gettext_lazy("What the signer saw"))
    def signer_link(self, obj: LedgerEvent):
        if obj.action != SIGNOFF_RECORDED.code:
            return ""
        url = reverse("admin:governance_ledgerevent_change", args=[obj.pk])
        # Translators: a link to what the signer of a sign-off saw, rebuilt from the ledger.
        return format_html('<a href="{}#signer-saw">{}</a>', url, _("Snapshot"))

    # The event's page ---------------------------------------------------------------------------

    @admin.display(description=gettext_lazy("Payload"))
    def formatted_payload(self, obj: LedgerEvent):
        try:
            text = json.dumps(json.loads(obj.payload), indent=2, ensure_ascii=False, sort_keys=True)
        except ValueError:
            text = obj.payload
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', text)

    @admin.display(description=gettext_lazy("Why, in your language"))
    def reasons_in_words(self, obj: LedgerEvent):
        """The event's reasons in the reader's language: from their codes where the event recorded
        them, else (events recorded before reasons were codes) the English text it recorded."""
        try:
            payload = json.loads(obj.payload)
        except ValueError:
            return "—"
        lines = []
        if "reason" in payload:
            lines.append(say_stored(payload.get("reason_code") or payload["reason"]))
        for requirement in payload.get("requirements", ()):
            label = (
                say_stored(requirement["label_code"]) if "label_code" in requirement else requirement["code"]
            )
            mark = "✔" if requirement["passed"] else "✘"
            lines.append(
                f"{mark} {label}: {say_stored(requirement.get('reason_code') or requirement['reason'])}"
            )
        lines += [say_stored(r) for r in payload.get("reason_codes") or payload.get("reasons", ())]
        if not lines:
            return "—"
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((line,) for line in lines)))

    @admin.display(description=gettext_lazy("Integrity of this event"))
    def integrity(self, obj: LedgerEvent):
        checks = format_html_join(
            "", "<li>{} {}</li>", (("✔" if ok else "✘", text) for ok, text in event_checks(obj))
        )
        place = (
            # Translators: the event's sequence number, then when it was sequenced.
            format_html(_("sequenced as #{seq} at {when}"), seq=obj.seq, when=obj.sequenced_at)
            if obj.seq is not None and obj.sequenced_at is not None
            else format_html("#{}", obj.seq)
            if obj.seq is not None
            else _("waiting to be sequenced")
        )
        command = "python manage.py verify_ledger --checkpoint FILE --public-key KEY"
        return format_html(
            "<ul>{}<li>{}</li></ul><p>{}</p>",
            checks,
            place,
            format_html(
                # Translators: {command} is a command line, shown as code.
                _("The whole ledger, against a checkpoint: {command}."),
                command=format_html("<code>{}</code>", command),
            ),
        )

    @admin.display(description=gettext_lazy("What the signer saw"))
    def signer_saw(self, obj: LedgerEvent):
        if obj.action != SIGNOFF_RECORDED.code:
            return "—"
        view = signer_view(obj)
        on_disk = stored_file_digests([e["id"] for e in view.evidence])

        def file_state(item):
            digest = on_disk.get(item["id"])
            if digest is None:
                return _("no longer on file")
            if not digest:
                return _("file unreadable")
            if digest == item["sha256"]:
                # Translators: the stored evidence file still has the digest the signer saw.
                return _("file unchanged")
            # Translators: the stored evidence file has changed since the sign-off.
            return _("FILE CHANGED since")

        evidence = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>#{}</td><td>{}</td></tr>",
            ((e["title"], e["kind"], e["sha256"], e["seq"], file_state(e)) for e in view.evidence),
        )
        kpis = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    # Translators: a KPI's name, marked as the initiative's primary KPI.
                    _("%(kpi)s (primary)") % {"kpi": k["name"]} if k["is_primary"] else k["name"],
                    k["direction"],
                    k["baseline"],
                    k["target"],
                    ", ".join(_measurement_text(m) for m in k["measurements"]) or "—",
                    "; ".join(_experiment_text(e) for e in k["experiments"]) or "—",
                    _plan_text(k.get("plan")),
                )
                for k in view.kpis
            ),
        )
        if view.matches:
            verdict = format_html(
                "<p>✔ {}</p>",
                format_html(
                    _(
                        # Translators: {seq} is a ledger event's number, {digest} a SHA-256 digest in hex.
                        "Rebuilt from the ledger up to event #{seq}, this snapshot's SHA-256 <code>{digest}</code> "
                        "equals the digest the sign-off pinned: this is exactly what the signer saw."
                    ),
                    seq=obj.seq,
                    digest=view.digest,
                ),
            )
        else:
            verdict = format_html(
                "<p>✘ {}</p>",
                format_html(
                    _(
                        # Translators: {digest} and {pinned} are SHA-256 digests in hex.
                        "Rebuilt from the ledger, this snapshot's SHA-256 <code>{digest}</code> differs from the "
                        "digest the sign-off pinned (<code>{pinned}</code>): the ledger does not hold all the "
                        "signer saw."
                    ),
                    digest=view.digest or "—",
                    pinned=view.pinned,
                ),
            )
        gaps = format_html_join("", "<li>{}</li>", ((gap,) for gap in view.gaps))
        return format_html(
            '<div id="signer-saw">{}{}{}'
            "<h4>{}</h4><table><tr>{}</tr>{}</table>"
            "<h4>{}</h4><table><tr>{}</tr>{}</table>{}</div>",
            verdict,
            format_html("<ul>{}</ul>", gaps) if view.gaps else "",
            _facts_summary(view.facts) if view.facts else "",
            _("Evidence"),
            _header_row(_("Title"), _("Kind"), _("SHA-256"), _("Recorded in"), _("Stored file now")),
            evidence,
            _("KPIs"),
            _header_row(
                _("KPI"),
                _("Direction"),
                _("Baseline"),
                _("Target"),
                _("Measurements"),
                _("Experiments"),
                _("Experiment plan"),
            ),
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
            raise Http404(_("No such sign-off."))
        events = self.get_queryset(request).filter(
            initiative_id=signoff.review.initiative_id, action=SIGNOFF_RECORDED.code
        )
        for pk, payload in events.values_list("pk", "payload"):
            if json.loads(payload).get("signoff") == signoff_id:
                return HttpResponseRedirect(
                    reverse("admin:governance_ledgerevent_change", args=[pk]) + "#signer-saw"
                )
        raise Http404(_("The ledger holds no record of this sign-off that you may see."))


def _measurement_text(measurement: dict) -> str:
    """A month as the signer saw it, and where it came from: its source's reading, or the lead."""
    reading = measurement.get("reading")
    if reading:
        # Translators: %(connector)s is a connector's name; %(hash)s the start of a SHA-256 digest.
        where = _("measured from source: %(connector)s, result %(hash)s…") % {
            "connector": reading["connector"],
            "hash": reading["result_hash"][:12],
        }
    else:
        where = _("reported by lead")
    return f"{measurement['period']:%Y-%m}: {measurement['value']} ({where})"


def _header_row(*titles):
    """A table's header cells."""
    return format_html_join("", "<th>{}</th>", ((title,) for title in titles))


def _plan_text(plan: dict | None) -> str:
    """A KPI's experiment plan as the signer saw it, and whether it was changed after data arrived."""
    if plan is None:
        return "—"
    text = _(
        # Translators: a pre-registered experiment plan; share is the treatment arm's, e.g. 0.5000.
        "version %(version)s: treatment share %(share)s, minimum effect %(effect)s, %(looks)s looks, "
        "%(traffic)s units a month"
    ) % {
        "version": plan["version"],
        "share": plan["treatment_share"],
        "effect": format(plan["minimum_effect"].normalize(), "f"),
        "looks": plan["planned_looks"],
        "traffic": plan["traffic_per_month"],
    }
    if plan["changed_after_data"]:
        # Translators: %(reason)s is the lead's reason for changing the plan.
        text += _("; changed after data arrived: %(reason)s") % {"reason": plan["change_reason"]}
    return text


def _experiment_text(row: dict) -> str:
    summary, looks = row["summary"], len(row["looks"])
    if row["metric"] == "mean":
        arms = _(
            # Translators: the two arms of an A/B experiment that compares means; n is each arm's size.
            "control mean %(control_mean)s (n = %(control_size)s), "
            "treatment mean %(treatment_mean)s (n = %(treatment_size)s)"
        ) % {
            "control_mean": summary["control_mean"],
            "control_size": summary["control_size"],
            "treatment_mean": summary["treatment_mean"],
            "treatment_size": summary["treatment_size"],
        }
    else:
        arms = _(
            # Translators: the two arms of an A/B experiment that compares proportions: successes/size.
            "control %(control_successes)s/%(control_size)s, "
            "treatment %(treatment_successes)s/%(treatment_size)s"
        ) % {
            "control_successes": summary["control_successes"],
            "control_size": summary["control_size"],
            "treatment_successes": summary["treatment_successes"],
            "treatment_size": summary["treatment_size"],
        }
    # Translators: an A/B experiment's name, its two arms, then how many times it was looked at.
    return ngettext("%(name)s: %(arms)s, %(count)d look", "%(name)s: %(arms)s, %(count)d looks", looks) % {
        "name": row["name"],
        "arms": arms,
        "count": looks,
    }


def _gate_name(code: str) -> str:
    """A gate's name ("Pilot gate") from its stored code."""
    label = dict(Gate.choices).get(code)
    # Translators: a gate's name built from a gate code no longer in use, e.g. "Pilot gate".
    return str(label) if label is not None else _("%(gate)s gate") % {"gate": code.capitalize()}


def _facts_summary(facts: dict):
    """The rest of what the gate read: the policy, the stage, the business case, open conditions."""
    case = facts["business_case"]
    initiative = facts["initiative"]
    conditions = format_html_join("", "<li>{}</li>", ((c["text"],) for c in facts["open_conditions"]))
    # Stage, risk tier and budget figures are shown as the ledger stores them (codes and plain numbers).
    stage = {
        "stage": initiative["stage"],
        "tier": initiative["risk_tier"],
        "personal": _("yes") if initiative["uses_personal_data"] else _("no"),
    }
    if initiative["pilot_started_on"]:
        # Translators: an initiative's stage (a code such as "pilot"), since a day, and its risk tier (a code).
        stage_line = _("Stage %(stage)s since %(since)s; risk tier %(tier)s; personal data: %(personal)s") % {
            **stage,
            "since": initiative["pilot_started_on"],
        }
    else:
        # Translators: an initiative's stage (a code such as "pilot") and its risk tier (a code).
        stage_line = _("Stage %(stage)s; risk tier %(tier)s; personal data: %(personal)s") % stage
    if case is None:
        case_line = _("none")
    else:
        case_line = ngettext(
            # Translators: a business case's figures as stored: budget, yearly benefit and horizon.
            "budget %(budget)s, expected annual benefit %(benefit)s, horizon %(months)s month",
            "budget %(budget)s, expected annual benefit %(benefit)s, horizon %(months)s months",
            case["horizon_months"],
        ) % {
            "budget": case["budget"],
            "benefit": case["expected_annual_benefit"],
            "months": case["horizon_months"],
        }
    return format_html(
        "<h4>{}</h4><ul><li>{}</li><li>{}</li><li>{}</li><li>{}</li></ul>",
        _("Gate and initiative"),
        # Translators: a gate's name ("Pilot gate"), then the number of the policy version it used.
        _("%(gate)s, policy version %(version)s")
        % {"gate": _gate_name(facts["policy"]["gate"]), "version": facts["policy"]["version"]},
        stage_line,
        format_html(_("Business case: {case}"), case=case_line),
        format_html(
            _("Open conditions of earlier approvals: {conditions}"),
            conditions=format_html("<ul>{}</ul>", conditions) if facts["open_conditions"] else _("none"),
        ),
    )


def _money_table(facts: dict):
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
        ((f"{e['month']:%Y-%m}", e["kind"], e["amount"]) for e in facts["costs_and_benefits"]),
    )
    return format_html(
        "<h4>{}</h4><table><tr>{}</tr>{}</table>",
        _("Costs and benefits"),
        _header_row(_("Month"), _("Kind"), _("Amount")),
        rows
        if facts["costs_and_benefits"]
        else format_html('<tr><td colspan="3">{}</td></tr>', _("None recorded.")),
    )
