"""What the ledger alone says a signer saw: a sign-off's snapshot rebuilt from the events before it.

A sign-off pins the SHA-256 of the evidence and KPI values on the table when it was given
(governance/selectors/gates.py, snapshot_from). The ledger keeps every evidence file's hash, every
KPI definition, measurement and experiment as it was recorded, so replaying the initiative's events
up to the sign-off rebuilds that snapshot; if its SHA-256 equals the pinned digest, the auditor
knows exactly what the signer saw, without trusting the current tables.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal

from governance.canonical import sha256_hex
from governance.models import LedgerEvent
from governance.selectors.gates import snapshot_from
from projects.models import KPI_DECIMAL_PLACES, Evidence

SNAPSHOT_ACTIONS = ("evidence.submitted", "kpi.defined", "kpi.measurements_recorded", "experiment.recorded")
# KPI values are stored with this many places, so the signer saw them with this many places.
_KPI_PLACES = Decimal(1).scaleb(-KPI_DECIMAL_PLACES)


@dataclass
class SignerView:
    """A sign-off and the snapshot rebuilt for it from the ledger."""

    event: LedgerEvent
    signoff: dict
    evidence: list[dict] = field(default_factory=list)
    kpis: list[dict] = field(default_factory=list)
    digest: str | None = None
    gaps: list[str] = field(default_factory=list)

    @property
    def pinned(self) -> str:
        return self.signoff.get("digest", "")

    @property
    def matches(self) -> bool:
        return self.digest is not None and self.digest == self.pinned


def _kpi_value(text) -> Decimal:
    return Decimal(str(text)).quantize(_KPI_PLACES)


def signer_view(event: LedgerEvent) -> SignerView:
    """Rebuild what the signer of a signoff.recorded event saw, from earlier events of its initiative.

    Order follows the tables the digest was computed from: evidence by id, primary KPIs first then
    by name (code-point order, as SQLite and PostgreSQL's C collation sort), measurements by
    period, experiments in the order recorded. Two queries.
    """
    if event.action != "signoff.recorded":
        raise ValueError(f"Event #{event.seq} is a {event.action}, not a sign-off.")
    view = SignerView(event=event, signoff=json.loads(event.payload))
    evidence: dict[int, dict] = {}
    kpis: dict[int, dict] = {}
    events = (
        LedgerEvent.objects.filter(
            initiative_id=event.initiative_id, seq__lt=event.seq, action__in=SNAPSHOT_ACTIONS
        )
        .order_by("seq")
        .values_list("seq", "action", "payload")
    )
    for seq, action, text in events:
        data = json.loads(text)
        try:
            if action == "evidence.submitted":
                evidence[data["evidence"]] = {
                    "id": data["evidence"],
                    "kind": data["kind"],
                    "sha256": data["sha256"],
                    "title": data.get("title", ""),
                    "seq": seq,
                }
            elif action == "kpi.defined":
                kpis[data["kpi"]] = {
                    "id": data["kpi"],
                    "name": data["name"],
                    "unit": data.get("unit", ""),
                    "direction": data["direction"],
                    "baseline": _kpi_value(data["baseline"]),
                    "target": _kpi_value(data["target"]),
                    "is_primary": data.get("is_primary", True),
                    "measurements": [],
                    "experiments": [],
                    "seq": seq,
                }
            elif data["kpi"] not in kpis:
                view.gaps.append(
                    f"event #{seq} ({action}) is about KPI {data['kpi']}, never defined in the ledger"
                )
            elif action == "kpi.measurements_recorded":
                kpis[data["kpi"]]["measurements"].extend(
                    {
                        "period": dt.date.fromisoformat(m["period"]),
                        "value": _kpi_value(m["value"]),
                        "sample_size": m["sample_size"],
                    }
                    for m in data["measurements"]
                )
            else:  # experiment.recorded
                kpis[data["kpi"]]["experiments"].append(
                    {
                        "id": data["experiment"],
                        "name": data.get("name", ""),
                        "control": [data["control_size"], data["control_successes"]],
                        "treatment": [data["treatment_size"], data["treatment_successes"]],
                    }
                )
        except KeyError as missing:
            view.gaps.append(f"event #{seq} ({action}) does not carry {missing}")
    view.evidence = [evidence[key] for key in sorted(evidence)]
    view.kpis = sorted(kpis.values(), key=lambda k: (not k["is_primary"], k["name"]))
    for kpi in view.kpis:
        kpi["measurements"].sort(key=lambda m: m["period"])
    try:
        view.digest = sha256_hex(snapshot_from(view.evidence, view.kpis))
    except KeyError as missing:
        view.gaps.append(f"the ledger does not carry {missing}, which the snapshot needs")
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
        action="evidence.submitted",
        initiative_id=evidence.initiative_id,
        payload__contains=f'"sha256":"{evidence.sha256}"',
    ).values_list("payload", flat=True)
    for text in payloads:
        data = json.loads(text)
        if data.get("evidence") == evidence.pk:
            return data.get("media_type")
    return None
