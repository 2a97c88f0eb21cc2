"""`manage.py simulate_peeking`: the false-Go rate of each checked design, as the README reports it."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command

from governance.rules.peeking import DESIGNS


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("simulate_peeking", *args, stdout=out)
    return out.getvalue()


def test_every_checked_design_reports_its_false_go_rate_and_its_power():
    output = run("--pilots", "40")
    for name, design in DESIGNS.items():
        assert f"\n{name}: {design.describe()}\n" in output
    assert len(re.findall(r"always-valid test: false Go \d+\.\d% \(\d+ of 40; 95% upper bound", output)) == 6
    assert output.count("Real +30% relative lift:") == 6
    assert re.search(r"\nAlways-valid false-Go rate (within|ABOVE) 5% in \d of 6 designs\.\n$", output)


def test_a_design_of_your_own_names_its_split_and_its_first_look():
    output = run("--pilots", "20", "--traffic", "100", "--treatment-per-control", "50", "--first-look", "0.5")
    assert "your design: 1:50 (2% control), 100 control and 5,000 treated visitors a month" in output
    assert "first look at 50 control / 2,500 treated visitors, 12 looks" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--pilots", "0"), "positive"),
        (("--first-look", "0"), "first-look"),
        (("--treatment-per-control", "0"), "positive"),
        (("--baseline-rate", "0.9"), "between 0 and 1"),
    ],
)
def test_impossible_designs_are_refused(args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)
