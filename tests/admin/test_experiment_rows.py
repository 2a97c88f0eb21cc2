"""The initiative page's experiment row, as the committee reads it."""

from __future__ import annotations

from decimal import Decimal

from governance.reviews.portfolio import ExperimentRow
from governance.rules.gates import ExperimentFacts, KPIFacts, experiment_verdict
from projects.sequential import ProportionLook

CTR = KPIFacts(
    name="Click-through rate",
    unit="ratio",
    direction="increase",
    baseline=Decimal("0.040"),
    target=Decimal("0.052"),
    data_source="Analytics",
    is_primary=True,
)


def test_looks_that_contradict_each_other_show_as_inconclusive_not_as_an_interval():
    looks = (ProportionLook(5_000, 250, 5_000, 150), ProportionLook(100_000, 4_000, 100_000, 4_400))
    experiment = ExperimentFacts("Copy test", 100_000, 4_000, 100_000, 4_400, looks=looks)
    row = ExperimentRow(experiment=None, verdict=experiment_verdict(experiment, CTR, method="always_valid"))
    assert row.significant is False
    assert row.always_valid_text.startswith("inconclusive after 2 looks: the looks contradict each other")
