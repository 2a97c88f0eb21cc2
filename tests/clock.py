"""The suite's clock: every test starts at one fixed instant, never at today's date.

Each test travels (time-machine) to the clock before it runs and the clock ticks from there, so
durations, timeouts and ordering behave as in life while the date is always the same. The default
is an ordinary weekday in the middle of a month, after every fixed date the tests use; `pytest --clock=2028-02-29T12:00:00Z` (or
VALUEGATE_TEST_CLOCK) runs the whole suite at another instant, which is how `.ci/run` proves the
suite holds on the first day of a month, a leap day and New Year's Eve. Processes the tests start
(the Celery worker) read VALUEGATE_TEST_CLOCK and travel there too (`python -m tests.clock …`).
"""

from __future__ import annotations

import datetime as dt
import os
import runpy
import sys

DEFAULT_CLOCK = "2026-11-18T10:00:00Z"
ENVIRONMENT_VARIABLE = "VALUEGATE_TEST_CLOCK"


def parse_clock(text: str) -> dt.datetime:
    """An ISO 8601 instant with a UTC offset; a naive time would be read in the machine's zone."""
    instant = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if instant.tzinfo is None:
        raise ValueError(f"The test clock {text!r} needs a UTC offset, e.g. {DEFAULT_CLOCK}.")
    return instant.astimezone(dt.UTC)


def configured_clock() -> dt.datetime:
    return parse_clock(os.environ.get(ENVIRONMENT_VARIABLE) or DEFAULT_CLOCK)


def run_module_at_clock(module: str, argv: list[str]) -> None:
    """Run `python -m module argv…` with the clock travelled to VALUEGATE_TEST_CLOCK."""
    import time_machine

    sys.argv = [module, *argv]
    with time_machine.travel(configured_clock(), tick=True):
        runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    # python -m tests.clock celery -A config worker …: a process of the tests on the tests' clock.
    run_module_at_clock(sys.argv[1], sys.argv[2:])
