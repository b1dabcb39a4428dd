"""Issue 9's examples through every public entry point: the answer and its time, worst first.

Each case is run once, in this process, under a 60 s alarm; it prints what came back (a
result, or a ``ValueError`` subclass and its message) and how long it took. A case that
raises anything but a ``ValueError`` or runs into the alarm is listed at the end as a
failure. Timings are the user's view (cold for each formula, SymPy's cache included);
the unit tests assert the answers, never the times.

    python benchmarks/hostile_examples.py
"""

from __future__ import annotations

import itertools
import json
import signal
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import sympy

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import symgraph as sg
from symgraph.functions import msum

LIMIT = 60


def grad(src, at, **kw):
    return dict(sg.graph(src, **kw).reverse().evaluate(at).gradient)


def _nest(depth: int) -> str:
    text = "log(x)"
    for _ in range(depth):
        text = f"sinh({text})**2"
    return text


def _doubling(n: int) -> str:
    names = [f"v{k}" for k in range(n)]
    lines = ["v0 = x*y + x"] + [f"{b} = {a}*{a} + {a}" for a, b in itertools.pairwise(names)]
    return "\n".join(lines)


def _network(layers: int) -> tuple[str, dict]:
    lines = ["h0 = x", *(f"h{k} = tanh(W{k}*h{k - 1})" for k in range(1, layers + 1))]
    shapes = {"x": (2, 1), **{f"W{k}": (2, 2) for k in range(1, layers + 1)}}
    return "\n".join([*lines, f"f = sum(h{layers})"]), shapes


def _document(change) -> str:
    data = json.loads(sg.to_json(sg.graph("x*y").reverse()))
    change(data)
    return json.dumps(data)


def _adjoints_42(d):
    d["adjoints"] = [[n, ["Integer", 42]] for n, _ in d["adjoints"]]


def _positive(d):
    d["graph"]["nodes"][0]["symbol"] = ["Symbol", "x", {"positive": True}]


def _print_str(d):
    d["graph"]["nodes"][-1]["expr"] = ["Function", "print", ["Str", "pwned"]]


def _power_bomb(d):
    d["graph"]["nodes"][-1]["expr"] = ["Pow", ["Integer", 3], ["Integer", 10**9]]


A = "abs(cosh(cosh(tanh(sqrt(sinh(exp(sqrt(tanh((log(x + y)**3 + x)))**2))))**3)**2))"
MAX10 = "max(" + ",".join(f"{i}*x+{i + 1}*y" for i in range(1, 11)) + ")"
MAX8 = "max(" + ",".join(f"x{i}" for i in range(8)) + ")"
PRODUCT = sympy.Mul(*sympy.symbols("x0:1000", real=True))
NET, SHAPES = _network(50)
CODE = "__import__('os').system('touch /tmp/symgraph-pwned')"

CASES = {
    # kinks decided exactly
    "relu'(1e-13)": lambda: grad("relu(x)", {"x": 1e-13}),
    "|x|' at 5e-13": lambda: grad("abs(x)", {"x": 5e-13}),
    "max(1, 1 + 5e-13)": lambda: grad("max(x, y)", {"x": 1, "y": 1 + 5e-13}),
    "min(1e6, 1e6 + 1e-7)": lambda: grad("min(x, y)", {"x": 1e6, "y": 1e6 + 1e-7}),
    # honest check
    "check 2x + sin(1000 pi x)": lambda: sg.check("x**2", {"x": "2*x + sin(1000*pi*x)"}).ok,
    "check 2x + relu(x - 3)": lambda: sg.check("x**2", {"x": "2*x + relu(x - 3)"}).ok,
    # honest numbers
    "where(max(x, y) <= x, x, y)": lambda: grad(
        "where(max(x, y) <= x, x, y)", {"x": 0.3, "y": 0.1}
    ),
    "where(exp(sign(x)) < e, y, 2y)": lambda: (
        sg.graph("where(exp(sign(x)) < e, y, 2*y)").evaluate({"x": 1, "y": 1}).outputs["f"]
    ),
    "x^20.5 at -0.1": lambda: grad("x^20.5", {"x": -0.1}),
    "sqrt(x) at -1e-30": lambda: grad("sqrt(x)", {"x": -1e-30}),
    "x/x at 0": lambda: grad("x/x", {"x": 0}),
    "log(x) - log(x) at -1": lambda: grad("log(x) - log(x)", {"x": -1}),
    "sqrt(x)^2 at -4": lambda: grad("sqrt(x)^2", {"x": -4}),
    "log(x, 0)": lambda: grad("log(x, 0)", {"x": 2}),
    "point inf": lambda: grad("x**2", {"x": float("inf")}),
    "point '1'": lambda: grad("x**2", {"x": "1"}),
    "point True": lambda: grad("x**2", {"x": True}),
    "point 10**400": lambda: grad("x**2", {"x": 10**400}),
    "softplus(1)*x": lambda: grad("softplus(1)*x", {"x": 2}),
    "where(x > 0, log(x), 0) at -1": lambda: grad("where(x > 0, log(x), 0)", {"x": -1}),
    "exp(x) at 1e20": lambda: grad("exp(x)", {"x": 1e20}),
    "a bare \\r": lambda: sg.graph("x +\r y"),
    # compiled code agrees with evaluate
    "compile x**(1/3) at -8.0": lambda: sg.compile(sg.graph("x**(1/3)").reverse())(-8.0),
    "compile cos(x^y) at (-1, 0.5)": lambda: sg.compile(sg.graph("cos(x^y)").reverse())(-1.0, 0.5),
    "compile 1/x at 0": lambda: sg.compile(sg.graph("1/x").reverse())(0.0),
    "compile 0^x + x": lambda: sg.compile(sg.graph("0^x + x").reverse())(1.0),
    "compile x**y at (10, 10**9)": lambda: sg.compile(sg.graph("x**y").reverse())(10, 10**9),
    "compile tau + inf + nan (matrices)": lambda: sg.compile(
        sg.graph(
            "sum(tau + inf + nan)", shapes=dict.fromkeys(("tau", "inf", "nan"), (2, 1))
        ).reverse()
    )(*[np.ones((2, 1))] * 3)[0],
    "compile a matrix forward sweep": lambda: sg.compile(
        sg.graph("W*x", shapes={"W": (2, 2), "x": (2, 1)}).forward(
            {"W": np.ones((2, 2)), "x": np.zeros((2, 1))}
        )
    )(np.eye(2), np.ones((2, 1)))[1][0].ravel(),
    "thorough(seconds=inf)": lambda: sg.thorough(
        sympy.sin(sympy.Symbol("x")), seconds=float("inf")
    ),
    # bounded
    "build + reverse of the 146 s nest": lambda: len(sg.graph(A).reverse().adjoints),
    "to_latex(at=) of the 146 s nest": lambda: len(
        sg.to_latex(sg.graph(A).reverse(), at={"x": 2, "y": 1})
    ),
    "to_latex(at=) of sinh 8 deep": lambda: len(
        sg.to_latex(sg.graph(_nest(8)).reverse(), at={"x": 2})
    ),
    "gradient of a 12-line doubling program": lambda: sg.graph(_doubling(12)).gradient(),
    "check on a 30-line doubling program": lambda: sg.check(_doubling(30), {"x": "y"}).ok,
    "reverse + evaluate, max of 10 args": lambda: grad(MAX10, {"x": 0.3, "y": 0.2}),
    "hessian, max of 8 args": lambda: sg.graph(MAX8).hessian().shape,
    "piecewise of 200 branches": lambda: sg.graph(
        "piecewise(" + ", ".join(f"({i}*x, x < {i})" for i in range(200)) + ", (x, True))"
    ),
    "gradient of a 50-layer matrix network": lambda: len(sg.graph(NET, shapes=SHAPES).gradient()),
    "entrywise of sum(W*W), W 100x100": lambda: sg.entrywise(
        sg.graph("sum(W*W)", shapes={"W": (100, 100)})
    ),
    "shapes W = 10**9 x 10**9": lambda: sg.graph("sum(W)", shapes={"W": (10**9, 10**9)}),
    "reverse + evaluate, 1000-factor product": lambda: len(
        sg.graph(PRODUCT).reverse().evaluate({f"x{i}": 1.0 for i in range(1000)}).gradient
    ),
    "gradient of a 1000-factor product": lambda: sg.graph(PRODUCT).gradient(),
    "closed form sum(sigmoid(W*x + b))/2": lambda: sg.graph(
        "sum(sigmoid(W*x + b))/2", shapes={"W": (3, 2), "x": (2, 1), "b": (3, 1)}
    ).gradient()["b"],
    # JSON and code
    "from_json: adjoints all 42": lambda: sg.from_json(_document(_adjoints_42)),
    "from_json: a positive symbol": lambda: sg.from_json(_document(_positive)),
    "from_json: print(Str)": lambda: sg.from_json(_document(_print_str)),
    "from_json: 3**(10**9)": lambda: sg.from_json(_document(_power_bomb)),
    "compile: SymPy print(Str(...))": lambda: sg.compile(
        sg.graph(sympy.Function("print")(sympy.core.symbol.Str("hi")) + sympy.Symbol("x")).reverse()
    ),
    "compile: a symbol named with code": lambda: sg.compile(
        sg.graph(sympy.Symbol(CODE) * 2).reverse()
    ),
    "msum of a 120-deep SymPy matrix product": lambda: sg.graph(
        msum(_power(sympy.MatrixSymbol("W", 2, 2), sympy.MatrixSymbol("x", 2, 1), 120))
    ),
}


def _power(W, x, n):
    for _ in range(n):
        x = W * x
    return x


def _alarm(*_):
    raise TimeoutError(f"still running after {LIMIT} s")


def run(name, case):
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(LIMIT)
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            answer, failed = repr(case())[:110], False
    except ValueError as exc:
        answer, failed = f"{type(exc).__name__}: {str(exc)[:100]}", False
    except BaseException as exc:  # a failure to report, not to hide
        answer, failed = f"{type(exc).__name__}: {str(exc)[:100]}", True
    finally:
        signal.alarm(0)
    return time.perf_counter() - start, name, answer, failed


def main() -> int:
    rows = sorted((run(name, case) for name, case in CASES.items()), reverse=True)
    for seconds, name, answer, failed in rows:
        print(f"{seconds:7.3f} s  {'FAIL ' if failed else ''}{name}: {answer}")
    failures = [name for _, name, _, failed in rows if failed]
    marker = Path("/tmp/symgraph-pwned").exists()
    print(f"\n{len(rows)} cases, worst {rows[0][0]:.2f} s ({rows[0][1]}); failures: {failures}")
    print(f"marker file created: {marker}")
    return 1 if failures or marker else 0


if __name__ == "__main__":
    sys.exit(main())
