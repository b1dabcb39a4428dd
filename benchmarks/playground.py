"""``symgraph serve``: cold process start to the first API result (issue 14; aim < 1 s).

Run: ``PYTHONPATH=. python benchmarks/playground.py [--repeat 3]``. Each round starts a
fresh ``python -m symgraph serve`` on a free port and POSTs the lecture's example to
``/api/run`` as soon as the port answers; it prints the wall time from the spawn to the
result (which includes the worker child's own start).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    for i in range(args.repeat):
        listening, done = first_result()
        print(f"round {i + 1}: listening {listening:.2f} s, first result {done:.2f} s")


if __name__ == "__main__":
    main()
