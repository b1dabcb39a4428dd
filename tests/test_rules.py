"""The rule table, row by row, against sympy.diff and central differences."""

from __future__ import annotations

import random

import pytest
import sympy
from sympy import (
    Abs,
    DiracDelta,
    Heaviside,
    Max,
    Min,
    Piecewise,
    acos,
    asin,
    atan,
    cos,
    cosh,
    erf,
    exp,
    log,
    sign,
    sin,
    sinh,
    sqrt,
    tan,
    tanh,
)

from symgraph.functions import relu, sigmoid, softplus
from symgraph.rules import RULES, UnsupportedOperationError, local_partial, lookup

x, y, z = sympy.symbols("x y z", real=True)

#: One or more samples for every row of the table; the guard test below insists.
SAMPLES = {
    sympy.Add: [x + 2 * y - z],
    sympy.Mul: [x * y * z, 3 * x / y],
    sympy.Pow: [x**3, x**y, 2**x, sqrt(x), 1 / x, x**-2.5],
    exp: [exp(x * y)],
    log: [log(x + y)],
    sin: [sin(x * y)],
    cos: [cos(x + y)],
    tan: [tan(x)],
    asin: [asin(x)],
    acos: [acos(x * y)],
    atan: [atan(x - y)],
    sinh: [sinh(x)],
    cosh: [cosh(x * y)],
    tanh: [tanh(x + y)],
    sigmoid: [sigmoid(x - y)],
    softplus: [softplus(x * y)],
    relu: [relu(x - y)],
    Abs: [Abs(x - y)],
    sign: [sign(x - y)],
    Heaviside: [Heaviside(x - y)],
    Max: [Max(x, y), Max(x, y, z * 2)],
    Min: [Min(x, y), Min(x, y * z)],
    Piecewise: [Piecewise((x**2, x < y), (x * y, True))],
    sympy.Function: [erf(x * y)],
    DiracDelta: [DiracDelta(x - y)],
}


def _ours(cls) -> bool:
    # rows users register (the README's swish) are theirs to test; matrix rows (with a
    # pull rule) have their samples in test_matrices.py
    return cls.__module__.split(".")[0] in ("sympy", "symgraph") and RULES[cls].pull is None


def test_every_rule_has_a_sample():
    missing = [cls.__name__ for cls in RULES if _ours(cls) and cls not in SAMPLES]
    assert not missing, f"rules without a sample: {missing}"


def test_samples_exercise_their_rule():
    for cls, samples in SAMPLES.items():
        for e in samples:
            assert isinstance(e, cls), (cls, e)


CASES = [(cls.__name__, e) for cls, samples in SAMPLES.items() for e in samples]


def _points(n=5, seed=7):
    # inside every sample's domain: x, y, z in (0.1, 0.7) and x != y
    r = random.Random(seed)
    return [
        {x: r.uniform(0.1, 0.4), y: r.uniform(0.45, 0.7), z: r.uniform(0.1, 0.7)} for _ in range(n)
    ]


@pytest.mark.parametrize(
    ("name", "expr"), CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)]
)
def test_rule_matches_sympy_diff_and_central_differences(name, expr):
    h = 1e-6
    for point in _points():
        for v in sorted(expr.free_symbols, key=str):
            ours = float(local_partial(expr, v).subs(point).evalf())
            theirs = float(sympy.diff(expr, v).subs(point).evalf())
            assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-12)
            up = float(expr.subs({**point, v: point[v] + h}).evalf())
            down = float(expr.subs({**point, v: point[v] - h}).evalf())
            assert ours == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-6)


def test_rules_reuse_the_value_of_the_step():
    # d e^a = e^a da: the rule returns the expression itself, which the graph names
    assert local_partial(exp(x), x) == exp(x)
    assert local_partial(sigmoid(x), x) == sigmoid(x) * (1 - sigmoid(x))
    assert local_partial(tanh(x), x) == 1 - tanh(x) ** 2


def test_lookup_walks_the_mro():
    class myexp(exp):
        pass

    assert lookup(myexp) is RULES[exp]


def test_unsupported_operation_is_named():
    with pytest.raises(UnsupportedOperationError, match="Integral"):
        lookup(sympy.Integral)
    with pytest.raises(UnsupportedOperationError, match="floor"):
        local_partial(sympy.floor(x), x)
    assert issubclass(UnsupportedOperationError, ValueError)
