"""The words of every reason: a rule's code and parameters, said in the reader's language.

The rules (governance/rules) return `Reason` codes and never sentences; pages, messages, errors
and the API call `say(reason)` inside the reader's language (the request's, or the recipient's
for a message). The ledger stores the code and its parameters, so a decision reads in Chinese as
well as in English years later. A code this catalogue does not know is shown as the code, never
dropped.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy, pgettext

from governance.rules.reasons import Listing, Money, Param, Reason, Term
from projects.money import format_money
from projects.vocabulary import function_name

WORDS: dict[str, Any] = {
    # The checklist's requirements.
    "requirement.risk_tier": _("Risk tier allows the use"),
    "requirement.business_case": _("Business case complete"),
    "requirement.primary_kpi": _("Primary KPI with baseline and target"),
    "requirement.evidence": _("Required evidence submitted"),
    "requirement.measurements": ngettext_lazy(
        "Each primary KPI measured at least %(count)s time during the pilot",
        "Each primary KPI measured at least %(count)s times during the pilot",
        "count",
    ),
    "requirement.targets_met": _("Latest value of each primary KPI meets its target"),
    # Translators: test is "always-valid" or "fixed-horizon"; side says where the interval must lie.
    "requirement.experiments": _(
        "A/B experiments show a significant improvement (%(test)s test, p < %(alpha)s, %(side)s)"
    ),
    "requirement.roi": _("Projected ROI is positive"),
    "requirement.conditions": _("Conditions of earlier approvals closed"),
    # Translators: function is a committee function in lower case, e.g. "legal".
    "requirement.signoff": _("Sign-off: %(function)s"),
    # Why each holds or not.
    "risk_tier.prohibited": _("The risk tier is prohibited: this use can never pass a gate."),
    "risk_tier.allowed": _("Risk tier is %(tier)s."),
    "business_case.missing": _("Missing: %(fields)s."),
    "business_case.complete": _("Pain point, process, budget, benefit and exit criteria are recorded."),
    "primary_kpi.none": _("No primary KPI is defined."),
    "primary_kpi.incomplete": _(
        "Incomplete primary KPI (baseline, target, unit, direction, data source): %(kpis)s."
    ),
    "primary_kpi.defined": ngettext_lazy(
        "%(count)s primary KPI fully defined.", "%(count)s primary KPIs fully defined.", "count"
    ),
    "evidence.missing": _("Missing evidence: %(kinds)s."),
    "evidence.complete": _("All required evidence is on file."),
    "measurements.kpi_has": _("%(kpi)s has %(count)s"),
    "measurements.no_primary_kpi": _("No primary KPI to measure."),
    "measurements.too_few": _("Too few measurements: %(kpis)s."),
    "measurements.enough": _("Every primary KPI has enough measurements."),
    "targets_met.no_primary_kpi": _("No primary KPI to compare with its target."),
    "targets_met.missed": _("Target missed: %(kpis)s."),
    "targets_met.met": _("Every primary KPI meets its target."),
    "kpi.no_target": _("%(kpi)s has no target"),
    "kpi.no_measurement": _("%(kpi)s has no measurement"),
    # Translators: period is a month written 2026-11.
    "kpi.target_missed": _(
        "%(kpi)s is %(latest)s %(unit)s (%(period)s) against a target of %(target)s %(unit)s (baseline %(baseline)s)"
    ),
    "experiments.interval": _("interval %(side)s"),
    "experiments.interval_either_way": _(
        "interval above zero for a KPI that should increase, below zero for one that should decrease"
    ),
    "experiments.not_significant": _("Not significant: %(lines)s."),
    "experiments.none": _("No A/B experiment recorded; nothing to test."),
    "experiments.significant": _("Significant: %(lines)s."),
    "experiment.line": _("%(experiment)s on %(kpi)s: %(verdict)s"),
    "experiment.decided_always_valid": _(
        "decided by the always-valid test, which stays valid however often the committee looks: "
        "%(valid_ok)s (%(valid)s); for comparison, the fixed-horizon test, valid for a single planned "
        "look only: %(fixed_ok)s (%(fixed)s); treatment − control; the KPI should %(direction)s, so an "
        "improvement is an interval %(side)s"
    ),
    "experiment.decided_fixed_horizon": _(
        "decided by the fixed-horizon test, valid for a single planned look: %(fixed_ok)s (%(fixed)s); "
        "the always-valid test would say %(valid_ok)s (%(valid)s); treatment − control; the KPI should "
        "%(direction)s, so an improvement is an interval %(side)s"
    ),
    "test.relative_lift": _("%(lift)s relative, "),
    "test.two_proportions": _(
        "lift %(lift)s (%(relative)s%(confidence)s CI %(low)s to %(high)s, p = %(p)s%(caveat)s)"
    ),
    "test.two_means": _(
        "difference %(lift)s (%(relative)s%(confidence)s CI %(low)s to %(high)s, p = %(p)s%(caveat)s)"
    ),
    "test.proportions_too_few": _(
        "; too few observations for this test: each arm needs %(count)s successes and %(count)s failures, "
        "counted and expected"
    ),
    "test.means_too_few": _("; too few observations: each arm needs %(count)s"),
    "test.after_looks": ngettext_lazy("after %(looks)s look", "after %(looks)s looks", "looks"),
    "test.after_looks_thin": ngettext_lazy(
        "after %(looks)s look, %(thin)s of them too thin to count",
        "after %(looks)s looks, %(thin)s of them too thin to count",
        "looks",
    ),
    "test.looks_contradict": _(
        "the looks contradict each other %(after)s: their always-valid %(confidence)s intervals have no "
        "value in common, so the effect is not stable and the test supports no verdict either way; the "
        "latest look alone gives %(low)s to %(high)s%(caveat)s"
    ),
    "test.always_valid": _(
        "always-valid %(confidence)s interval %(low)s to %(high)s, always-valid p = %(p)s %(after)s%(caveat)s"
    ),
    "test.sequence_too_few": _(
        "; too few observations at the latest look: each arm needs %(successes)s successes and "
        "%(successes)s failures (a rate) or %(observations)s observations (a mean)"
    ),
    # Pre-registered experiment plans (governance/rules/plans.py).
    "requirement.experiment_plan": _(
        "A/B experiments follow the plan registered before their data: arms split as planned"
    ),
    "experiment_plan.none": _(
        "%(kpi)s has no registered experiment plan, so its experiments cannot support a Go"
    ),
    # Translators: reason is the lead's reason for the change, as they wrote it.
    "experiment_plan.changed_after_data": _(
        "the experiment plan of %(kpi)s was changed after data arrived (version %(version)s; reason: "
        "%(reason)s)"
    ),
    "experiment_plan.not_followed": _("Not as planned: %(lines)s."),
    "experiment_plan.followed": _("As planned: %(lines)s."),
    "experiment_plan.no_experiments": _("No A/B experiment on a primary KPI; no split to check."),
    # Translators: observed and planned are the arms' shares, control / treatment, e.g. "45.0% / 55.0%".
    "sample_ratio.mismatch": ngettext_lazy(
        "“%(experiment)s” on %(kpi)s: arm sizes are not the planned split: %(observed)s observed against "
        "%(planned)s planned (p = %(p)s after %(looks)s look); the experiment cannot support a Go until "
        "the cause is found",
        "“%(experiment)s” on %(kpi)s: arm sizes are not the planned split: %(observed)s observed against "
        "%(planned)s planned (p = %(p)s after %(looks)s looks); the experiment cannot support a Go until "
        "the cause is found",
        "looks",
    ),
    "sample_ratio.as_planned": ngettext_lazy(
        "“%(experiment)s” on %(kpi)s: arm sizes follow the planned split (%(observed)s observed, "
        "%(planned)s planned, p = %(p)s after %(looks)s look)",
        "“%(experiment)s” on %(kpi)s: arm sizes follow the planned split (%(observed)s observed, "
        "%(planned)s planned, p = %(p)s after %(looks)s looks)",
        "looks",
    ),
    # Translators: problem is why the arm sizes cannot be checked, in English.
    "sample_ratio.untestable": _(
        "“%(experiment)s” on %(kpi)s: the arm sizes cannot be checked against the plan (%(problem)s)"
    ),
    # Guardrail KPIs (governance/rules/guardrails.py).
    "requirement.guardrails": _(
        "Guardrail KPIs do not degrade beyond their non-inferiority margins (always-valid test, "
        "one-sided, α = %(alpha)s)"
    ),
    "guardrails.breached": _("Not shown within the margin: %(lines)s."),
    "guardrails.hold": _("Within the margin: %(lines)s."),
    # Measured from the system of record (the scale gate's policy can require it).
    "requirement.measured_from_source": _("Primary KPIs measured from their systems of record"),
    "measured_from_source.no_primary_kpi": _("No primary KPI to measure."),
    # Translators: %(kpi)s is a KPI's name.
    "measured_from_source.none": _("%(kpi)s has no measurement from its source during the pilot"),
    # Translators: %(kpi)s is a KPI's name; %(count)s a number of months.
    "measured_from_source.reported": ngettext_lazy(
        "%(kpi)s has %(count)s month reported by its lead",
        "%(kpi)s has %(count)s months reported by its lead",
        "count",
    ),
    "measured_from_source.missing": _("Not measured from source: %(kpis)s."),
    "measured_from_source.all": _("Every primary KPI's pilot months were measured from its source."),
    # Why a KPI source could not be read; the owner reads it in the notification and on the KPI.
    "kpi_source.no_rows": _("the source returned no rows."),
    # Translators: %(limit)s is a number of rows.
    "kpi_source.too_many_rows": _("the source returned more than %(limit)s rows; nothing was recorded."),
    # Translators: %(row)s is a row number; %(column)s a column name (period, value or sample_size).
    "kpi_source.bad_row": _(
        "row %(row)s has no usable %(column)s (periods are first days of months, values numbers)."
    ),
    # Translators: %(columns)s lists column names, kept in English (period, value).
    "kpi_source.missing_columns": _("the result has no column %(columns)s."),
    # Translators: %(name)s is a file name.
    "kpi_source.bad_file_name": _(
        "“%(name)s” is not a file name this connector reads (letters, digits, dots, dashes, ending in .csv)."
    ),
    "kpi_source.file_missing": _("no file “%(name)s” is in the connector's directory."),
    # Translators: %(problem)s is a technical error name.
    "kpi_source.file_unreadable": _("the file “%(name)s” cannot be read as UTF-8 text (%(problem)s)."),
    "kpi_source.not_a_select": _("the query must be a single SELECT (or WITH … SELECT) statement."),
    # Translators: %(variable)s is the name of an environment variable.
    "kpi_source.no_url": _(
        "the environment variable %(variable)s holding the database's address is not set."
    ),
    "kpi_source.bad_url": _(
        "the environment variable %(variable)s does not hold a database address ValueGate can use."
    ),
    # Translators: %(dialect)s is a database kind, e.g. mssql.
    "kpi_source.dialect_unsupported": _(
        "ValueGate cannot enforce a read-only transaction and a statement timeout on %(dialect)s; "
        "PostgreSQL and SQLite are supported."
    ),
    # Translators: %(seconds)s is a number of seconds.
    "kpi_source.timed_out": _("the query ran longer than its %(seconds)s-second timeout and was stopped."),
    # Translators: %(problem)s is the database's own message, often in English.
    "kpi_source.unreachable": _("the database could not be reached: %(problem)s"),
    "kpi_source.query_failed": _("the database refused the query: %(problem)s"),
    # Translators: %(connector)s is a connector's name.
    "kpi_source.connector_gone": _("the connector %(connector)s is no longer configured."),
    "guardrail.no_margin": _("%(kpi)s is a guardrail without a baseline and a positive margin"),
    "guardrail.never_measured": _(
        "%(kpi)s has neither a measurement nor an A/B experiment to show it did not degrade"
    ),
    # Translators: period is a month written 2026-11; worse_by a signed number in the KPI's unit.
    "guardrail.measured_holds": _(
        "%(kpi)s is %(latest)s %(unit)s (%(period)s) against a baseline of %(baseline)s: %(worse_by)s "
        "%(unit)s worse, within the margin of %(margin)s %(unit)s"
    ),
    "guardrail.measured_breached": _(
        "%(kpi)s is %(latest)s %(unit)s (%(period)s) against a baseline of %(baseline)s: %(worse_by)s "
        "%(unit)s worse, beyond the margin of %(margin)s %(unit)s"
    ),
    "guardrail.experiments": _("%(lines)s"),
    # Translators: bound is a signed number in the KPI's unit; confidence a percentage.
    "guardrail.experiment_holds": ngettext_lazy(
        "“%(experiment)s” on %(kpi)s: the treatment is worse by at most %(bound)s %(unit)s (always-valid "
        "%(confidence)s bound after %(looks)s look), within the margin of %(margin)s %(unit)s",
        "“%(experiment)s” on %(kpi)s: the treatment is worse by at most %(bound)s %(unit)s (always-valid "
        "%(confidence)s bound after %(looks)s looks), within the margin of %(margin)s %(unit)s",
        "looks",
    ),
    "guardrail.experiment_breached": ngettext_lazy(
        "“%(experiment)s” on %(kpi)s: the treatment may be worse by up to %(bound)s %(unit)s (always-valid "
        "%(confidence)s bound after %(looks)s look), beyond the margin of %(margin)s %(unit)s",
        "“%(experiment)s” on %(kpi)s: the treatment may be worse by up to %(bound)s %(unit)s (always-valid "
        "%(confidence)s bound after %(looks)s looks), beyond the margin of %(margin)s %(unit)s",
        "looks",
    ),
    # Translators: least is a signed number in the KPI's unit; confidence a percentage.
    "guardrail.experiment_beyond": ngettext_lazy(
        "“%(experiment)s” on %(kpi)s: the treatment is worse by at least %(least)s %(unit)s (always-valid "
        "%(confidence)s bound after %(looks)s look), beyond the margin of %(margin)s %(unit)s",
        "“%(experiment)s” on %(kpi)s: the treatment is worse by at least %(least)s %(unit)s (always-valid "
        "%(confidence)s bound after %(looks)s looks), beyond the margin of %(margin)s %(unit)s",
        "looks",
    ),
    "guardrail.experiment_too_few": ngettext_lazy(
        "“%(experiment)s” on %(kpi)s: too few observations after %(looks)s look to show the treatment is "
        "not worse by more than the margin of %(margin)s %(unit)s",
        "“%(experiment)s” on %(kpi)s: too few observations after %(looks)s looks to show the treatment is "
        "not worse by more than the margin of %(margin)s %(unit)s",
        "looks",
    ),
    "guardrail.experiment_inconclusive": ngettext_lazy(
        "“%(experiment)s” on %(kpi)s: the looks contradict each other after %(looks)s look, so the test "
        "cannot show the treatment is within the margin of %(margin)s %(unit)s",
        "“%(experiment)s” on %(kpi)s: the looks contradict each other after %(looks)s looks, so the test "
        "cannot show the treatment is within the margin of %(margin)s %(unit)s",
        "looks",
    ),
    # Translators: problem is why the figures cannot be tested, in English.
    "guardrail.experiment_untestable": _(
        "“%(experiment)s” on %(kpi)s cannot be tested (%(problem)s), so it cannot show the guardrail holds"
    ),
    "value.guardrail_breached": _(
        "Guardrail breached: %(check)s. A guardrail beyond its margin proposes a retire review."
    ),
    "requirement.pilot_power": _("The registered plan can show its minimum effect within a time box"),
    "pilot_power.lines": _("%(lines)s."),
    # Translators: deadline is a date, YYYY-MM-DD; power a percentage; traffic a number of units.
    "pilot.duration": ngettext_lazy(
        "%(kpi)s: %(traffic)s units a month show an effect of %(effect)s %(unit)s with %(power)s power "
        "(α = %(alpha)s) after %(months)s monthly look; started today, the pilot's time box ends on "
        "%(deadline)s",
        "%(kpi)s: %(traffic)s units a month show an effect of %(effect)s %(unit)s with %(power)s power "
        "(α = %(alpha)s) after %(months)s monthly looks; started today, the pilot's time box ends on "
        "%(deadline)s",
        "months",
    ),
    "pilot.cannot_show_effect": ngettext_lazy(
        "%(kpi)s: this pilot cannot show its target effect within %(max_months)s month: %(traffic)s units "
        "a month reach only %(power_reached)s power for an effect of %(effect)s %(unit)s (%(power)s "
        "needed); plan more traffic or a larger minimum effect",
        "%(kpi)s: this pilot cannot show its target effect within %(max_months)s months: %(traffic)s units "
        "a month reach only %(power_reached)s power for an effect of %(effect)s %(unit)s (%(power)s "
        "needed); plan more traffic or a larger minimum effect",
        "max_months",
    ),
    # Translators: problem is why the plan's figures cannot be used (in English when it comes from
    # the statistics).
    "pilot.plan_unusable": _("%(kpi)s: the plan's figures cannot be powered (%(problem)s)"),
    "plan.no_baseline": _("the KPI has no baseline"),
    # Translators: %(kpi)s is a KPI's name; %(looks)s and %(months)s numbers of monthly looks.
    "pilot.too_few_looks": ngettext_lazy(
        "%(kpi)s: the plan looks %(looks)s time, but the effect needs %(months)s monthly looks to show; "
        "plan more looks or more traffic",
        "%(kpi)s: the plan looks %(looks)s times, but the effect needs %(months)s monthly looks to show; "
        "plan more looks or more traffic",
        "looks",
    ),
    "requirement.plans_registered": _("Each primary KPI's experiment plan registered before the pilot"),
    "plans_registered.no_primary_kpi": _("No primary KPI to plan an experiment for."),
    # Translators: %(kpis)s lists KPI names.
    "plans_registered.missing": _("No experiment plan registered for %(kpis)s."),
    "plans_registered.all": _("Every primary KPI has a registered experiment plan."),
    "plan.no_standard_deviation": _("a mean KPI's plan needs the standard deviation of one unit's value"),
    "roi.no_costs": _("No costs recorded: ROI cannot be projected."),
    "roi.projected": ngettext_lazy(
        "Projected ROI %(roi)s over %(months)s month (cost %(cost)s, benefit %(benefit)s).",
        "Projected ROI %(roi)s over %(months)s months (cost %(cost)s, benefit %(benefit)s).",
        "months",
    ),
    "conditions.open": _("Open conditions: %(conditions)s."),
    "conditions.closed": _("No open condition."),
    "signoff.awaiting": _("Awaiting the %(function)s sign-off."),
    "signoff.rejected": _("The %(function)s reviewer rejected."),
    "signoff.changes_requested": _("The %(function)s reviewer requested changes."),
    "signoff.expired": _("The %(function)s approval expired on %(expired_on)s; sign again."),
    "signoff.stale": _(
        "The %(function)s approval is stale: a fact the gate reads (evidence, KPIs, experiments, costs and "
        "benefits, business case or open conditions) changed after it was signed; sign again."
    ),
    "signoff.approved": _("Approved by %(function)s."),
    # Why ValueGate closed a review itself.
    "review.settled.kill": _("A committee function rejected."),
    "review.settled.recycle": _("A committee function requested changes."),
    "review.settled.go": _("Every requirement holds and every required function approved."),
    "review.settled.conditional_go": _(
        "Every requirement holds; approvals carry conditions to close before the next gate."
    ),
    "review.advanced_on_request": _("Advanced on request: every requirement holds."),
    # Why ValueGate opened a review itself.
    # Translators: %(kpis)s lists KPI names; %(months)s is a number of months.
    "review.opened.exit_criteria_met": ngettext_lazy(
        "Exit criteria met: %(kpis)s missed the target for %(months)s or more consecutive month.",
        "Exit criteria met: %(kpis)s missed the target for %(months)s or more consecutive months.",
        "months",
    ),
    # Translators: %(kpis)s lists guardrail KPI names.
    "review.opened.guardrail_breached": _("Guardrail breached: %(kpis)s degraded beyond the margin."),
    # Translators: %(lines)s are the reasons above, one after the other.
    "review.opened.reasons": _("%(lines)s"),
    "review.opened.pilot_overdue": ngettext_lazy(
        "The pilot passed its deadline of %(deadline)s %(days)s day ago; the committee decides to scale it or kill it.",
        "The pilot passed its deadline of %(deadline)s %(days)s days ago; the committee decides to scale it or kill it.",
        "days",
    ),
    # The monthly value review.
    "value.after_looks": ngettext_lazy("after %(looks)s look", "after %(looks)s looks", "looks"),
    "value.interval": _("always-valid %(confidence)s interval %(low)s to %(high)s"),
    "value.latest_interval_alone": _(
        "the latest look's always-valid %(confidence)s interval alone %(low)s to %(high)s"
    ),
    # Translators: problem is the reason the figures cannot be tested, in English.
    "value.experiment_untestable": _("cannot be tested (%(problem)s)"),
    "value.experiment_inconclusive": _(
        "inconclusive %(after)s: the looks contradict each other (their always-valid intervals have no "
        "value in common), so the effect is not stable and the test supports no verdict either way"
    ),
    "value.experiment_negative": _(
        "conclusively negative %(after)s: the treatment does worse than the control"
    ),
    "value.experiment_significant": _("a significant improvement %(after)s"),
    "value.experiment_not_yet_conclusive": _("not yet conclusive %(after)s"),
    "value.too_few_so_far": _("; too few observations so far"),
    "value.experiment_summary": _("%(outcome)s (%(interval)s, treatment − control%(caveat)s)"),
    "value.kpi_never_measured": _("%(kpi)s: never measured"),
    "value.share_of_improvement": _(", %(share)s of the planned improvement"),
    "value.kpi_meets": _(
        "%(kpi)s: %(latest)s %(unit)s in %(period)s meets the target of %(target)s (baseline %(baseline)s)%(share)s"
    ),
    "value.kpi_misses": _(
        "%(kpi)s: %(latest)s %(unit)s in %(period)s misses the target of %(target)s (baseline %(baseline)s)%(share)s"
    ),
    "value.sentence": _("%(text)s."),
    "value.exit_criteria_met": ngettext_lazy(
        "Exit criteria met: %(kpi)s missed its target for %(months)s consecutive month since %(since)s "
        "(the business case allows %(allowed)s).",
        "Exit criteria met: %(kpi)s missed its target for %(months)s consecutive months since %(since)s "
        "(the business case allows %(allowed)s).",
        "months",
    ),
    "value.measurements_overdue": _("Measurements for %(period)s are overdue: %(kpis)s."),
    "value.roi_not_positive": _(
        "Projected ROI is %(roi)s (cost to date %(cost)s, benefit to date %(benefit)s)."
    ),
    "value.experiment_negative_reason": _(
        "The A/B test “%(experiment)s” on %(kpi)s is conclusively negative %(after)s: the treatment does "
        "worse than the control (%(interval)s, treatment − control; %(kpi)s should %(direction)s)."
    ),
    "value.experiment_broken": _(
        "The A/B test “%(experiment)s” on %(kpi)s is %(summary)s; it can no longer judge the treatment, so "
        "restart it or find what changed."
    ),
    "value.no_measurement_due": _("No KPI measurement is due yet%(roi)s."),
    "value.every_target_met": _("Every primary KPI meets its target%(roi)s."),
    "value.projected_roi_clause": _("; the projected ROI is %(roi)s"),
    "value.gain_unproven": _(
        "%(kpi)s meets its target, but the A/B test “%(experiment)s” on %(kpi)s is %(summary)s: the gain "
        "may not be the initiative's doing."
    ),
}

# Words of the vocabulary as the rules' sentences use them (lower case, inside a sentence).
TERMS: dict[tuple[str, str], Any] = {
    ("risk_tier", "minimal"): _("minimal"),
    ("risk_tier", "limited"): _("limited"),
    ("risk_tier", "high"): _("high"),
    ("risk_tier", "prohibited"): _("prohibited"),
    ("business_case_field", "pain_point"): _("business pain point"),
    ("business_case_field", "process_embedding"): _("process it embeds in"),
    ("business_case_field", "budget"): _("budget"),
    ("business_case_field", "expected_annual_benefit"): _("expected annual benefit"),
    ("business_case_field", "exit_criteria"): _("exit criteria"),
    ("evidence_kind", "business_case"): _("business case"),
    ("evidence_kind", "privacy_impact"): _("privacy impact"),
    ("evidence_kind", "pilot_report"): _("pilot report"),
    ("evidence_kind", "decommission_plan"): _("decommission plan"),
    ("evidence_kind", "data_deletion"): _("data deletion"),
    ("evidence_kind", "other"): _("other"),
    ("side", "above_zero"): _("above zero"),
    ("side", "below_zero"): _("below zero"),
    ("direction", "increase"): _("increase"),
    ("direction", "decrease"): _("decrease"),
    ("test", "always_valid"): _("always-valid"),
    ("test", "fixed_horizon"): _("fixed-horizon"),
    ("verdict", "significant"): _("significant"),
    ("verdict", "not_significant"): _("not significant"),
    ("verdict", "inconclusive"): _("inconclusive"),
}


def say(reason: Reason, *, currency: str | None = None) -> str:
    """`reason` in the active language; its amounts of money in `currency` (the initiative's
    business case's; the deployment's when not given)."""
    words = WORDS.get(reason.code)
    if words is None:
        return reason.code
    # `%` on the lazy text picks the plural form from the parameters (ngettext_lazy) and translates.
    try:
        return words % {name: _say_param(value, currency) for name, value in reason.params}
    except (KeyError, TypeError, ValueError, ArithmeticError):
        # Parameters that do not fit the words (a stored reason altered, or from another version):
        # shown as recorded rather than failing the page that shows them.
        return f"{reason.code} {reason.as_json()['params']}"


def said(reasons) -> tuple[str, ...]:
    """Several reasons, each in the active language."""
    return tuple(say(reason) for reason in reasons)


def say_stored(data: dict[str, Any] | str) -> str:
    """A reason as the ledger or a value review stored it: a code (`Reason.as_json`), or the
    English text of what was recorded before reasons were codes, shown as it was written."""
    if isinstance(data, str):
        return data
    try:
        reason = Reason.from_json(data)
    except (KeyError, TypeError, AttributeError, ValueError):
        return json.dumps(data, ensure_ascii=False, sort_keys=True)  # not a reason this version reads
    return say(reason)


def _say_param(value: Param, currency: str | None) -> Any:
    if isinstance(value, Reason):
        return say(value, currency=currency)
    if isinstance(value, Term):
        return say_term(value)
    if isinstance(value, Money):
        return format_money(Decimal(value.amount), currency)
    if isinstance(value, Listing):
        return _separator(value.joined_by).join(str(_say_param(item, currency)) for item in value.items)
    return value


def say_term(term: Term) -> str:
    if term.kind == "function":
        return function_name(term.value)
    words = TERMS.get((term.kind, term.value))
    # An evidence kind added after this list still reads as words.
    return str(words) if words is not None else term.value.replace("_", " ")


def _separator(joined_by: str) -> str:
    if joined_by == "comma":
        return pgettext("between the words of a list", ", ")
    if joined_by == "sentences":
        return pgettext("between whole sentences", " ")
    return pgettext("between the clauses of a list", "; ")
