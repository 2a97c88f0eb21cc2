"""A lockout nobody can turn against others: behind the reverse proxies every request reaches
ValueGate from a proxy's address, so the client's own address is read from the proxies' header,
and believed only from them."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client, RequestFactory
from django.urls import reverse

from governance.access import roles
from governance.access.client_address import client_address
from tests import factories
from tests.clock import configured_clock

PROXY = "10.0.0.5"
OTHER_PROXY = "10.0.1.7"
ATTACKER = "203.0.113.66"
VICTIM = "198.51.100.20"
PASSWORD = "pw-correct-horse"


@pytest.fixture
def behind_two_proxies(settings):
    settings.VALUEGATE_TRUSTED_PROXIES = [PROXY, "10.0.1.0/24"]


def through_proxy(client_ip: str, proxy: str = PROXY, *, claimed: str = "") -> dict:
    """What a request carries after nginx appended the client's address to X-Forwarded-For."""
    forwarded = f"{claimed}, {client_ip}" if claimed else client_ip
    return {"REMOTE_ADDR": proxy, "HTTP_X_FORWARDED_FOR": forwarded}


def sign_in(client: Client, username: str, password: str, meta: dict):
    return client.post(reverse("admin:login"), {"username": username, "password": password}, **meta)


@pytest.mark.django_db
def test_a_strangers_failures_do_not_lock_the_member_out(behind_two_proxies, settings):
    chair = factories.user_in(roles.COMMITTEE_CHAIR, username="chair", is_staff=True)
    attacker = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(attacker, "chair", "guess", through_proxy(ATTACKER))
    # The stranger is paused, with a page saying why and for how long ...
    refused = sign_in(attacker, "chair", PASSWORD, through_proxy(ATTACKER))
    assert refused.status_code == 429
    page = refused.content.decode()
    assert "Sign-in to this account is paused" in page
    assert f"for {int(settings.AXES_COOLOFF_TIME * 60)} minutes" in page
    # ... while the chair, from her own address and through the other proxy, signs in.
    member = Client()
    response = sign_in(member, "chair", PASSWORD, through_proxy(VICTIM, OTHER_PROXY))
    assert response.status_code == 302
    assert member.session["_auth_user_id"] == str(chair.pk)


@pytest.mark.django_db
def test_a_client_cannot_claim_another_address_to_escape_or_aim_the_lockout(behind_two_proxies, settings):
    factories.user_in(roles.COMMITTEE_CHAIR, username="chair", is_staff=True)
    attacker = Client()
    # Each try claims a new address in the header it sends; nginx appends the real one after it.
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(attacker, "chair", "guess", through_proxy(ATTACKER, claimed=f"192.0.2.{n}"))
    assert sign_in(attacker, "chair", PASSWORD, through_proxy(ATTACKER, claimed=VICTIM)).status_code == 429
    assert sign_in(Client(), "chair", PASSWORD, through_proxy(VICTIM)).status_code == 302


@pytest.mark.django_db
def test_without_trusted_proxies_the_header_is_never_believed(settings):
    settings.VALUEGATE_TRUSTED_PROXIES = []
    factories.user_in(roles.COMMITTEE_CHAIR, username="chair", is_staff=True)
    attacker = Client()
    for n in range(settings.AXES_FAILURE_LIMIT):
        meta = {"REMOTE_ADDR": ATTACKER, "HTTP_X_FORWARDED_FOR": f"192.0.2.{n}"}
        sign_in(attacker, "chair", "guess", meta)
    meta = {"REMOTE_ADDR": ATTACKER, "HTTP_X_FORWARDED_FOR": VICTIM}
    assert sign_in(attacker, "chair", PASSWORD, meta).status_code == 429


@pytest.mark.django_db
def test_a_pause_is_not_renewed_by_further_tries(behind_two_proxies, settings):
    factories.user_in(roles.COMMITTEE_CHAIR, username="chair", is_staff=True)
    attacker = Client()
    cool_off = dt.timedelta(hours=settings.AXES_COOLOFF_TIME)
    start = configured_clock()
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(settings.AXES_FAILURE_LIMIT):
            sign_in(attacker, "chair", "guess", through_proxy(ATTACKER))
        clock.move_to(start + cool_off - dt.timedelta(minutes=1))
        assert sign_in(attacker, "chair", "guess again", through_proxy(ATTACKER)).status_code == 429
        clock.move_to(start + cool_off + dt.timedelta(minutes=1))
        assert sign_in(attacker, "chair", PASSWORD, through_proxy(ATTACKER)).status_code == 302


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ({"REMOTE_ADDR": VICTIM}, VICTIM),  # reached directly
        ({"REMOTE_ADDR": VICTIM, "HTTP_X_FORWARDED_FOR": ATTACKER}, VICTIM),  # not a proxy: header ignored
        (through_proxy(VICTIM), VICTIM),
        (through_proxy(VICTIM, claimed=ATTACKER), VICTIM),  # what the client wrote stands to the left
        ({"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": f"{VICTIM}, {OTHER_PROXY}"}, VICTIM),  # two hops
        ({"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": f"{VICTIM}, not-an-address"}, PROXY),
        ({"REMOTE_ADDR": PROXY}, PROXY),  # a proxy's own request
    ],
)
def test_the_client_address_is_the_first_hop_no_trusted_proxy_wrote(behind_two_proxies, meta, expected):
    request = RequestFactory().get("/", **meta)
    assert client_address(request) == expected


def test_gunicorn_listens_only_where_the_proxy_reaches_it_and_trusts_only_the_proxy():
    from pathlib import Path

    from django.conf import settings as django_settings

    web = next(
        line
        for line in (Path(django_settings.BASE_DIR) / "Procfile").read_text().splitlines()
        if line.startswith("web:")
    )
    assert "--bind ${VALUEGATE_BIND:-127.0.0.1:8000}" in web
    assert '--forwarded-allow-ips="${VALUEGATE_TRUSTED_PROXIES:-127.0.0.1}"' in web
    assert "0.0.0.0" not in web and '"*"' not in web
