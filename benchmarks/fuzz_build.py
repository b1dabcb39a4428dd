"""Fuzz the parser and the graph builder with random nested formulas; report the worst times.

Each formula is 40-100 characters over the parser's whole function set (nested calls,
powers, sums, products, max/min, where), the kind of short valid input on which SymPy's
assumption system used to run for minutes. Every formula is parsed and built into a graph
under a per-formula alarm; the worst times and any failure that is not a ``ValueError``
are printed. A measurement, not a test (issue 9): run it by hand.

    PYTHONPATH=$PWD python benchmarks/fuzz_build.py --n 3000 --seed 1 --timeout 20
    PYTHONPATH=$PWD python benchmarks/fuzz_build.py --n 3000 --style chain
"""

from __future__ import annotations

import argparse
import random
import signal
import time

import symgraph as sg

UNARY = [
    *["exp", "log", "ln", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh"],
    *["tanh", "sqrt", "abs", "sigmoid", "relu", "softplus", "sign", "heaviside"],
]
VARIABLES = ["x", "y", "z"]


def formula(rng: random.Random, depth: int = 0) -> str:
    """A random formula; deeper levels favour nested calls, the known slow shape."""
    r = rng.random()
    if depth > 12 or (depth > 2 and r < 0.15):
        return rng.choice(VARIABLES * 6 + ["2", "0.5", "3"])  # constants: mostly refused
    if r < 0.55:
        return f"{rng.choice(UNARY)}({formula(rng, depth + 1)})"
    if r < 0.7:
        return f"({formula(rng, depth + 1)})**{rng.choice(['2', '3', '-1', '0.5', 'y'])}"
    if r < 0.85:
        op = rng.choice(["+", "-", "*", "/"])
        return f"({formula(rng, depth + 1)} {op} {formula(rng, depth + 1)})"
    if r < 0.93:
        name = rng.choice(["max", "min"])
        return f"{name}({formula(rng, depth + 1)}, {formula(rng, depth + 1)})"
    cond = f"{formula(rng, depth + 1)} > {rng.choice(VARIABLES)}"
    return f"where({cond}, {formula(rng, depth + 1)}, {formula(rng, depth + 1)})"


def chain(rng: random.Random, high: int = 100) -> str:
    """A chain of calls, each maybe raised to a power or mixed with a variable: the shape of
    the issue's slow examples (``sinh(sinh(...(log(x))**2...)**2)``)."""
    text = rng.choice(["x", "log(x + y)", "sqrt(x)", "exp(y)", "x + y"])
    while True:
        wrapped = f"{rng.choice(UNARY)}({text})"
        r = rng.random()
        if r < 0.4:
            wrapped = f"{wrapped}**{rng.choice(['2', '3', '-1', '0.5'])}"
        elif r < 0.55:
            wrapped = f"({wrapped} {rng.choice('+-*/')} {rng.choice(VARIABLES)})"
        if len(wrapped) > high:
            return text
        text = wrapped


def sample(rng: random.Random, style: str, low: int = 40, high: int = 100) -> str:
    while True:
        text = formula(rng) if style == "tree" else chain(rng, high)
        if low <= len(text) <= high:
            return text


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout


def measure(text: str, timeout: int) -> tuple[float, str]:
    """Seconds to parse and build ``text`` and the outcome (ok, ValueError, timeout, bug)."""
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(timeout)
    start = time.perf_counter()
    try:
        sg.graph(text)
        outcome = "ok"
    except Timeout:
        outcome = "timeout"
    except ValueError as exc:
        outcome = f"refused: {type(exc).__name__}"
    except Exception as exc:  # that is what the fuzz looks for
        outcome = f"BUG {type(exc).__name__}: {exc}"
    finally:
        signal.alarm(0)
    return time.perf_counter() - start, outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000, help="formulas to try")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=int, default=20, help="seconds per formula")
    parser.add_argument("--show", type=int, default=5, help="slowest formulas to print")
    parser.add_argument("--style", choices=["tree", "chain"], default="tree")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    results, bugs, refused = [], [], 0
    for _ in range(args.n):
        text = sample(rng, args.style)
        seconds, outcome = measure(text, args.timeout)
        results.append((seconds, text, outcome))
        refused += outcome.startswith("refused")
        if outcome.startswith(("BUG", "timeout")):
            bugs.append((text, outcome))
    results.sort(reverse=True)
    total = sum(s for s, _, _ in results)
    print(f"{args.n} formulas, {refused} refused with a ValueError, total {total:.1f} s")
    for seconds, text, outcome in results[: args.show]:
        print(f"{seconds:8.3f} s  {outcome:10.10}  {text}")
    for text, outcome in bugs:
        print(f"{outcome}: {text}")


if __name__ == "__main__":
    main()
