"""Numbers at a point: domain errors naming the step, kinks and their conventions."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import symgraph as sg
from symgraph.codegen import compile as compile_sweep


def grad(text, at, kink="split", mode="reverse"):
    g = sg.graph(text)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sg.KinkWarning)
        if mode == "reverse":
            return g.reverse().evaluate(at, kink=kink)
        return g.forward(g.inputs[0]).evaluate(at, kink=kink)


@pytest.mark.parametrize(
    ("text", "at", "match"),
    [
        ("log(x)", {"x": -1}, r"log\(x\).*x = -1.*real domain"),
        ("sqrt(x) + 1", {"x": -4}, r"sqrt\(x\).*real domain"),
        ("1/x", {"x": 0}, r"1/x.*undefined"),
        ("asin(x*y)", {"x": 2, "y": 1}, r"asin.*real domain"),
        ("log(x - y)", {"x": 1, "y": 1}, r"log.*undefined"),
    ],
)
def test_points_outside_the_domain_name_the_step(text, at, match):
    with pytest.raises(sg.EvaluationError, match=match):
        sg.graph(text).reverse().evaluate(at)


def test_derivative_outside_its_domain_is_an_error():
    with pytest.raises(sg.EvaluationError, match="derivative of f = sqrt"):
        sg.graph("sqrt(x)").reverse().evaluate({"x": 0})


def test_bad_points():
    rv = sg.graph("x*y").reverse()
    with pytest.raises(sg.EvaluationError, match="no value given for y"):
        rv.evaluate({"x": 1})
    with pytest.raises(ValueError, match="no node named 'z'"):
        rv.evaluate({"x": 1, "y": 2, "z": 3})
    with pytest.raises(sg.EvaluationError, match="real number"):
        rv.evaluate({"x": "one", "y": 2})
    with pytest.raises(sg.EvaluationError, match="kink must be one of"):
        rv.evaluate({"x": 1, "y": 2}, kink="wild")


def test_results_are_keyed_by_symbols_and_names():
    ev = sg.graph("x*y").reverse().evaluate({"x": 2, "y": 3})
    x = ev.gradient and next(iter(ev.gradient))
    assert ev.gradient[x] == ev.gradient["x"] == 3.0


# The conventions, kink by kink: (split, zero, first)
KINKS = [
    ("relu(x)", {"x": 0.0}, (0.5, 0.0, 0.0)),
    ("abs(x)", {"x": 0.0}, (0.0, 0.0, -1.0)),
    ("max(x, 2 - x)", {"x": 1.0}, (0.0, 0.0, -1.0)),  # the step prints Max(t1, x)
    ("min(x, 3)", {"x": 3.0}, (0.5, 0.0, 0.0)),  # SymPy orders Min(3, x)
    ("where(x < 1, x**2, 2*x - 1 + 3*(x - 1))", {"x": 1.0}, (3.5, 0.0, 2.0)),
]


@pytest.mark.parametrize(("text", "at", "expected"), KINKS)
def test_kink_conventions(text, at, expected):
    for convention, value in zip(("split", "zero", "first"), expected, strict=True):
        for mode in ("reverse", "forward"):
            ev = grad(text, at, convention, mode)
            got = ev.gradient["x"] if mode == "reverse" else ev.derivative["f"]
            assert got == pytest.approx(value), (convention, mode)
            assert len(ev.kinks) == 1 and ev.kink_convention == convention
    with pytest.raises(sg.KinkError, match="kink"):
        sg.graph(text).reverse().evaluate(at, kink="raise")


def test_kinks_are_warned_and_described():
    with pytest.warns(
        sg.KinkWarning,
        match=r"f = relu\(x\) at the kink of relu at 0 \(x = 0\): derivatives split evenly",
    ):
        sg.graph("relu(x)").reverse().evaluate({"x": 0})


def test_jumps_are_reported():
    ev = grad("heaviside(x) + x", {"x": 0.0})
    assert ev.kinks[0].jump and ev.gradient["x"] == 1.0


def test_no_kink_away_from_it():
    assert grad("relu(x)", {"x": 0.5}).kinks == ()
    assert grad("max(x, 1 - x)", {"x": 0.2}).kinks == ()


def test_a_kink_of_a_step_is_reported_even_where_the_function_is_smooth():
    # max(t1, t2) is a kink of the step; x -> max(x², x³) happens to be smooth at 0
    ev = grad("max(x**2, x**3)", {"x": 0.0})
    assert len(ev.kinks) == 1 and ev.gradient["x"] == 0.0


def test_compiled_gradient_matches_evaluate_on_a_batch():
    rv = sg.graph("exp(exp(u1) + exp(2*u2)) + sigmoid(exp(u1) + exp(2*u2))").reverse()
    fn = compile_sweep(rv)
    value, (g1, g2) = fn(np.array([1.0, 0.5]), np.array([-1.0, 0.0]))
    for i, (a, b) in enumerate([(1.0, -1.0), (0.5, 0.0)]):
        ev = rv.evaluate({"u1": a, "u2": b})
        assert value[i] == pytest.approx(ev.values["f"])
        assert (g1[i], g2[i]) == (
            pytest.approx(ev.gradient["u1"]),
            pytest.approx(ev.gradient["u2"]),
        )
    assert "def gradient(u1, u2):" in fn.source
