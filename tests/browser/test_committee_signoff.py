"""End to end in headless Chromium: four committee members sign the demo customer-service
initiative's scale review in the admin, and the initiative reaches scale.

Screenshots of the queue, the checklist and the dashboard are saved under test-artifacts/.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command

from tests.browser.chromium import ARTIFACTS, needs_chromium, screenshot, wait_for

SERVICE_TITLE = "Customer-service reply assistant"
PASSWORD = "valuegate-demo"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), needs_chromium]


def log_in(driver, base_url: str, username: str, next_path: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{base_url}/admin/login/?next={next_path}")
    wait_for(driver, "#id_username").send_keys(username)
    driver.find_element(By.ID, "id_password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "#login-form [type=submit]").click()
    wait_for(driver, "#user-tools")


def log_out(driver) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    button = driver.find_element(By.CSS_SELECTOR, "#logout-form button")
    button.click()
    # Wait for the page that was showing to go: the logged-out page has a #content too, so waiting
    # for that alone could return at once and let the next log-in race the logout.
    WebDriverWait(driver, 30).until(expected_conditions.staleness_of(button))
    wait_for(driver, "#content")


def test_four_members_sign_the_scale_review_and_the_initiative_reaches_scale(live_server, browser):
    from selenium.webdriver.common.by import By

    from projects.models import Initiative

    call_command("seed_demo", stdout=open("/dev/null", "w"))
    for name in ("queue", "checklist", "dashboard"):
        (ARTIFACTS / f"{name}.png").unlink(missing_ok=True)
    base = live_server.url
    initiative = Initiative.objects.get(title=SERVICE_TITLE)
    page_url = f"{base}/admin/projects/initiative/{initiative.pk}/change/"

    for number, member in enumerate(("business", "legal", "finance", "technical")):
        log_in(browser, base, member, "/admin/governance/gatereview/queue/")
        wait_for(browser, "#queue")
        row = next(
            r for r in browser.find_elements(By.CSS_SELECTOR, "#queue tbody tr") if SERVICE_TITLE in r.text
        )
        assert "Scale gate" in row.text
        if number == 0:
            screenshot(browser, "queue")
        row.find_element(By.LINK_TEXT, "Sign off").click()

        wait_for(browser, "#signoff-form")
        checklist = browser.find_element(By.ID, "signoff-checklist").text
        assert f"Awaiting the {member} sign-off." in checklist
        if number == 3:
            # Last signature: everything but this sign-off holds.
            failing = browser.find_elements(By.CSS_SELECTOR, "#signoff-checklist li.vg-req-fail")
            assert [li.get_attribute("data-code") for li in failing] == ["signoff:technical"]
        browser.find_element(By.CSS_SELECTOR, "input[name=decision][value=approve]").click()
        browser.find_element(By.NAME, "rationale").send_keys(
            "First response time fell from 60 to 37 minutes against a target of 42; the experiment is significant."
        )
        browser.find_element(By.ID, "signoff-submit").click()
        message = wait_for(browser, "ul.messagelist li.success").text
        assert "Your sign-off was recorded" in message

        if number == 2:
            browser.get(page_url)
            wait_for(browser, "#next-gate")
            assert browser.find_element(By.ID, "initiative-stage").get_attribute("data-stage") == "pilot"
            screenshot(browser, "checklist")
        log_out(browser)

    assert "is now in scale" in message
    initiative.refresh_from_db()
    assert initiative.stage == "scale"

    log_in(browser, base, "chair", f"/admin/projects/initiative/{initiative.pk}/change/")
    stage = wait_for(browser, "#initiative-stage")
    assert stage.get_attribute("data-stage") == "scale" and stage.text.lower() == "scale"
    history = browser.find_element(By.ID, "reviews").text
    assert "Scale gate" in history and "— Go" in history
    browser.get(f"{base}/admin/projects/initiative/dashboard/")
    wait_for(browser, "#by-stage svg")
    assert browser.find_element(By.ID, "escalations").is_displayed()
    screenshot(browser, "dashboard")
    for name in ("queue", "checklist", "dashboard"):
        assert (ARTIFACTS / f"{name}.png").stat().st_size > 10_000
    # The pages need no inline script or style: the Content-Security-Policy blocked nothing.
    blocked = [e["message"] for e in browser.get_log("browser") if "Content Security Policy" in e["message"]]
    assert blocked == []
