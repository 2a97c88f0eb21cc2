"""Production mode, health, Content-Security-Policy, login throttling and deactivation."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from governance.access import roles
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
    "DJANGO_ALLOWED_HOSTS": "valuegate.example.com",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_passes_in_production_mode(tmp_path):
    ledger = {"VALUEGATE_LEDGER_WITNESS_DIRS": str(tmp_path)}  # the signing key: the suite's, inherited
    result = manage("check", "--deploy", "--fail-level", "WARNING", env={**PRODUCTION, **ledger})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_mode_refuses_to_run_without_the_ledgers_signing_key_or_witnesses():
    result = manage("check", "--deploy", env={**PRODUCTION, "VALUEGATE_LEDGER_SIGNING_KEY": ""})
    assert result.returncode != 0
    assert "(valuegate.E001) VALUEGATE_LEDGER_SIGNING_KEY is not set: the ledger cannot sign" in result.stderr
    assert "(valuegate.W001) VALUEGATE_LEDGER_WITNESS_DIRS is empty" in result.stderr


def test_production_mode_refuses_to_start_without_a_secret_key():
    result = manage("check", env={"DJANGO_DEBUG": "0", "DJANGO_ALLOWED_HOSTS": "valuegate.example.com"})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


@pytest.mark.django_db
def test_health_reports_database_and_broker_without_details(client, settings):
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "broker": "not configured",
        "dead_notifications": 0,
    }
    settings.REDIS_URL = "redis://127.0.0.1:6390/0"  # nothing listens there
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "database": "ok",
        "broker": "unavailable",
        "dead_notifications": 0,
    }


@pytest.mark.django_db
def test_admin_pages_carry_a_content_security_policy_without_inline_scripts(client):
    chair = factories.user_in(roles.COMMITTEE_CHAIR, is_staff=True)
    client.force_login(chair)
    for url in (
        reverse("admin:login"),
        reverse("admin:index"),
        reverse("admin:projects_initiative_dashboard"),
    ):
        policy = client.get(url)["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert "frame-ancestors 'none'" in policy


@pytest.mark.django_db
def test_repeated_failed_logins_lock_the_account_out(client, settings):
    user = factories.user_in(roles.COMMITTEE_CHAIR, username="locked", is_staff=True)
    login = reverse("admin:login")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(login, {"username": "locked", "password": "wrong"})
        assert response.status_code == 200 and "_auth_user_id" not in client.session
    assert client.post(login, {"username": "locked", "password": "wrong"}).status_code == 429
    # Locked out now: even the right password is refused.
    response = client.post(login, {"username": "locked", "password": "pw-correct-horse"})
    assert response.status_code in (403, 429)
    assert "_auth_user_id" not in client.session
    other = factories.user_in(roles.AUDITORS, username="unlocked", is_staff=True)
    response = client.post(login, {"username": other.username, "password": "pw-correct-horse"})
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(other.pk)
    user.refresh_from_db()
    assert user.last_login is None  # the locked-out account never got in


@pytest.mark.django_db
def test_logging_in_rotates_the_session(client):
    factories.user_in(roles.AUDITORS, username="rotating", is_staff=True)
    session = client.session
    session["before"] = "login"
    session.save()
    before = session.session_key
    client.cookies["sessionid"] = before
    client.post(reverse("admin:login"), {"username": "rotating", "password": "pw-correct-horse"})
    assert client.session.session_key != before


@pytest.mark.django_db
def test_deactivating_a_user_ends_their_admin_session_at_once(client):
    auditor = factories.user_in(roles.AUDITORS, is_staff=True)
    client.force_login(auditor)
    assert client.get(reverse("admin:index")).status_code == 200
    auditor.is_active = False
    auditor.save()
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]
