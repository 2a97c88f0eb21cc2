"""Gate policies change only as new versions, only by governance admins."""

from __future__ import annotations

import json

import pytest

from governance.errors import InvalidInput, NotAllowed
from governance.ledger.models import LedgerEvent
from governance.reviews.models import GatePolicy
from governance.reviews.policies import policy_version_create

pytestmark = pytest.mark.django_db


def test_a_new_version_is_the_latest_plus_one_and_the_old_one_stays(people):
    old = GatePolicy.objects.get(gate="scale", version=1)
    before = {f.name: getattr(old, f.name) for f in GatePolicy._meta.concrete_fields}
    new = policy_version_create(actor=people["govadmin"], gate="scale", min_measurements=6)
    assert (new.version, new.min_measurements, new.created_by) == (2, 6, people["govadmin"])
    assert new.required_functions == old.required_functions  # carried over
    old.refresh_from_db()
    assert {f.name: getattr(old, f.name) for f in GatePolicy._meta.concrete_fields} == before
    event = LedgerEvent.objects.get(action="policy.version_created")
    payload = json.loads(event.payload)
    assert (payload["gate"], payload["version"], payload["previous_version"]) == ("scale", 2, 1)
    assert payload["changed"] == ["min_measurements"]
    assert policy_version_create(actor=people["govadmin"], gate="scale").version == 3


@pytest.mark.parametrize("who", ["auditor", "lead", "business"])
def test_only_governance_admins_and_the_chair_create_versions(people, who):
    with pytest.raises(NotAllowed):
        policy_version_create(actor=people[who], gate="pilot", min_measurements=1)
    assert not GatePolicy.objects.filter(version=2).exists()
    assert not LedgerEvent.objects.exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"required_functions": []}, "Required functions"),
        ({"required_functions": ["business", "marketing"]}, "Required functions"),
        ({"required_evidence": ["horoscope"]}, "Required evidence"),
        ({"signoff_validity_days": -1}, "Sign-off validity"),
        ({"version": 9}, "not a rule of a gate policy"),
    ],
)
def test_invalid_rules_are_refused_with_a_reason_and_nothing_stored(people, fields, message):
    with pytest.raises(InvalidInput, match=message):
        policy_version_create(actor=people["govadmin"], gate="pilot", **fields)
    assert GatePolicy.objects.filter(gate="pilot").count() == 1
    assert not LedgerEvent.objects.exists()


def test_an_unknown_gate_is_refused(people):
    with pytest.raises(InvalidInput, match="Unknown gate"):
        policy_version_create(actor=people["govadmin"], gate="moon")
