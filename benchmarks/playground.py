"""The playground's speed (issue 14): ``symgraph serve`` and the static Pyodide site.

Run: ``PYTHONPATH=. python benchmarks/playground.py [--repeat 3] [--static]``.

- serve (aim < 1 s): each round starts a fresh ``python -m symgraph serve`` on a free port
  and POSTs the lecture's example to ``/api/run`` as soon as the port answers; it prints
  the wall time from the spawn to the result (which includes the worker child's start).
- ``--static`` (aim: cold start < 10 s, a formula < 0.5 s warm): builds the static site
  (``symgraph playground build``, with and without precompiled ``.pyc``), serves it on
  127.0.0.1 and, in a fresh headless chromium each round, times the page load to the
  lecture's first result on the page, then each of a few formulas through the page's
  backend (Pyodide warm: the median of 5 calls of ``SYMGRAPH_BACKEND``).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LECTURE = {"f": "exp(exp(u1) + exp(2*u2)) + sigmoid(exp(u1) + exp(2*u2))", "at": "u1=1,u2=-1"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def first_result() -> tuple[float, float]:
    """Seconds from spawn to the server listening, and to the lecture's first result."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    cmd = [sys.executable, "-m", "symgraph", "serve", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)
    try:
        proc.stdout.readline()  # "symgraph playground at ..."
        listening = time.perf_counter() - start
        body = json.dumps(LECTURE).encode()
        url = f"http://127.0.0.1:{port}/api/run"
        with urllib.request.urlopen(urllib.request.Request(url, body), timeout=60) as r:
            out = json.load(r)
        assert f"{out['derivatives'][0]['value']:.2f}" == "47.30"
        return listening, time.perf_counter() - start
    finally:
        proc.kill()
        proc.wait()


FORMULAS = {  # warm: what a student types next (the page's own examples)
    "lecture": LECTURE,
    "program": {
        "f": "t1 = exp(u1)\nt2 = exp(2*u2)\nt3 = t1 + t2\nf = exp(t3) + sigmoid(t3)",
        "at": "u1=1,u2=-1",
    },
    "kink": {"f": "u1*u2 + max(u1, u2)", "at": "u1=1,u2=1"},
    "product": {"f": "(x + y)*(y + 1)", "at": "x=1,y=2"},
    "forward": {**LECTURE, "mode": "forward", "seed": "u1"},
}


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def static_rounds(site: Path, repeat: int) -> list[tuple[float, float, dict]]:
    """Per round (a fresh chromium): seconds to the first result on the page, of each phase
    of Python's start (runtime, wheels, import), and the warm milliseconds of each formula."""
    from playwright.sync_api import sync_playwright

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=site))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    query = urllib.parse.urlencode({**LECTURE, "mode": "reverse"})
    url = f"http://127.0.0.1:{httpd.server_port}/?{query}"
    rounds = []
    try:
        with sync_playwright() as pw:
            for _ in range(repeat):
                exe = shutil.which("chromium")
                browser = pw.chromium.launch(executable_path=exe, args=["--no-sandbox"])
                page = browser.new_page()
                start = time.perf_counter()
                page.goto(url)
                page.wait_for_function(
                    "document.querySelector('#derivatives').textContent.includes('47.30')",
                    timeout=300_000,
                )
                cold = time.perf_counter() - start
                phases = page.evaluate("window.SYMGRAPH_PHASES")
                rounds.append((cold, phases, _warm(page)))
                browser.close()
    finally:
        httpd.shutdown()
        httpd.server_close()
    return rounds


def _warm(page) -> dict:
    """Median milliseconds of 5 backend calls per formula (after one untimed call)."""
    timing = """async (req) => { await window.SYMGRAPH_BACKEND(req); const out = [];
        for (let i = 0; i < 5; i++) { const t = performance.now();
            const r = await window.SYMGRAPH_BACKEND(req);
            if (!r.ok) throw new Error(JSON.stringify(r.error));
            out.push(performance.now() - t); }
        return out; }"""
    return {name: statistics.median(page.evaluate(timing, req)) for name, req in FORMULAS.items()}


def static_report(repeat: int) -> None:
    from symgraph.serve.static_build import build_site

    for precompile in (True, False):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            info = build_site(tmp, precompile=precompile)
            built = time.perf_counter() - start
            size = sum(f.stat().st_size for f in Path(tmp).rglob("*") if f.is_file()) / 1e6
            what = "precompiled .pyc" if info["precompiled"] else "sources only"
            print(f"static site, {what}: built in {built:.1f} s, {size:.1f} MB")
            for i, (cold, phases, warm) in enumerate(static_rounds(Path(tmp), repeat)):
                each = ", ".join(f"{k} {v:.0f} ms" for k, v in warm.items())
                started = ", ".join(f"{k} {v:.2f} s" for k, v in phases.items())
                print(f"  round {i + 1}: cold start to the first result {cold:.2f} s "
                      f"({started}); warm: {each}")  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--static", action="store_true", help="also the static Pyodide site")
    args = p.parse_args()
    for i in range(args.repeat):
        listening, done = first_result()
        print(f"round {i + 1}: listening {listening:.2f} s, first result {done:.2f} s")
    if args.static:
        static_report(args.repeat)


if __name__ == "__main__":
    main()
