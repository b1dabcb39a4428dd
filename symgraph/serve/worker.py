"""The API in a child process with a time budget: a hostile formula cannot wedge the server.

The child reads one JSON request a line and writes one JSON response a line.
:class:`Worker` keeps one warm child; a request that outlives its budget kills the child
(the next request starts a fresh one) and gets an error. The first child is forked from
the server, which has the library imported already, so the first result does not wait
for a second interpreter to import SymPy; later ones (after a kill, or where forking is
unsafe) are fresh interpreters (``python -m symgraph.serve.worker``).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
from typing import IO

#: Seconds a request may take before its child is killed.
TIME_BUDGET = 10.0
#: Bytes of memory a child may use (a formula that would expand without end fails fast).
MEMORY_BUDGET = 2 * 1024**3


class Worker:
    """One warm child process; requests take turns (the lock) within the time budget."""

    def __init__(self, budget: float = TIME_BUDGET) -> None:
        self.budget = budget
        self._lock = threading.Lock()
        self._child = _Forked() if _may_fork() else self._start()

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


def _may_fork() -> bool:
    """Fork only where it is safe: Linux (macOS's system libraries are not fork-safe),
    and only while this process runs one thread (a fork copies no other thread's locks)."""
    return sys.platform.startswith("linux") and threading.active_count() == 1


class _Forked:
    """A child forked from this process, with the part of ``Popen``'s interface used here.

    The child inherits every imported module (SymPy, NumPy, the API), so it answers its
    first request without importing anything; it leaves with ``os._exit`` so none of the
    parent's cleanup runs twice.
    """

    def __init__(self) -> None:
        requests, self._to_child = os.pipe()
        self._from_child, answers = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the child
            code = 0
            try:
                os.close(self._to_child)
                os.close(self._from_child)
                with (
                    open(requests, encoding="utf-8") as inp,
                    open(answers, "w", encoding="utf-8") as out,
                ):
                    serve_lines(inp, out)
            except BaseException:  # whatever happens, never return to the caller
                code = 1
            os._exit(code)
        os.close(requests)
        os.close(answers)
        self.stdin = os.fdopen(self._to_child, "w", encoding="utf-8")
        self.stdout = os.fdopen(self._from_child, encoding="utf-8")
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def kill(self) -> None:
        if self.poll() is None:
            os.kill(self.pid, signal.SIGKILL)

    def wait(self) -> int:
        if self.returncode is None:
            self.returncode = os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])
        for file in (self.stdin, self.stdout):
            with contextlib.suppress(OSError):  # a pipe whose reader is gone
                file.close()
        return self.returncode


def serve_lines(inp: IO[str], out: IO[str]) -> None:
    """The child's loop: limits, then one response line per request line."""
    # Ctrl-C at the terminal reaches the whole process group: the server stops the child.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BUDGET, MEMORY_BUDGET))
    except (ImportError, ValueError, OSError):  # not on every platform
        pass
    from .api import run_json

    for line in inp:
        try:
            answer = run_json(json.loads(line))
        except MemoryError:
            answer = json.dumps({"ok": False, "error": {"message": "out of memory"}})
        out.write(answer + "\n")
        out.flush()


def main() -> None:
    """``python -m symgraph.serve.worker``: a fresh child over standard input and output."""
    serve_lines(sys.stdin, sys.stdout)


if __name__ == "__main__":
    main()
