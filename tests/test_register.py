"""sg.register_function: one call, and the function works on every path."""

from __future__ import annotations

import json

import numpy as np
import pytest
import sympy

import symgraph as sg
from symgraph import ops
from symgraph.rules import RuleError, unregister_partial

x = sympy.Symbol("x", real=True)


@pytest.fixture
def softsign():
    cls = sg.register_function(
        "softsign",
        lambda x: x / (1 + sympy.Abs(x)),
        lambda x: 1 / (1 + sympy.Abs(x)) ** 2,
        numpy=lambda x: x / (1 + np.abs(x)),
    )
    yield cls
    unregister_partial(cls)


@pytest.fixture
def erf():
    cls = sg.register_function("erf", sympy.erf)
    yield cls
    unregister_partial(cls)


def _oracle(definition, at: float) -> float:
    return float(sympy.diff(definition, x).subs(x, at))


def test_a_defined_function_parses_differentiates_and_evaluates(softsign):
    g = sg.graph("softsign(2*x) + x")
    definition = 2 * x / (1 + sympy.Abs(2 * x)) + x
    for at in (-1.5, 0.3, 2.0):
        for sweep in (g.reverse(), g.forward("x")):
            ev = sweep.evaluate({"x": at})
            got = ev.gradient["x"] if hasattr(ev, "gradient") else ev.derivative["f"]
            assert got == pytest.approx(_oracle(definition, at), rel=1e-12)
        assert g.evaluate({"x": at}).outputs["f"] == pytest.approx(float(definition.subs(x, at)))


def test_a_defined_function_compiles_for_floats_and_arrays(softsign):
    rv = sg.graph("softsign(x)*x").reverse()
    fn = sg.compile(rv)
    points = np.array([-2.0, -0.5, 0.25, 3.0])
    value, (grad,) = fn(points)
    for p, v, d in zip(points, value, grad, strict=True):
        ev = rv.evaluate({"x": float(p)})
        assert v == pytest.approx(ev.values["f"], rel=1e-14)
        assert d == pytest.approx(ev.gradient["x"], rel=1e-14)
    assert fn(0.25)[1][0] == pytest.approx(grad[2], rel=1e-14)


def test_a_defined_function_round_trips_json_and_prints_latex(softsign):
    g = sg.graph("softsign(x**2)")
    back = sg.from_json(json.loads(json.dumps(sg.to_json(g))))
    assert back.expand("f") == g.expand("f")
    assert r"\operatorname{softsign}" in sg.to_latex(g.reverse(), at={"x": 1})


def test_a_defined_function_applies_entry_by_entry_to_matrices(softsign):
    g = sg.graph("sum(softsign(W*v))", shapes={"W": (2, 2), "v": (2, 1)})
    W, v = np.array([[1.0, -2.0], [0.5, 3.0]]), np.array([[1.0], [0.5]])
    ev = g.reverse().evaluate({"W": W, "v": v})
    z = W @ v
    assert ev.values["f"] == pytest.approx(float(np.sum(z / (1 + np.abs(z)))))
    expected = (1 / (1 + np.abs(z)) ** 2) @ v.T
    assert np.allclose(ev.gradient["W"], expected, rtol=1e-12)
    assert np.allclose(sg.compile(g.reverse())(W, v)[1][0], expected, rtol=1e-12)


def test_sympys_own_class_gains_a_name_and_every_path(erf):
    g = sg.graph("erf(x)*x")
    ev = g.reverse().evaluate({"x": 0.7})
    assert ev.gradient["x"] == pytest.approx(_oracle(sympy.erf(x) * x, 0.7), rel=1e-12)
    fn = sg.compile(g.reverse())
    assert fn(np.array([0.7]))[1][0][0] == pytest.approx(ev.gradient["x"], rel=1e-14)
    assert fn(0.7)[1][0] == pytest.approx(ev.gradient["x"], rel=1e-14)
    m = sg.graph("sum(erf(W))", shapes={"W": (2, 1)})
    W = np.array([[0.1], [-0.4]])
    grad = m.reverse().evaluate({"W": W}).gradient["W"]
    assert np.allclose(grad, 2 / np.sqrt(np.pi) * np.exp(-(W**2)))


def test_unregistering_takes_the_name_back():
    cls = sg.register_function("bump", lambda x: x**2 / (1 + x**2))
    assert sg.graph("bump(x)").gradient()
    unregister_partial(cls)
    with pytest.raises(sg.ParseError, match="unknown function 'bump'"):
        sg.graph("bump(x)")


def test_a_function_of_two_arguments_with_derived_partials():
    hyp = sg.register_function("hyp", lambda a, b: sympy.sqrt(a**2 + b**2))
    try:
        g = sg.graph("hyp(u, v)")
        grad = g.reverse().evaluate({"u": 3, "v": 4}).gradient
        assert (grad["u"], grad["v"]) == (pytest.approx(0.6), pytest.approx(0.8))
        with pytest.raises(sg.ParseError, match="takes 2"):
            sg.graph("hyp(u)")
    finally:
        unregister_partial(hyp)


def test_a_kink_is_reported_where_the_rule_says():
    leaky = sg.register_function(
        "leaky",
        lambda x: sympy.Max(x, x / 10),
        lambda x: sympy.Piecewise((sympy.Rational(1, 10), x < 0), (1, True)),
        kink=lambda x: (x, (x / 10, x)),
    )
    try:
        rv = sg.graph("leaky(x)").reverse()
        with pytest.warns(sg.KinkWarning, match="the kink of leaky"):
            ev = rv.evaluate({"x": 0})
        assert ev.gradient["x"] == pytest.approx(0.55)  # split: the mean of 0.1 and 1
        with pytest.warns(sg.KinkWarning, match="first piece"):
            assert rv.evaluate({"x": 0}, kink="first").gradient["x"] == pytest.approx(0.1)
        assert rv.evaluate({"x": 2.0}).kinks == ()
        m = sg.graph("sum(leaky(W))", shapes={"W": (2, 1)}).reverse()
        with pytest.warns(sg.KinkWarning, match=r"entries \(1, 0\)"):
            m.evaluate({"W": np.array([[1.0], [0.0]])})
    finally:
        unregister_partial(leaky)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("sin", lambda x: x, "formulas already use it"),
        ("where", lambda x: x, "formulas already use it"),
        ("pi", lambda x: x, "formulas already use it"),
        ("_hidden", lambda x: x, "identifier"),
        ("two words", lambda x: x, "identifier"),
        ("stray", lambda x: x + sympy.Symbol("y"), "its own arguments"),
        ("code", lambda x: sympy.Function("exec")(x), "not an operation symgraph admits"),
        ("noargs", lambda: 1, "at least one argument"),
        ("num", 3, "value must be"),
    ],
)
def test_bad_registrations_are_refused_clearly(name, value, message):
    before = ops.records()
    with pytest.raises(sg.SymgraphError, match=message):
        sg.register_function(name, value)
    assert ops.records() is before  # nothing was registered


def test_registering_a_name_twice_needs_override():
    first = sg.register_function("twice", lambda x: 2 * x)
    try:
        with pytest.raises(RuleError, match="override=True"):
            sg.register_function("twice", lambda x: 3 * x)
        second = sg.register_function("twice", lambda x: 3 * x, override=True)
        assert sg.graph("twice(x)").gradient()[x] == 3
        unregister_partial(second)
    finally:
        unregister_partial(first)


def test_a_graph_keeps_the_function_it_was_built_with(softsign):
    g = sg.graph("softsign(x)")
    fn = sg.compile(g.reverse())
    assert fn(1.0)[1][0] == pytest.approx(0.25)
    assert g.reverse().evaluate({"x": 1}).gradient["x"] == pytest.approx(0.25)


def test_a_refused_override_leaves_the_earlier_function_in_place():
    first = sg.register_function("kept", lambda x: 2 * x)
    with pytest.raises(RuleError, match="its own arguments"):
        sg.register_function("kept", lambda x: x + sympy.Symbol("stray"), override=True)
    assert sg.graph("kept(x)").gradient()[x] == 2
    unregister_partial(first)


def test_compiled_float_code_returns_python_floats_for_a_numpy_only_function(softsign):
    value, (grad,) = sg.compile(sg.graph("softsign(x)*x").reverse())(2.0)
    assert type(value) is float and type(grad) is float
    assert grad == pytest.approx(2 / 3 + 2 / 9)
