"""The static playground (``symgraph playground build``): symgraph in the browser with
Pyodide, served by a plain static server, in Debian's headless chromium via Playwright."""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import subprocess
import sys
import threading
import urllib.parse
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from symgraph.serve.static_build import BuildError, build_site, check_site

# the browser: as tests/test_serve_browser.py finds it (CI=1: a missing one fails)
from .test_serve_browser import _MISSING, CHROMIUM, LECTURE, ROOT, _wait_text, sync_playwright

CI = os.environ.get("CI", "").lower() not in ("", "0", "false")
needs_browser = pytest.mark.skipif(bool(_MISSING), reason=f"needs {_MISSING}")
SLOW = 180_000  # ms: a cold Pyodide start on a slow, shared machine (10-30 s seen)


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """One build for the session; npm and pip fill the user's cache the first time only."""
    out = tmp_path_factory.mktemp("site")
    try:
        build_site(out)
    except BuildError as err:
        if CI:  # CI installs npm (.ci/run): a build that cannot fetch Pyodide is a failure
            pytest.fail(f"the static build failed: {err}")
        pytest.skip(f"cannot build the static site here: {err}")
    return out


def test_the_site_has_every_file_and_bytecode_this_python_reads(site):
    assert check_site(site) == []
    with zipfile.ZipFile(next((site / "static" / "wheels").glob("symgraph-*.whl"))) as whl:
        names = set(whl.namelist())
        source = whl.read("symgraph/serve/api.py")
        pyc = whl.read(importlib.util.cache_from_source("symgraph/serve/api.py"))
    assert "symgraph/serve/static/app.js" not in names  # the page is the site's, not Python's
    assert pyc[:4] == importlib.util.MAGIC_NUMBER  # CPython 3.11's, as Pyodide 0.25's
    assert int.from_bytes(pyc[4:8], "little") == 0b01  # hash-based, unchecked
    assert pyc[8:16] == importlib.util.source_hash(source)
    with zipfile.ZipFile(next((site / "static" / "wheels").glob("sympy-*.whl"))) as whl:
        assert not [n for n in whl.namelist() if "/tests/" in n]
        assert "sympy/__init__.py" in whl.namelist()
    page = (site / "index.html").read_text()
    assert page.index("pyodide-backend.js") < page.index("static/app.js")


def _build(tmp_path: Path, *args: str, path: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    if path is not None:
        env["PATH"] = path
    cmd = [sys.executable, "-m", "symgraph", "playground", "build", str(tmp_path / "out"), *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)


def test_without_npm_the_cli_says_what_to_install_in_one_line(tmp_path):
    done = _build(tmp_path, path=str(tmp_path))  # an empty PATH: no npm, an empty cache
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "apt-get install npm" in done.stderr and "--pyodide DIR" in done.stderr


def test_a_folder_without_the_wheels_is_refused_in_one_line(tmp_path, site):
    done = _build(tmp_path, "--pyodide", str(site / "static" / "pyodide"), "--wheels", "/")
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "--wheels / has no wheel of sympy" in done.stderr


def test_the_cli_builds_from_local_copies_offline(tmp_path, site):
    wheels = site / "static" / "wheels"
    local = ("--pyodide", str(site / "static" / "pyodide"), "--wheels", str(wheels))
    done = _build(tmp_path, *local, "--no-precompile", path=str(tmp_path))  # no npm, no pip
    assert done.returncode == 0, done.stderr
    assert "(not precompiled); serve it with: python -m http.server -d" in done.stdout
    assert check_site(tmp_path / "out") == []
    with zipfile.ZipFile(next((tmp_path / "out/static/wheels").glob("sympy-*.whl"))) as whl:
        assert not [n for n in whl.namelist() if "__pycache__" in n]  # sources only, as asked


@pytest.fixture(scope="module")
def static_server(site):
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=site))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def page(static_server):
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        page.set_default_timeout(SLOW)
        outside, seen = [], []

        def guard(route):
            host = urllib.parse.urlsplit(route.request.url).hostname
            if host != "127.0.0.1":
                outside.append(route.request.url)
                route.abort()
            else:
                route.continue_()

        page.route("**/*", guard)
        page.on("request", lambda r: seen.append(r.url))
        page.seen = seen
        yield page
        browser.close()
        assert outside == [], f"requests left 127.0.0.1: {outside}"
        # the worker's requests too (Pyodide runs in a Web Worker): all seen, all local
        assert any(u.endswith(".wasm") for u in seen)
        assert {urllib.parse.urlsplit(u).hostname for u in seen} == {"127.0.0.1"}


@needs_browser
def test_a_link_shows_the_lecture_from_the_static_site(page, static_server):
    query = urllib.parse.urlencode({"f": LECTURE, "at": "u1=1,u2=-1", "mode": "reverse"})
    page.goto(static_server + "?" + query)
    _wait_text(page, "#status", "loading Python")  # shown while Pyodide starts
    _wait_text(page, "#derivatives", "47.30340959")
    page.wait_for_selector("#graph svg g.node")
    assert page.locator("#graph svg g.node").count() == 8  # u1, u2, t1..t5, f
    assert page.locator("#latex .katex").count() == 1
    assert "needs NumPy" in page.text_content("#code")
    status = page.text_content("#status")
    assert "ready" in status and "finite differences need it" in status
    wheels = [u for u in page.seen if u.endswith(".whl")]
    assert any("/static/wheels/sympy-" in u for u in wheels)  # from the site itself


@needs_browser
def test_the_static_site_shows_a_parse_error_at_its_position(page, static_server):
    if "?" not in page.url:  # run alone: start Python first
        page.goto(static_server)
    _wait_text(page, "#status", "ready")
    page.fill("#f", "exp(u1 +* 2)")
    page.wait_for_selector("#error:not([hidden])")
    assert page.get_attribute("#error", "data-column") == "9"
    page.fill("#f", "x**2*y")
    page.fill("#at", "x=3,y=2")
    _wait_text(page, "#derivatives", "∂f/∂x = 2*x*y  = 12")


@needs_browser
def test_a_formula_past_the_budget_is_stopped_and_python_restarts(page, static_server):
    if "?" not in page.url:
        page.goto(static_server)
    _wait_text(page, "#status", "ready")
    page.evaluate("window.SYMGRAPH_BUDGET = 0.5")  # as tests/test_serve_api.py's worker
    page.fill("#at", "")
    page.fill("#f", "*".join(f"sin(x{i} + x{i + 1})" for i in range(150)))
    _wait_text(page, "#error", "took longer than 0.5 s")
    page.evaluate("window.SYMGRAPH_BUDGET = 120")  # the restart's cold start is not timed
    page.fill("#f", "sin(x)")
    page.fill("#at", "x=0")
    _wait_text(page, "#derivatives", "∂f/∂x = cos(x)  = 1")
    assert "ready" in page.text_content("#status")


@needs_browser
def test_numpy_is_fetched_from_pyodides_index_only_when_asked(page, static_server, site):
    # offline here: the CDN is answered by the test, with a 404, and the page says so (a
    # context of its own, so the module page's guard against requests off 127.0.0.1 holds)
    lock = json.loads((Path(site) / "static/pyodide/pyodide-lock.json").read_text())
    wheel = lock["packages"]["numpy"]["file_name"]
    expected = f"https://cdn.jsdelivr.net/pyodide/v{lock['info']['version']}/full/{wheel}"
    context = page.context.browser.new_context()
    asking = context.new_page()
    asking.set_default_timeout(SLOW)
    outside = []

    def guard(route):
        if urllib.parse.urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            outside.append(route.request.url)
            route.fulfill(status=404, body="not here")

    context.route("**/*", guard)
    asking.goto(static_server)
    _wait_text(asking, "#status", "ready")
    assert outside == []  # nothing off the site before the person asks
    asking.click("#load-numpy")
    _wait_text(asking, "#status", "NumPy could not be loaded")
    assert outside == [expected]
    assert asking.locator("#load-numpy").count() == 1  # asked again, it tries again
    context.close()
