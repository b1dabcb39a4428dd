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
from symgraph.rules import RULES, RuleError, UnsupportedOperationError, local_partial, lookup

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
    return (
        cls.__module__.split(".")[0] in ("sympy", "symgraph")
        and RULES[cls].pull is None
        and RULES[cls].partial is not None
    )


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


# ---------------------------------------------------------------- max and min of many arguments


@pytest.mark.parametrize("n", [2, 3, 4, 12])
@pytest.mark.parametrize("extreme", [Max, Min])
def test_max_min_partials_match_an_oracle_away_from_ties(n, extreme):
    # sympy.diff for a few arguments (it grows exponentially), central differences always
    r = random.Random(n)
    syms = sympy.symbols(f"a0:{n}", real=True)
    expr = extreme(*[(i + 1) * s for i, s in enumerate(syms)])
    h = 1e-7
    for _ in range(3):
        point = {s: sympy.Float(r.uniform(-2, 2)) for s in syms}
        for s in syms:
            ours = float(local_partial(expr, s).xreplace(point))
            if n <= 4:
                assert ours == float(sympy.diff(expr, s).xreplace(point))
            up = float(expr.xreplace({**point, s: point[s] + h}))
            down = float(expr.xreplace({**point, s: point[s] - h}))
            assert ours == pytest.approx((up - down) / (2 * h), abs=1e-6)


def test_reverse_and_hessian_of_a_wide_max_return_the_right_numbers():
    import symgraph as sg

    affine = [i * x + (i + 1) * y + i**2 for i in range(1, 11)]
    g = sg.graph(Max(*affine))
    for at in ({"x": 0.3, "y": -0.7}, {"x": -4.0, "y": 1.5}):
        ev = g.reverse().evaluate(at)
        values = [float(a.subs({x: at["x"], y: at["y"]})) for a in affine]
        i = values.index(max(values)) + 1
        assert (ev.gradient["x"], ev.gradient["y"]) == (i, i + 1)
    hessian = sg.graph(Max(*affine[:8])).hessian()
    assert hessian.shape == (2, 2)
    assert all(float(h.xreplace({x: sympy.Float(0.3), y: sympy.Float(-0.7)})) == 0 for h in hessian)


def test_a_tie_among_many_is_reported():
    import warnings

    import symgraph as sg

    g = sg.graph(Max(*[x + i * y for i in range(10)]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sg.KinkWarning)
        ev = g.reverse().evaluate({"x": 1.0, "y": 0.0})
    (kink,) = ev.kinks
    assert kink.kind == "a tie of max" and len(kink.pieces) == 10
    assert ev.gradient["x"] == pytest.approx(1.0)


# ---------------------------------------------------------------- register_partial is scoped


def _fresh_function():
    class wobble(sympy.Function):
        pass

    return wobble


def test_registering_returns_a_handle_that_undoes_it():
    from symgraph.rules import register_partial, unary

    wobble = _fresh_function()
    handle = register_partial(wobble, unary(lambda a, v: 3 * a))
    assert "wobble" in repr(handle)
    assert local_partial(wobble(x), x) == 3 * x
    handle.undo()
    with pytest.raises(UnsupportedOperationError):
        local_partial(wobble(x), x)
    with pytest.raises(RuleError, match="replaced or removed"):
        handle.undo()


def test_replacing_a_rule_needs_override_and_can_be_undone():
    from symgraph.rules import register_partial, unary, unregister_partial

    with pytest.raises(RuleError, match="override=True"):
        register_partial(exp, unary(lambda a, v: 42))
    assert local_partial(exp(x), x) == exp(x)
    register_partial(exp, unary(lambda a, v: 42 * v), override=True)
    try:
        assert local_partial(exp(x), x) == 42 * exp(x)
    finally:
        unregister_partial(exp)
    assert local_partial(exp(x), x) == exp(x)
    with pytest.raises(RuleError, match="no registered rule"):
        unregister_partial(exp)  # the built-in row stays


def test_a_scoped_rule_holds_inside_its_block_only():
    from symgraph.rules import register_partial, unary

    wobble = _fresh_function()
    with register_partial(wobble, unary(lambda a, v: 2 * a)):
        assert local_partial(wobble(x), x) == 2 * x
    with pytest.raises(UnsupportedOperationError):
        local_partial(wobble(x), x)


def test_a_graph_keeps_the_rules_it_was_built_with():
    import symgraph as sg
    from symgraph.rules import register_partial, unary

    wobble = _fresh_function()
    with register_partial(wobble, unary(lambda a, v: 2 * a)):
        g = sg.graph(wobble(x) * y)  # partials not computed yet
        with register_partial(wobble, unary(lambda a, v: 5 * a), override=True):
            later = sg.graph(wobble(x) * y)
            assert g.gradient()[x] == 2 * x * y
            assert later.gradient()[x] == 5 * x * y
            hessian = g.hessian()  # the gradient program keeps g's rules: symmetric
            assert sympy.simplify(hessian[0, 1] - hessian[1, 0]) == 0
            assert hessian[0, 1] == 2 * x
    assert g.reverse().gradient[x] == 2 * x * y


_X, _Y, _Z = sympy.symbols("x y z", real=True)


@pytest.mark.parametrize(
    "expr",
    [
        _X + _Y,
        _X - 3 * _Y + _Z,
        -_X - _Y,
        _X * _Y,
        -2 * _X * _Y * _Z,
        _X * _Y**2,
        _X**2 + _X * _Y,
        _X / _Y,
        sympy.exp(_X) * _X,
        _X + sympy.Rational(1, 2) * _X * _Y,
    ],
)
def test_the_direct_partials_of_sums_and_products_are_the_rules(expr):
    # the shortcut reads a partial off the arguments; the oracle is sympy.diff
    from symgraph import ops

    for p in (_X, _Y, _Z):
        direct = ops.lookup(type(expr)).direct(expr, p)
        if direct is not None:
            assert direct == local_partial(expr, p) and sympy.expand(direct - expr.diff(p)) == 0
        assert sympy.simplify(local_partial(expr, p) - expr.diff(p)) == 0


def test_a_new_rule_for_products_retires_the_shortcut():
    from symgraph import ops

    def doubled(expr, d):  # a deliberately different rule: twice the product rule
        return 2 * sympy.Add(*[expr / a * d(a) for a in expr.args])

    with ops.register_partial(sympy.Mul, doubled, override=True):
        assert ops.lookup(sympy.Mul).direct is None
        assert local_partial(_X * _Y, _X) == 2 * _Y
    assert local_partial(_X * _Y, _X) == _Y and ops.lookup(sympy.Mul).direct is not None
