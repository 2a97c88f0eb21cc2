"""The default policies of the pilot, scale and retire gates, installed by a data migration and after
every flush."""

from __future__ import annotations

from governance.models import GatePolicy
from projects.models import EvidenceKind
from projects.vocabulary import ExperimentMethod

FOUR_FUNCTIONS = ["business", "legal", "finance", "technical"]

DEFAULT_POLICIES: dict[str, dict] = {
    "pilot": {
        "required_functions": FOUR_FUNCTIONS,
        "risk_ethics_for_high_risk": True,
        "requires_business_case": True,
        "requires_primary_kpi": True,
        "required_evidence": [EvidenceKind.BUSINESS_CASE.value],
        "personal_data_evidence": [EvidenceKind.PRIVACY_IMPACT.value],
        "max_pilot_days": 180,
    },
    "scale": {
        "required_functions": FOUR_FUNCTIONS,
        "risk_ethics_for_high_risk": True,
        "requires_business_case": True,
        "requires_primary_kpi": True,
        "required_evidence": [EvidenceKind.PILOT_REPORT.value],
        "personal_data_evidence": [],
        "min_measurements": 3,
        "requires_targets_met": True,
        "requires_significant_experiments": True,
        "experiment_method": ExperimentMethod.ALWAYS_VALID,
        "requires_positive_roi": True,
        "requires_conditions_closed": True,
    },
    "retire": {
        "required_functions": ["business", "finance", "technical"],
        "risk_ethics_for_high_risk": False,
        "requires_business_case": False,
        "requires_primary_kpi": False,
        "required_evidence": [EvidenceKind.DECOMMISSION_PLAN.value],
        "personal_data_evidence": [EvidenceKind.DATA_DELETION.value],
        "requires_conditions_closed": True,
    },
}


def install_default_policies(GatePolicy) -> None:  # noqa: N803 - a model class, also a historical one
    """Create version 1 of each gate's policy where the gate has no policy yet."""
    # A historical model (inside an early migration) may not have every field yet.
    known = {field.name for field in GatePolicy._meta.get_fields()}
    for gate, fields in DEFAULT_POLICIES.items():
        if not GatePolicy.objects.filter(gate=gate).exists():
            GatePolicy.objects.create(gate=gate, version=1, **{k: v for k, v in fields.items() if k in known})


def install_after_migrate(**kwargs) -> None:
    """After every migrate and flush: a gate without a policy gets its default one."""
    install_default_policies(GatePolicy)
