"""What the ledger alone says a signer saw: a sign-off's gate facts rebuilt from the events before it.

A sign-off pins the SHA-256 of the gate facts on the table when it was given
(governance/reviews/facts.py, gate_facts): the initiative's description and stage, its business
case, every KPI with its measurements, experiments (every look) and registered experiment plan
(and whether it was changed after data arrived), the evidence files' hashes,
costs and benefits, the open conditions of earlier approvals and the pinned policy version. The
ledger records each of these as it happens, so replaying the initiative's events up to the
sign-off rebuilds those facts with the very function the gate uses; if their SHA-256 equals the
pinned digest, the auditor knows exactly what the signer saw, without trusting the current tables.

Sign-offs recorded before the facts were versioned (no `facts` in their payload) pinned only the
evidence and KPI data; they are rebuilt in that older form (`snapshot_v1`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q
from django.utils.translation import gettext as _

from governance.ledger.canonical import sha256_hex
from governance.ledger.events import (
    BUSINESS_CASE_RECORDED,
    CONDITION_CLOSED,
    EVIDENCE_SUBMITTED,
    EXPERIMENT_LOOK_RECORDED,
    EXPERIMENT_PLAN_CHANGED,
    EXPERIMENT_PLAN_REGISTERED,
    EXPERIMENT_RECORDED,
    FINANCIAL_ENTRY_RECORDED,
    INITIATIVE_CREATED,
    INITIATIVE_SUBMITTED,
    INITIATIVE_TRANSITIONED,
    INITIATIVE_UPDATED,
    KPI_DEFINED,
    KPI_MEASUREMENTS_RECORDED,
    REVIEW_OPENED,
    SIGNOFF_RECORDED,
)
from governance.ledger.models import LedgerEvent
from governance.reviews.facts import (
    MEAN_FIELDS,
    SUMMARY_FIELDS,
    GateData,
    OpenCondition,
    arm_summary,
    facts_digest,
    gate_facts,
    kpi_decimal,
    plan_row,
    policy_rules,
)
from governance.reviews.models import GatePolicy
from governance.rules.gates import BusinessCaseFacts
from projects.models import Evidence

# The events that carry a fact a gate reads.
FACT_ACTIONS = tuple(
    event.code
    for event in (
        INITIATIVE_CREATED,
        INITIATIVE_UPDATED,
        INITIATIVE_SUBMITTED,
        INITIATIVE_TRANSITIONED,
        BUSINESS_CASE_RECORDED,
        KPI_DEFINED,
        KPI_MEASUREMENTS_RECORDED,
        EXPERIMENT_RECORDED,
        EXPERIMENT_LOOK_RECORDED,
        EXPERIMENT_PLAN_REGISTERED,
        EXPERIMENT_PLAN_CHANGED,
        FINANCIAL_ENTRY_RECORDED,
        EVIDENCE_SUBMITTED,
        REVIEW_OPENED,
        SIGNOFF_RECORDED,
        CONDITION_CLOSED,
    )
)
INITIATIVE_FACTS = ("risk_tier", "uses_personal_data", "pain_point", "process_embedding")


@dataclass
class SignerView:
    """A sign-off and the facts rebuilt for it from the ledger."""

    event: LedgerEvent
    signoff: dict
    facts: dict | None = None
    evidence: list[dict] = field(default_factory=list)  # with the title and the event that recorded it
    kpis: list[dict] = field(default_factory=list)
    digest: str | None = None
    gaps: list[str] = field(default_factory=list)

    @property
    def pinned(self) -> str:
        return self.signoff.get("digest", "")

    @property
    def matches(self) -> bool:
        return self.digest is not None and self.digest == self.pinned


@dataclass
class _Replay:
    """An initiative's gate facts as its events state them, one event at a time."""

    initiative: dict = field(default_factory=lambda: {"stage": "draft", "stage_entered_at": None})
    business_case: BusinessCaseFacts | None = None
    kpis: dict[int, dict] = field(default_factory=dict)
    experiments: dict[int, dict] = field(default_factory=dict)
    evidence: dict[int, dict] = field(default_factory=dict)
    entries: dict[int, dict] = field(default_factory=dict)
    conditions: dict[int, dict] = field(default_factory=dict)  # open ones: {id, text, review}
    reviews: dict[int, dict] = field(default_factory=dict)
    gaps: list[str] = field(default_factory=list)

    def apply(self, seq: int, at: dt.datetime, action: str, data: dict) -> None:
        handler = getattr(self, "_" + action.replace(".", "_"))
        try:
            handler(seq, at, data)
        except KeyError as missing:
            self.gaps.append(
                # Translators: %(action)s is a ledger action code, e.g. kpi.defined; %(key)s a payload key.
                _("event #%(seq)s (%(action)s) does not carry %(key)s")
                % {"seq": seq, "action": action, "key": missing}
            )

    def _initiative_created(self, seq, at, data):
        self.initiative.update({k: data[k] for k in INITIATIVE_FACTS if k in data})
        self.initiative["stage_entered_at"] = at
        for name, label in (("pain_point", _("pain point")), ("process_embedding", _("process embedding"))):
            if name not in data:
                self.gaps.append(
                    # Translators: %(fact)s is "pain point" or "process embedding".
                    _("event #%(seq)s (initiative.created) does not carry the %(fact)s")
                    % {"seq": seq, "fact": label}
                )

    def _initiative_updated(self, seq, at, data):
        self.initiative.update({k: data[k] for k in INITIATIVE_FACTS if k in data})

    def _initiative_submitted(self, seq, at, data):
        self._stage(data, at)

    def _initiative_transitioned(self, seq, at, data):
        self._stage(data, at)

    def _stage(self, data, at):
        self.initiative["stage"] = data["to"]
        self.initiative["stage_entered_at"] = dt.datetime.fromisoformat(data["at"]) if "at" in data else at

    def _business_case_recorded(self, seq, at, data):
        self.business_case = BusinessCaseFacts(
            budget=Decimal(data["budget"]),
            expected_annual_benefit=Decimal(data["expected_annual_benefit"]),
            horizon_months=data["horizon_months"],
            exit_criteria=data["exit_criteria"],
            missed_periods_to_retire=data.get("missed_periods_to_retire", 3),
        )

    def _kpi_defined(self, seq, at, data):
        self.kpis[data["kpi"]] = {
            "id": data["kpi"],
            "name": data["name"],
            "unit": data.get("unit", ""),
            "direction": data["direction"],
            "baseline": kpi_decimal(data["baseline"]),
            "target": kpi_decimal(data["target"]),
            "data_source": data.get("data_source", ""),
            "is_primary": data.get("is_primary", True),
            "is_guardrail": data.get("is_guardrail", False),
            "non_inferiority_margin": (
                kpi_decimal(data["non_inferiority_margin"]) if data.get("non_inferiority_margin") else None
            ),
            "measurements": [],
            "experiments": [],
            "seq": seq,
        }

    def _kpi_of(self, seq, action, data) -> dict | None:
        kpi = self.kpis.get(data["kpi"])
        if kpi is None:
            self.gaps.append(
                # Translators: %(action)s is a ledger action code; %(kpi)s the KPI's id.
                _("event #%(seq)s (%(action)s) is about KPI %(kpi)s, never defined in the ledger")
                % {"seq": seq, "action": action, "kpi": data["kpi"]}
            )
        return kpi

    def _kpi_measurements_recorded(self, seq, at, data):
        kpi = self._kpi_of(seq, KPI_MEASUREMENTS_RECORDED.code, data)
        if kpi is not None:
            kpi["measurements"].extend(
                {
                    "period": dt.date.fromisoformat(m["period"]),
                    "value": kpi_decimal(m["value"]),
                    "sample_size": m["sample_size"],
                    # Read by a connector: the reading's provenance, as the ledger pinned it.
                    **({"from_source": True, "reading": data["reading"]} if data.get("reading") else {}),
                }
                for m in data["measurements"]
            )

    def _experiment_recorded(self, seq, at, data):
        kpi = self._kpi_of(seq, EXPERIMENT_RECORDED.code, data)
        if kpi is None:
            return
        summary = _summary(data)
        row = {
            "id": data["experiment"],
            "name": data.get("name", ""),
            "metric": data.get("metric", "proportion"),
            "summary": summary,
            "looks": [{"looked_on": dt.date.fromisoformat(data["looked_on"]), **summary}]
            if "looked_on" in data
            else [],
        }
        self.experiments[row["id"]] = row
        kpi["experiments"].append(row)

    def _experiment_look_recorded(self, seq, at, data):
        row = self.experiments.get(data["experiment"])
        if row is None:
            self.gaps.append(
                _(
                    # Translators: %(experiment)s is the experiment's id.
                    "event #%(seq)s (experiment.look_recorded) is about experiment %(experiment)s, "
                    "never recorded in the ledger"
                )
                % {"seq": seq, "experiment": data["experiment"]}
            )
            return
        summary = _summary(data)
        row["summary"] = summary  # the experiment shows its latest look
        row["looks"].append({"looked_on": dt.date.fromisoformat(data["looked_on"]), **summary})

    def _experiment_plan_registered(self, seq, at, data):
        kpi = self._kpi_of(seq, EXPERIMENT_PLAN_REGISTERED.code, data)
        if kpi is not None:
            kpi["plan"] = _plan(data["registered"], data["version"], changed=False, reason="")

    def _experiment_plan_changed(self, seq, at, data):
        kpi = self._kpi_of(seq, EXPERIMENT_PLAN_CHANGED.code, data)
        if kpi is not None:
            kpi["plan"] = _plan(data["after"], data["version"], changed=True, reason=data["reason"])

    def _financial_entry_recorded(self, seq, at, data):
        self.entries[data["entry"]] = {
            "id": data["entry"],
            "kind": data["kind"],
            "month": dt.date.fromisoformat(data["month"]),
            "amount": Decimal(data["amount"]),
        }

    def _evidence_submitted(self, seq, at, data):
        self.evidence[data["evidence"]] = {
            "id": data["evidence"],
            "kind": data["kind"],
            "sha256": data["sha256"],
            "title": data.get("title", ""),
            "seq": seq,
        }

    def _review_opened(self, seq, at, data):
        self.reviews[data["review"]] = {"gate": data["gate"], "version": data["policy_version"]}

    def _signoff_recorded(self, seq, at, data):
        for condition in data.get("conditions", ()):
            self.conditions[condition["condition"]] = {
                "id": condition["condition"],
                "text": condition["text"],
                "review": data["review"],
            }

    def _condition_closed(self, seq, at, data):
        self.conditions.pop(data["condition"], None)

    def gate_data(self) -> GateData:
        return GateData(
            stage=self.initiative["stage"],
            stage_entered_at=self.initiative["stage_entered_at"],
            risk_tier=self.initiative.get("risk_tier", ""),
            uses_personal_data=self.initiative.get("uses_personal_data", False),
            pain_point=self.initiative.get("pain_point", ""),
            process_embedding=self.initiative.get("process_embedding", ""),
            business_case=self.business_case,
            kpi_rows=list(self.kpis.values()),
            evidence_rows=list(self.evidence.values()),
            entries=list(self.entries.values()),
        )

    def open_conditions_before(self, review: int) -> list[OpenCondition]:
        return [OpenCondition(c["id"], c["text"]) for c in self.conditions.values() if c["review"] != review]


def _plan(figures: dict, version: int, *, changed: bool, reason: str) -> dict | None:
    """A plan as an event pinned it, in the form of the gate facts (governance/reviews/facts.py)."""
    return plan_row(
        {
            **figures,
            "standard_deviation": figures.get("standard_deviation"),
            "baseline": figures.get("baseline"),
            "version": version,
            "changed_after_data": changed,
            "change_reason": reason,
        }
    )


def _summary(data: dict) -> dict:
    return arm_summary({f: data.get(f, 0 if f not in MEAN_FIELDS else None) for f in SUMMARY_FIELDS})


def snapshot_v1(evidence_rows: list[dict], kpi_rows: list[dict]) -> dict:
    """What sign-offs pinned before the gate facts: evidence by hash, KPI definitions, values and
    each experiment's latest counts (kept so that those sign-offs still rebuild)."""

    def experiment(row: dict) -> dict:
        summary = row["summary"]
        snapshot = {
            "id": row["id"],
            "control": [summary["control_size"], summary["control_successes"]],
            "treatment": [summary["treatment_size"], summary["treatment_successes"]],
        }
        if row["metric"] == "mean":
            snapshot["means"] = [summary[f] for f in MEAN_FIELDS]
        return snapshot

    return {
        "evidence": [{"id": e["id"], "kind": e["kind"], "sha256": e["sha256"]} for e in evidence_rows],
        "kpis": [
            {
                "id": k["id"],
                "name": k["name"],
                "direction": k["direction"],
                "baseline": k["baseline"],
                "target": k["target"],
                "measurements": k["measurements"],
                "experiments": [experiment(e) for e in k["experiments"]],
            }
            for k in kpi_rows
        ],
    }


def signer_view(event: LedgerEvent) -> SignerView:
    """Rebuild what the signer of a signoff.recorded event saw, from earlier events of its initiative.

    Three queries: the events, the pinned policy's rules, and nothing else.
    """
    if event.action != SIGNOFF_RECORDED.code:
        raise ValueError(f"Event #{event.seq} is a {event.action}, not a sign-off.")
    view = SignerView(event=event, signoff=json.loads(event.payload))
    replay = _Replay()
    # What came before it: sequenced before it, or, while it waits to be sequenced itself, every
    # event sequenced so far and those inserted before it.
    before = Q(seq__lt=event.seq) if event.seq is not None else Q(seq__isnull=False) | Q(id__lt=event.pk)
    events = (
        LedgerEvent.objects.filter(
            before,
            # None matches the events of no initiative, as Django reads it; the stubs only allow an id.
            initiative_id=event.initiative_id,  # type: ignore[misc]
            action__in=FACT_ACTIONS,
        )
        .order_by("seq")
        .values_list("seq", "recorded_at", "action", "payload")
    )
    for seq, at, action, text in events:
        replay.apply(seq or 0, at, action, json.loads(text))
    view.gaps = replay.gaps
    view.evidence = [replay.evidence[key] for key in sorted(replay.evidence)]
    view.kpis = sorted(replay.kpis.values(), key=lambda k: (not k["is_primary"], k["name"]))
    for kpi in view.kpis:
        kpi["measurements"].sort(key=lambda m: m["period"])
    if view.signoff.get("facts", 1) == 1:
        view.digest = sha256_hex(snapshot_v1(view.evidence, view.kpis))
        return view
    review_id = view.signoff.get("review")
    review = None if review_id is None else replay.reviews.get(review_id)
    if review is None:
        view.gaps.append(
            _("the ledger holds no opening of review %(review)s") % {"review": view.signoff.get("review")}
        )
        return view
    policy = GatePolicy.objects.filter(gate=review["gate"], version=review["version"]).first()
    if policy is None:
        view.gaps.append(
            # Translators: %(gate)s is a gate code, e.g. "pilot"; %(version)s a version number.
            _("no %(gate)s gate policy version %(version)s exists")
            % {"gate": review["gate"], "version": review["version"]}
        )
        return view
    view.facts = gate_facts(
        replay.gate_data(), policy_rules(policy), replay.open_conditions_before(view.signoff["review"])
    )
    view.digest = facts_digest(view.facts)
    return view


def stored_file_digests(evidence_ids: list[int]) -> dict[int, str]:
    """The SHA-256 of each evidence file as it is on disk now ("" when it cannot be read)."""
    digests = {}
    for item in Evidence.objects.filter(pk__in=evidence_ids):
        digest = hashlib.sha256()
        try:
            with item.file.open("rb") as handle:
                while chunk := handle.read(1 << 20):
                    digest.update(chunk)
        except (OSError, ValueError):
            digests[item.pk] = ""
        else:
            digests[item.pk] = digest.hexdigest()
    return digests


def evidence_media_type(evidence: Evidence) -> str | None:
    """The media type the ledger recorded when `evidence` was accepted, or None. One query."""
    payloads = LedgerEvent.objects.filter(
        action=EVIDENCE_SUBMITTED.code,
        initiative_id=evidence.initiative_id,
        payload__contains=f'"sha256":"{evidence.sha256}"',
    ).values_list("payload", flat=True)
    for text in payloads:
        data = json.loads(text)
        if data.get("evidence") == evidence.pk:
            return data.get("media_type")
    return None
