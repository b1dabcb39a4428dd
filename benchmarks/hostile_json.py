"""Time hostile JSON documents through ``from_json`` (issue 9): each must be refused with
a clear JSONFormatError, or load, well within 10 s. A measurement, not a test.

    PYTHONPATH=. python benchmarks/hostile_json.py
"""

from __future__ import annotations

import json
import time

import sympy

import symgraph as sg

X = ["Symbol", "x"]


def with_step(tree) -> str:
    doc = json.loads(sg.to_json(sg.graph("exp(x) + y")))
    doc["graph"]["nodes"][2]["expr"] = tree
    return json.dumps(doc)


def chain(n: int) -> str:
    """A graph of n - 1 steps t_k = sin(t_{k-1})."""
    doc = json.loads(sg.to_json(sg.graph("sin(x)")))
    nodes, prev = [doc["graph"]["nodes"][0]], "x"
    for k in range(1, n):
        name = f"t{k}" if k < n - 1 else "f"
        expr = ["sin", ["Symbol", prev]]
        nodes.append({"id": name, "symbol": ["Symbol", name], "parents": [prev], "expr": expr})
        prev = name
    doc["graph"]["nodes"] = nodes
    return json.dumps(doc)


def product(n: int) -> str:
    return sg.to_json(sg.graph(sympy.Mul(*sympy.symbols(f"x:{n}", real=True))).reverse())


CASES = {
    "3**(10**9)": lambda: with_step(["Pow", ["Integer", 3], ["Integer", 10**9]]),
    "3**(x + 2**1000)": lambda: with_step(
        ["Pow", ["Integer", 3], ["Add", X, ["Pow", ["Integer", 2], ["Integer", 1000]]]]
    ),
    "Max of 500 arguments": lambda: with_step(
        ["Max", *[["Add", X, ["Integer", k]] for k in range(500)]]
    ),
    "a sum of 10**5 terms": lambda: with_step(
        ["Add", *[["Mul", ["Integer", k], X] for k in range(10**5)]]
    ),
    "200,000 expression nodes": lambda: with_step(
        ["Add", *[["exp", ["Mul", ["Integer", k], X]] for k in range(19_999)]]
    ),
    "JSON nested 10**5 deep": lambda: '{"graph": ' + "[" * 10**5 + "]" * 10**5 + "}",
    "a 9,999-node chain (loads)": lambda: chain(9_999),
    "a 10,001-node chain": lambda: chain(10_001),
    "a 250-factor product, reverse (loads)": lambda: product(250),
    "a 316-factor product, reverse": lambda: product(316),
}


def main() -> None:
    for name, make in CASES.items():
        text = make()
        start = time.perf_counter()
        try:
            sg.from_json(text)
            outcome = "loaded"
        except sg.JSONFormatError as exc:
            outcome = f"JSONFormatError: {str(exc)[:70]}"
        print(f"{time.perf_counter() - start:7.2f} s  {name}: {outcome}", flush=True)


if __name__ == "__main__":
    main()
