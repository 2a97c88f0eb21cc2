"""The browser the browser tests drive (tests/browser/chromium.py)."""

from __future__ import annotations

import pytest

from tests.browser.chromium import CHROMEDRIVER, CHROMIUM


@pytest.fixture
def browser(tmp_path):
    driver = _chromium(tmp_path)
    yield driver
    driver.quit()


@pytest.fixture
def chinese_browser(tmp_path):
    """A browser whose person reads Simplified Chinese: it asks for zh-CN first."""
    driver = _chromium(tmp_path, accept_languages="zh-CN,zh")
    yield driver
    driver.quit()


def _chromium(tmp_path, accept_languages: str = ""):
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--window-size=1400,1100",
    ):
        options.add_argument(argument)
    if accept_languages:
        options.add_argument(f"--lang={accept_languages.split(',')[0]}")
        options.add_experimental_option("prefs", {"intl.accept_languages": accept_languages})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.implicitly_wait(0)
    return driver
