"""The API reference pages render in a real browser under the Content-Security-Policy, from our own
static files only."""

from __future__ import annotations

import pytest

from tests.browser.chromium import needs_chromium, screenshot, wait_for

REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), needs_chromium]


def test_redoc_shows_the_api_with_nothing_refused_and_nothing_fetched_elsewhere(live_server, browser):
    browser.get(f"{live_server.url}/api/redoc/")
    # Redoc renders the schema's title once it has read it: it loaded, ran and styled itself.
    title = wait_for(browser, ".api-info h1")
    assert "ValueGate API" in title.text
    assert "Something went wrong" not in browser.page_source
    screenshot(browser, "api-redoc")
    # Redoc's sidebar footer always asks for its maker's logo from cdn.redoc.ly; the policy refuses
    # it, and Redoc then shows the footer's words alone. Nothing else may be refused or fail.
    problems = [
        entry["message"]
        for entry in browser.get_log("browser")
        if (entry["level"] == "SEVERE" or "Content Security Policy" in entry["message"])
        and REDOC_LOGO not in entry["message"]
    ]
    assert problems == []
    # Resource timing lists what the page asked for, the logo the policy refused included.
    elsewhere = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
        ".filter(url => !url.startsWith(location.origin) && !url.startsWith('blob:') && !url.startsWith('data:'))"
    )
    assert elsewhere in ([], [REDOC_LOGO])
