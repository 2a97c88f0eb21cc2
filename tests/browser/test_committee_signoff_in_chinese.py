"""End to end in headless Chromium, in Simplified Chinese: the Chinese demo's committee signs the
customer-service initiative's scale review, and the initiative reaches scale, without an English
word from ValueGate on the way.

Screenshots of the queue, the sign-off page, the initiative page and the dashboard, in Chinese,
are saved under test-artifacts/zh-hans/ (CJK text needs a CJK font: .ci/run installs
fonts-noto-cjk).
"""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.utils import translation
from django.utils.translation import gettext as _

from governance.management.demo_content import TEXTS
from tests.browser.chromium import ARTIFACTS, needs_chromium, screenshot, wait_for
from tests.browser.test_committee_signoff import SERVICE_TITLE, log_in, log_out

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), needs_chromium]

SHOTS = ARTIFACTS / "zh-hans"
TITLE = TEXTS["zh-hans"][SERVICE_TITLE]


def shot(driver, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = screenshot(driver, f"zh-hans/{name}")
    assert path.stat().st_size > 10_000


def test_a_chinese_committee_signs_the_scale_review_in_chinese(live_server, chinese_browser):
    browser = chinese_browser
    from selenium.webdriver.common.by import By

    from projects.models import Initiative

    call_command("seed_demo", language="zh-hans", stdout=open("/dev/null", "w"))
    base = live_server.url
    initiative = Initiative.objects.get(title=TITLE)
    page_url = f"{base}/admin/projects/initiative/{initiative.pk}/change/"
    with translation.override("zh-hans"):
        sign_off, scale_gate = _("Sign off"), _("Scale gate")

    # The login page follows the browser; after it, the demo members' saved language (zh-hans).
    browser.get(f"{base}/admin/login/")
    assert "用户名" in wait_for(browser, "#login-form").text and "登录" in browser.title
    for number, member in enumerate(("business", "legal", "finance", "technical")):
        log_in(browser, base, member, "/admin/governance/gatereview/queue/")
        assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-hans"
        wait_for(browser, "#queue")
        row = next(r for r in browser.find_elements(By.CSS_SELECTOR, "#queue tbody tr") if TITLE in r.text)
        assert scale_gate in row.text
        if number == 0:
            shot(browser, "queue")
        row.find_element(By.LINK_TEXT, sign_off).click()

        wait_for(browser, "#signoff-form")
        checklist = browser.find_element(By.ID, "signoff-checklist").text
        with translation.override("zh-hans"):
            from projects.vocabulary import function_name

            assert f"等待{function_name(member)}签核。" in checklist
        if number == 0:
            shot(browser, "signoff")
        browser.find_element(By.CSS_SELECTOR, "input[name=decision][value=approve]").click()
        browser.find_element(By.NAME, "rationale").send_keys(
            "首次响应时间从60分钟降至37分钟，优于42分钟的目标；实验显著。"
        )
        browser.find_element(By.ID, "signoff-submit").click()
        message = wait_for(browser, "ul.messagelist li.success").text
        assert message.startswith("您的签核已记录")
        log_out(browser)

    initiative.refresh_from_db()
    assert initiative.stage == "scale"
    log_in(browser, base, "chair", f"/admin/projects/initiative/{initiative.pk}/change/")
    stage = wait_for(browser, "#initiative-stage")
    assert stage.get_attribute("data-stage") == "scale" and stage.text == "规模化"
    assert "通过" in browser.find_element(By.ID, "reviews").text
    browser.get(page_url)
    wait_for(browser, "#next-gate")
    shot(browser, "initiative")
    browser.get(f"{base}/admin/projects/initiative/dashboard/")
    wait_for(browser, "#by-stage svg")
    shot(browser, "dashboard")
    assert "组合仪表板" in browser.find_element(By.CSS_SELECTOR, "#content").text
