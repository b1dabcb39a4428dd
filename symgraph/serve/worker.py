"""The API in a child process with a time budget: a hostile formula cannot wedge the server.

The child (``python -m symgraph.serve.worker``) reads one JSON request a line and writes
one JSON response a line. :class:`Worker` keeps one warm child; a request that outlives
its budget kills the child (the next request starts a fresh one) and gets an error.
"""

from __future__ import annotations

import json
import select
import subprocess
import sys
import threading

#: Seconds a request may take before its child is killed.
TIME_BUDGET = 10.0
#: Bytes of memory a child may use (a formula that would expand without end fails fast).
MEMORY_BUDGET = 2 * 1024**3


class Worker:
    """One warm child process; requests take turns (the lock) within the time budget."""

    def __init__(self, budget: float = TIME_BUDGET) -> None:
        self.budget = budget
        self._lock = threading.Lock()
        self._child = self._start()

    @staticmethod
    def _start() -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "symgraph.serve.worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8",
        )  # fmt: skip

    def run_json(self, request: str) -> str:
        """The API's answer to ``request`` (one JSON text), or an error past the budget."""
        line = json.dumps(request)  # one line, whatever the request holds
        with self._lock:
            if self._child.poll() is not None:
                self._child = self._start()
            try:
                self._child.stdin.write(line + "\n")
                self._child.stdin.flush()
                ready, _, _ = select.select([self._child.stdout], [], [], self.budget)
                answer = self._child.stdout.readline() if ready else ""
            except (BrokenPipeError, OSError):
                answer = ""
            if answer:
                return answer.rstrip("\n")
            self._child.kill()
            self._child.wait()
            self._child = self._start()
        message = f"this formula took longer than {self.budget:g} s (or too much memory)"
        return json.dumps({"ok": False, "error": {"message": message}})

    def close(self) -> None:
        self._child.kill()
        self._child.wait()


def main() -> None:
    """The child: limits, then one response line per request line."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BUDGET, MEMORY_BUDGET))
    except (ImportError, ValueError, OSError):  # not on every platform
        pass
    from .api import run_json

    for line in sys.stdin:
        try:
            answer = run_json(json.loads(line))
        except MemoryError:
            answer = json.dumps({"ok": False, "error": {"message": "out of memory"}})
        sys.stdout.write(answer + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
