"""How long the parser takes to refuse hostile input: the timings tests do not assert.

``tests/test_parse.py`` checks that each hostile text (its ``HOSTILE`` table) is refused
with a ``ParseError``; this script measures how long each refusal takes, worst first.

    python benchmarks/hostile_parse.py            # best of 3 runs each
    python benchmarks/hostile_parse.py --rounds 1
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from symgraph.parse import ParseError, parse  # noqa: E402

EXTRA = {
    "exp(exp(exp(1000.0)))": "exp(exp(exp(1000.0)))",
    "exp(exp(exp(1)))": "exp(exp(exp(1)))",
}


def hostile() -> dict[str, tuple[str, dict | None]]:
    """The tables of tests/test_parse.py and tests/test_parse_matrices.py (with its shapes;
    ``tests`` imports as a namespace package)."""
    scalar = importlib.import_module("tests.test_parse").HOSTILE
    matrices = importlib.import_module("tests.test_parse_matrices")
    return {
        **{name: (text, None) for name, text in {**scalar, **EXTRA}.items()},
        **{f"{name} (shapes)": (text, matrices.SHAPES) for name, text in matrices.HOSTILE.items()},
    }


def refusal_time(text: str, shapes: dict | None, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        with contextlib.suppress(ParseError):  # the refusal is what is timed
            parse(text, shapes=shapes)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--rounds", type=int, default=3)
    rounds = options.parse_args().rounds
    times = {name: refusal_time(*case, rounds) for name, case in hostile().items()}
    for name, seconds in sorted(times.items(), key=lambda item: -item[1]):
        print(f"{seconds * 1000:10.1f} ms  {name}")


if __name__ == "__main__":
    main()
