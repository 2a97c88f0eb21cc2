from __future__ import annotations

import os

import pytest
import time_machine
from django.conf import settings
from django.db import connections
from django.test import TransactionTestCase
from django.utils import translation

from governance.ledger.events import declared
from governance.ledger.guards import install_guards, remove_guards
from tests import clock, factories
from tests.declared_events import TEST_EVENTS


def pytest_addoption(parser):
    parser.addoption(
        "--clock",
        default=None,
        help=f"the instant every test starts at (ISO 8601 with offset; default {clock.DEFAULT_CLOCK}, "
        f"or ${clock.ENVIRONMENT_VARIABLE})",
    )


def pytest_configure(config):
    chosen = config.getoption("--clock")
    if chosen:
        # Through the environment, so that the processes the tests start keep the same clock.
        os.environ[clock.ENVIRONMENT_VARIABLE] = chosen
    try:
        config.valuegate_clock = clock.configured_clock()
    except ValueError as error:
        raise pytest.UsageError(str(error)) from None
    _ledger_for_tests()


def _ledger_for_tests():
    """A signing key of the suite's own (through the environment, for the processes tests start),
    and events sequenced inside each decision: most tests run inside one transaction that never
    commits, where sealing after commit would never happen. Tests of sealing after commit say so."""
    from django.conf import settings

    from governance.ledger.signing import SigningKey, clear_key_cache

    os.environ.setdefault("VALUEGATE_LEDGER_SIGNING_KEY", SigningKey.generate("valuegate.test/ledger").text)
    os.environ.setdefault("VALUEGATE_LEDGER_SEALING", "inline")
    settings.VALUEGATE_LEDGER_SIGNING_KEY = os.environ["VALUEGATE_LEDGER_SIGNING_KEY"]
    settings.VALUEGATE_LEDGER_SEALING = os.environ["VALUEGATE_LEDGER_SEALING"]
    clear_key_cache()


def pytest_report_header(config):
    return f"clock: every test starts at {config.valuegate_clock:%Y-%m-%dT%H:%M:%SZ}"


@pytest.fixture(autouse=True)
def _the_suites_clock(request):
    """Every test starts at the suite's fixed instant (see tests/clock.py), whatever today is."""
    with time_machine.travel(request.config.valuegate_clock, tick=True):
        yield


@pytest.fixture(autouse=True, scope="session")
def _test_ledger_events():
    """The events only tests of the chain append (tests/declared_events.py), declared as the
    catalogue's are; every other event a test writes must be in governance/ledger/events.py."""
    with declared(*TEST_EVENTS):
        yield


_original_teardown = TransactionTestCase._fixture_teardown


def _teardown_with_ledger_reset(self):
    """Transactional tests empty every table with DELETE or TRUNCATE, which the ledger refuses.

    The harness lifts the ledger's guards for the flush alone and puts them back; the running
    application has no such switch.
    """
    for alias in self._databases_names(include_mirrors=False):
        remove_guards(connections[alias])
    try:
        _original_teardown(self)
    finally:
        for alias in self._databases_names(include_mirrors=False):
            install_guards(connections[alias])


TransactionTestCase._fixture_teardown = _teardown_with_ledger_reset


DATABASE_FIXTURES = {"db", "transactional_db", "live_server", "django_db_reset_sequences"}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """After every test that passed: each sign-off it made rebuilds from the ledger to its digest.

    Only initiatives whose history went through the services (the ledger has their creation) are
    held to it; factories write rows that were already there, which the ledger never saw. A test
    that changes tables behind the ledger's back on purpose says so with `ledger_diverges`.
    """
    result = yield
    uses_database = DATABASE_FIXTURES & set(item.fixturenames) or item.get_closest_marker("django_db")
    if uses_database and not item.get_closest_marker("ledger_diverges"):
        _every_signoff_rebuilds()
    return result


def _every_signoff_rebuilds() -> None:
    from governance.audit.signer_view import signer_view
    from governance.ledger.events import INITIATIVE_CREATED, SIGNOFF_RECORDED
    from governance.ledger.models import LedgerEvent

    through_services = LedgerEvent.objects.filter(action=INITIATIVE_CREATED.code).values("initiative_id")
    for event in LedgerEvent.objects.filter(action=SIGNOFF_RECORDED.code, initiative_id__in=through_services):
        view = signer_view(event)
        assert view.matches, (
            f"The sign-off of ledger event #{event.seq} does not rebuild to its pinned digest from the "
            f"ledger: {'; '.join(view.gaps) or 'a fact the gate read is missing from the events'}"
        )


@pytest.fixture
def members(db):
    return factories.committee()


@pytest.fixture(autouse=True)
def _the_default_language():
    """Each test starts in the deployment's language: a request in Chinese (LocaleMiddleware
    activates the language it asks for and leaves it active) never leaks into the next test."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _kpi_drops(settings, tmp_path):
    """The embedded default's file-drop connector, in the test's own directory."""
    settings.VALUEGATE_KPI_CONNECTORS = {
        "file-drops": {"kind": "csv", "directory": str(tmp_path / "kpi-drops")}
    }


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Test users log in with a known password; hashing it slowly only slows the suite.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
