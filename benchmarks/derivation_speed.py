"""symgraph's own derivation speed, cold: to compare two versions of symgraph side by side.

For each family (``families.py``) at a few sizes: build the graph from SymPy objects and
from text, sweep in reverse and forward mode, take the closed-form gradient, evaluate at a
point and compile — each timed cold (SymPy's cache emptied), best of ``--rounds``. Run it
with one checkout on ``PYTHONPATH``, then with the other, on an idle machine:

    PYTHONPATH=/path/to/old python benchmarks/derivation_speed.py --out /tmp/old.json
    PYTHONPATH=$PWD        python benchmarks/derivation_speed.py --out /tmp/new.json \\
        --compare /tmp/old.json
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import sys
import time
from pathlib import Path

from sympy.core.cache import clear_cache

sys.path.insert(0, str(Path(__file__).resolve().parent))

from families import FAMILIES

import symgraph as sg

SIZES = {"lecture": (1,), "MLP": (4, 8), "chain": (10, 50), "Rosenbrock": (100, 500)}
#: Largest size whose closed-form gradient is timed (it grows fast with the size).
CLOSED_FORMS = {"lecture": 1, "MLP": 4, "chain": 0, "Rosenbrock": 100}


def cold(fn, rounds: int) -> float:
    best = math.inf
    for _ in range(rounds):
        clear_cache()
        gc.collect()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def cases(fam, n: int) -> dict:
    source = fam.source(n)
    text = str(source) if not hasattr(source, "lines") else None
    g = sg.graph(source)
    x = g.inputs[0]
    at = {v: 0.5 + 0.01 * i for i, v in enumerate(g.inputs)}
    rv = g.reverse()
    jobs = {
        "graph (SymPy objects)": lambda: sg.graph(source),
        "reverse sweep": lambda: sg.graph(source).reverse().adjoints,
        "forward sweep": lambda: sg.graph(source).forward(x).tangents,
        "compile": lambda: sg.compile(sg.graph(source).reverse()),
    }
    if len(g.steps) <= 500:  # evaluation is step by step in SymPy floats: slow on big graphs
        jobs["evaluate (reverse)"] = lambda: rv.evaluate(at)
    if text is not None and len(text) < 20_000:
        jobs["graph (text)"] = lambda: sg.graph(text)
    if n <= CLOSED_FORMS[fam.name]:
        jobs["closed-form gradient"] = lambda: sg.graph(source).gradient()
    return jobs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--compare", type=Path, help="an earlier --out file to compare with")
    args = parser.parse_args()
    results = {}
    before = json.loads(args.compare.read_text()) if args.compare else {}
    print("| case | before (s) | after (s) | after/before |" if before else "| case | seconds |")
    print("|---|---|---|---|" if before else "|---|---|")
    for fam in FAMILIES:
        for n in SIZES[fam.name]:
            for job, fn in cases(fam, n).items():
                case = f"{fam.name} {n}: {job}"
                t = results[case] = cold(fn, args.rounds)
                if case in before:
                    ratio = t / before[case]
                    print(f"| {case} | {before[case]:.4f} | {t:.4f} | {ratio:.2f} |", flush=True)
                else:
                    print(f"| {case} | {t:.4f} |", flush=True)
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
