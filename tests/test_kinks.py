"""Kinks are decided exactly: near a kink the true one-sided derivative, at one a report.

Oracles: sympy.diff of the whole expression evaluated at the point's exact rationals
(Heaviside and sign of nonzero numbers are exact there), and the kind of each kink.
"""

from __future__ import annotations

import warnings
from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symgraph as sg
from symgraph.functions import msum

X, Y = sympy.symbols("x y", real=True)


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sg.KinkWarning)
        return fn(*args, **kwargs)


def both_modes(text, at, **kw):
    """(reverse gradient, forward derivative per input, kinks) at ``at``."""
    g = sg.graph(text)
    rv = _quiet(g.reverse().evaluate, at, **kw)
    fw = {
        x.name: _quiet(g.forward(x).evaluate, at, **kw).derivative[g.outputs[0]] for x in g.inputs
    }
    return {x.name: v for x, v in rv.gradient.items()}, fw, rv.kinks


def exact_gradient(expr, at):
    """sympy.diff of the expression, at the point read as exact rationals."""
    point = {s: sympy.Rational(Fraction(at[s.name])) for s in expr.free_symbols}
    return {s: float(sympy.diff(expr, s).xreplace(point)) for s in expr.free_symbols}


@pytest.mark.parametrize(
    ("text", "at", "expected"),
    [
        ("relu(x)", {"x": 1e-13}, {"x": 1.0}),
        ("relu(x)", {"x": -1e-13}, {"x": 0.0}),
        ("abs(x)", {"x": 5e-13}, {"x": 1.0}),
        ("abs(x)", {"x": -5e-13}, {"x": -1.0}),
        ("max(x, y)", {"x": 1, "y": 1 + 5e-13}, {"x": 0.0, "y": 1.0}),
        ("min(x, y)", {"x": 1e6, "y": 1e6 + 1e-7}, {"x": 1.0, "y": 0.0}),
        ("max(1, x)", {"x": 1 + 5e-13}, {"x": 1.0}),
        ("sign(x) + x", {"x": 1e-300}, {"x": 1.0}),
        ("where(x < 1, x**2, 3*x)", {"x": 1 - 2**-52}, {"x": 2 * (1 - 2**-52)}),
    ],
)
def test_the_issues_near_kink_points_get_the_true_derivative(text, at, expected):
    rv, fw, kinks = both_modes(text, at)
    assert kinks == ()
    for name, value in expected.items():
        assert rv[name] == pytest.approx(value) and fw[name] == pytest.approx(value)


def test_exact_ties_are_kinks_even_where_floats_differ():
    # cos²x + sin²x is exactly 1, but its float at x = 0.1 is 0.9999999999999999
    ev = _quiet(sg.graph("max(cos(x)**2 + sin(x)**2, 1)").evaluate, {"x": 0.1})
    assert ev.values["t5"] != 1.0
    (kink,) = ev.kinks
    assert kink.kind == "a tie of max"


def test_rounding_to_zero_is_not_a_kink():
    # t2 = (x + 1) - 1 rounds to 0.0 at x = 1e-17, but is exactly 1e-17 > 0
    rv, fw, kinks = both_modes("t1 = x + 1\nt2 = t1 - 1\nf = relu(t2)", {"x": 1e-17})
    assert kinks == () and rv["x"] == fw["x"] == 1.0


def test_kink_tol_widens_the_test_on_request():
    ev = _quiet(sg.graph("relu(x)").reverse().evaluate, {"x": 1e-13}, kink_tol=1e-12)
    assert len(ev.kinks) == 1 and ev.gradient["x"] == 0.5
    ev = _quiet(sg.graph("max(x, y)").reverse().evaluate, {"x": 1, "y": 1 + 5e-13}, kink_tol=1e-12)
    assert (ev.gradient["x"], ev.gradient["y"]) == (0.5, 0.5)
    # full precision: the two arguments do not look equal
    assert "x = 1, y = 1.0000000000005" in str(ev.kinks[0])
    fw = _quiet(sg.graph("abs(x)").forward("x").evaluate, {"x": 1e-13}, kink_tol=1e-12)
    assert len(fw.kinks) == 1 and fw.derivative["f"] == 0.0
    gv = sg.graph("abs(x)").evaluate({"x": 1e-13}, kink_tol=1e-12)
    assert len(gv.kinks) == 1


@pytest.mark.parametrize("bad", [-1e-3, float("nan"), float("inf"), "0.1", True, None])
def test_a_bad_kink_tol_is_refused(bad):
    with pytest.raises(sg.EvaluationError, match="kink_tol"):
        sg.graph("relu(x)").reverse().evaluate({"x": 1}, kink_tol=bad)


@pytest.mark.parametrize(
    ("text", "at", "kind"),
    [
        ("max(x, y)", {"x": 2, "y": 2}, "a tie of max"),
        ("min(x, 3)", {"x": 3}, "a tie of min"),
        ("relu(x)", {"x": 0}, "the kink of relu at 0"),
        ("abs(x - 1)", {"x": 1}, "the kink of |x| at 0"),
        ("sign(x) + x", {"x": 0}, "a jump of sign"),
        ("heaviside(x) + x", {"x": 0}, "a jump of Heaviside"),
        ("where(x < 1, x, 2*x)", {"x": 1}, "a Piecewise boundary"),
    ],
)
def test_messages_name_the_kind(text, at, kind):
    with pytest.warns(sg.KinkWarning) as caught:
        ev = sg.graph(text).reverse().evaluate(at)
    (kink,) = ev.kinks
    assert kink.kind == kind and f"at {kind} (" in str(kink)
    assert kind in str(caught[0].message)
    if "relu" in kind:
        assert "jump" not in str(kink) and not kink.jump
    with pytest.raises(sg.KinkError, match=kind.replace("|", r"\|")):
        sg.graph(text).reverse().evaluate(at, kink="raise")


def test_scalar_and_elementwise_paths_share_the_test():
    g = sg.graph("sum(relu(W))", shapes={"W": (3, 1)})
    entries = [1e-13, 0.0, -1e-300]
    ev = _quiet(g.reverse().evaluate, {"W": np.array(entries).reshape(3, 1)})
    (kink,) = ev.kinks
    assert "(1, 0)" in str(kink) and "(0, 0)" not in str(kink) and "(2, 0)" not in str(kink)
    assert kink.kind == "the kink of relu at 0"
    assert ev.gradient["W"].ravel().tolist() == [1.0, 0.5, 0.0]
    scalar = [both_modes("relu(x)", {"x": v})[0]["x"] for v in entries]
    assert scalar == [1.0, 0.5, 0.0]
    wide = _quiet(g.reverse().evaluate, {"W": np.array(entries).reshape(3, 1)}, kink_tol=1e-12)
    assert all(f"({i}, 0)" in str(wide.kinks[0]) for i in range(3))


KINKED = [
    (lambda c: sg.relu(X - c), "relu"),
    (lambda c: sympy.Abs(X - c), "abs"),
    (lambda c: sympy.Max(X, c) + X * Y, "max"),
    (lambda c: sympy.Min(2 * X, Y + c), "min"),
    (lambda c: sympy.Piecewise((X**2, sympy.Lt(X, c)), (3 * X, True)) + Y, "piecewise"),
]


@settings(max_examples=60, deadline=None)
@given(
    which=st.sampled_from(range(len(KINKED))),
    centre=st.sampled_from([0.0, 1.0, -2.5, 1e6]),
    exponent=st.integers(13, 300),
    side=st.sampled_from([-1, 1]),
)
def test_points_near_a_kink_get_the_true_one_sided_derivative(which, centre, exponent, side):
    make, _ = KINKED[which]
    offset = side * 10.0**-exponent
    x = centre + offset
    if x == centre:  # not representable this close to the centre: try it at 0
        centre, x = 0.0, offset
    expr = make(centre)
    at = {s.name: {"x": x, "y": 0.75}[s.name] for s in expr.free_symbols}
    rv, fw, kinks = both_modes(expr, at)
    assert kinks == ()
    for s, value in exact_gradient(expr, at).items():
        assert rv[s.name] == pytest.approx(value, rel=1e-12, abs=1e-300), s
        assert fw[s.name] == pytest.approx(value, rel=1e-12, abs=1e-300), s


@pytest.mark.parametrize(
    "line",
    [
        "t{n} = t{k}*t{k}/2 + t{k}/3",  # exact rationals that double in length each line
        "t{n} = sin(t{k}) + cos(t{k})*t{k}",  # exact values that grow as trees
        "t{n} = relu(sin(t{k}) + t{k}/2 - 0.1) + where(t{k} > y, t{k}, y)",
    ],
)
def test_deep_programs_fall_back_to_floats_beyond_the_exact_budget(line):
    # exact values are built step by step within a budget (never SymPy's closed forms,
    # whose construction can take minutes); beyond it the floats decide
    lines = ["t0 = x + y"] + [line.format(n=k + 1, k=k) for k in range(60)]
    g = sg.graph("\n".join([*lines, "f = relu(t60 - y) + max(t60, y)"]))
    ev = _quiet(g.reverse().evaluate, {"x": 0.7, "y": 0.1})
    fw = _quiet(g.forward("x").evaluate, {"x": 0.7, "y": 0.1})
    assert ev.gradient["x"] == pytest.approx(fw.derivative["f"], rel=1e-9, abs=1e-300)


def test_elementwise_kinks_of_sympy_built_bodies_are_found_at_the_right_entries():
    # Abs(W - 1) built in SymPy: the body is |d - 1|, so the kinks are where W is 1, not 0
    W = sympy.MatrixSymbol("W", 2, 2)
    g = sg.graph(msum(W.applyfunc(lambda e: sympy.Abs(e - 1))))
    at = {"W": np.array([[1.0, 0.0], [2.0, 1.0]])}
    with pytest.warns(sg.KinkWarning, match=r"entries \(0, 0\), \(1, 1\)\)"):
        ev = g.reverse().evaluate(at)
    assert np.allclose(ev.gradient["W"], [[0.0, -1.0], [1.0, 0.0]])  # split: |x|'(0) = 0


def test_a_new_kink_convention_works_on_every_path():
    from symgraph.evaluation.conventions import CONVENTIONS, Convention

    CONVENTIONS["right"] = Convention(
        "right", "right-hand derivative", "the last piece", lambda s: s[-1], 1.0, 1.0, False
    )
    try:
        with pytest.warns(sg.KinkWarning, match="right-hand derivative"):
            scalar = sg.graph("relu(x)").reverse().evaluate({"x": 0}, kink="right")
        assert scalar.gradient["x"] == 1.0
        m = sg.graph("sum(relu(W))", shapes={"W": (2, 1)}).reverse()
        with pytest.warns(sg.KinkWarning):
            grad = m.evaluate({"W": np.array([[0.0], [-1.0]])}, kink="right").gradient["W"]
        assert np.allclose(grad, [[1.0], [0.0]])
        with pytest.raises(sg.SymgraphError, match="compiled code supports kink='split' or 'zero'"):
            sg.compile(m, kink="right")
    finally:
        del CONVENTIONS["right"]
