from __future__ import annotations

import pytest
from django.db import connections
from django.test import TransactionTestCase

from governance.ledger_guards import install_guards, remove_guards
from tests import factories

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


@pytest.fixture
def members(db):
    return factories.committee()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Test users log in with a known password; hashing it slowly only slows the suite.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
