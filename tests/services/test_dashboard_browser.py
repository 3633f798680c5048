"""The dashboard in a real browser: Debian's chromium, driven by chromedriver (selenium).

The coordinator serves the simulated week on 127.0.0.1 with an API token; the browser signs
in once with the token, then the page must load without a console error, draw both charts,
narrow the predictions table with the filters, and leave a screenshot at
``$TIPOFF_SCREENSHOT_DIR/dashboard.png`` (default ``.artifacts/`` in the repository).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import service_unavailable
from tests.services.simulated_week import NIGHTS, serve_week

TOKEN = "dashboard-test-token"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--window-size=1400,2200")
SCREENSHOTS = Path(os.environ.get("TIPOFF_SCREENSHOT_DIR")
                   or Path(__file__).resolve().parents[2] / ".artifacts")
WAIT_S = 20


@pytest.fixture(scope="module")
def server(week, tmp_path_factory):
    with serve_week(week, TOKEN, tmp_path_factory.mktemp("models")) as live:
        yield live


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        service_unavailable("Debian chromium and chromium-driver are not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    session = webdriver.Chrome(service=Service(driver), options=options)
    yield session
    session.quit()


def wait_until(browser, condition, message: str):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, WAIT_S, poll_frequency=0.1).until(
        lambda b: condition(b), message=message)


def rows(browser) -> list[list[str]]:
    from selenium.webdriver.common.by import By

    cells = browser.execute_script(
        "return [...document.querySelectorAll('#predictions tbody tr')]"
        ".map(tr => [...tr.children].map(td => td.textContent));")
    return [c for c in cells if len(c) > 1] if cells else []


def set_field(browser, element_id: str, value: str) -> None:
    browser.execute_script(
        "const el = document.getElementById(arguments[0]); el.value = arguments[1];"
        "el.dispatchEvent(new Event('input', {bubbles: true}));", element_id, value)


@pytest.fixture(scope="module")
def signed_in(browser, server):
    from selenium.webdriver.common.by import By

    browser.get(f"{server.url}/")
    wait_until(browser, lambda b: b.current_url.endswith("/dashboard/login"),
               "the dashboard did not send an anonymous browser to the sign-in page")
    browser.find_element(By.NAME, "token").send_keys(TOKEN)
    browser.find_element(By.CSS_SELECTOR, "form button").click()
    wait_until(browser, lambda b: b.execute_script(
        "return Number(document.body.dataset.loaded || 0)") >= 1, "the dashboard never loaded")
    return browser


def test_the_cookie_the_sign_in_sets_is_http_only_and_same_site(signed_in):
    [cookie] = [c for c in signed_in.get_cookies() if c["name"] == "tipoff_session"]
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    assert signed_in.execute_script("return document.cookie") == ""


def test_the_page_loads_with_no_console_error_and_draws_both_charts(signed_in):
    from selenium.webdriver.common.by import By

    bars = signed_in.find_elements(By.CSS_SELECTOR, "#latency-chart svg rect.latency")
    dots = signed_in.find_elements(By.CSS_SELECTOR, "#coverage-chart svg circle.sla")
    assert len(bars) == NIGHTS - 1  # the night without stage 4 has no latency
    assert len(dots) == 30  # the default window: the week and the nights before it
    assert len(signed_in.find_elements(By.CSS_SELECTOR, "#coverage-chart circle.met")) == 6
    missed = signed_in.find_elements(By.CSS_SELECTOR, "#coverage-chart circle.missed")
    assert len(missed) >= 1  # the night stage 4 never ran (and game nights before the week)
    assert signed_in.find_element(By.ID, "state").text == "complete"
    assert len(signed_in.find_elements(By.CSS_SELECTOR, "#edges tbody tr")) == 10
    errors = [e for e in signed_in.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []


def test_the_filters_narrow_the_predictions_table(signed_in):
    everything = rows(signed_in)
    assert len(everything) > 50
    set_field(signed_in, "f-recommendation", "OVER")
    set_field(signed_in, "f-confidence", "60")
    narrowed = rows(signed_in)
    assert 0 < len(narrowed) < len(everything)
    assert {r[8] for r in narrowed} == {"OVER"} and min(float(r[7]) for r in narrowed) >= 60
    set_field(signed_in, "f-recommendation", "")
    set_field(signed_in, "f-confidence", "0")
    player = everything[0][0]
    set_field(signed_in, "f-search", player)
    assert {r[0] for r in rows(signed_in)} == {player}
    set_field(signed_in, "f-search", "")
    assert len(rows(signed_in)) == len(everything)


def test_a_screenshot_of_the_dashboard_is_saved(signed_in):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / "dashboard.png"
    signed_in.execute_script("window.scrollTo(0, 0)")
    assert signed_in.save_screenshot(str(path))
    assert path.stat().st_size > 10_000
