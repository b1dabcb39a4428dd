"""The playground in a real browser: Debian's headless chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium")  # Debian's; hidden from PATH, the tests skip
try:
    from playwright.sync_api import sync_playwright
except ImportError:
    sync_playwright = None
_MISSING = (
    'playwright (pip install ".[test]")'
    if sync_playwright is None
    else ("chromium on PATH (apt-get install chromium)" if CHROMIUM is None else None)
)
if _MISSING and os.environ.get("CI", "").lower() not in ("", "0", "false"):
    raise RuntimeError(f"CI must install {_MISSING} for the browser tests")
pytestmark = pytest.mark.skipif(bool(_MISSING), reason=f"needs {_MISSING}")

LECTURE = "exp(exp(u1) + exp(2*u2)) + sigmoid(exp(u1) + exp(2*u2))"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "symgraph", "serve", "--port", str(port)], env=env,
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert "playground at" in proc.stdout.readline()
    yield f"http://127.0.0.1:{port}/"
    proc.kill()
    proc.wait()


@pytest.fixture(scope="module")
def page(server):
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        outside = []

        def guard(route):
            host = urllib.parse.urlsplit(route.request.url).hostname
            if host != "127.0.0.1":
                outside.append(route.request.url)
                route.abort()
            else:
                route.continue_()

        page.route("**/*", guard)
        yield page
        browser.close()
        assert outside == [], f"requests left 127.0.0.1: {outside}"


def _wait_text(page, selector: str, text: str) -> None:
    page.wait_for_function(
        "([s, t]) => document.querySelector(s).textContent.includes(t)", arg=[selector, text]
    )


def test_a_link_reproduces_the_lecture_with_its_picture(page, server):
    query = urllib.parse.urlencode({"f": LECTURE, "at": "u1=1,u2=-1", "mode": "reverse"})
    page.goto(server + "?" + query)
    _wait_text(page, "#derivatives", "47.30340959")
    page.wait_for_selector("#graph svg g.node")
    assert page.locator("#graph svg g.node").count() == 8  # u1, u2, t1..t5, f
    assert page.locator("#latex .katex").count() == 1
    page.locator("#graph svg g.node", has_text="t₃").first.dispatch_event("click")
    _wait_text(page, "#node", "tbar_4*t4 + tbar_5*t5*(1 - t5)")


def test_typing_a_formula_updates_the_page_and_the_url(page, server):
    page.goto(server)
    page.fill("#f", "x**2*y")
    page.fill("#at", "x=3,y=2")
    _wait_text(page, "#derivatives", "∂f/∂x = 2*x*y  = 12")
    assert "f=x**2*y" in urllib.parse.unquote_plus(page.url)


def test_a_parse_error_is_shown_at_its_position(page, server):
    page.goto(server)
    page.fill("#f", "exp(u1 +* 2)")
    page.wait_for_selector("#error:not([hidden])")
    assert page.get_attribute("#error", "data-column") == "9"
    caret = page.text_content("#error").splitlines()[1]
    assert caret.index("^") == 8  # under the '*', the 9th character


def test_a_hostile_formula_is_refused_and_the_server_still_answers(page, server):
    page.goto(server)
    page.fill("#f", "9**9**9**9")
    page.wait_for_selector("#error:not([hidden])")
    assert "too large" in page.text_content("#error")
    page.fill("#f", "sin(x)")
    page.fill("#at", "x=0")
    _wait_text(page, "#derivatives", "∂f/∂x = cos(x)  = 1")


def test_a_link_with_a_derivation_shows_its_checked_lines(page, server):
    lines = [r"t_3 = e^{u_1} + e^{2u_2}", r"\bar u_2 = e^{2u_2} \bar t_3"]
    query = urllib.parse.urlencode({"f": LECTURE, "at": "u1=1,u2=-1", "d": "\n".join(lines)})
    page.goto(server + "?" + query)
    page.wait_for_selector("#derivation tr.first")
    rows = page.locator("#derivation tr")
    assert rows.count() == 2
    assert rows.nth(0).locator(".mark").text_content() == "✓"
    assert rows.nth(1).locator(".mark").text_content() == "✗"
    assert "factor 0.5" in rows.nth(1).text_content()
    assert "first wrong line: 2" in page.text_content("#dsummary")
