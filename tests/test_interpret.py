"""One interpreter for numbers: its two implementations agree with each other, with
SymPy's own N(), and with compiled code; domain errors are raised alike."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symgraph as sg
from symgraph.evaluation import interpret
from symgraph.evaluation.exact import EvaluationError, Point, Undefined
from symgraph.evaluation.kinks import KinkError
from symgraph.functions import msum, sigmoid

from .conftest import X, Y, Z, expressions, points

W = sympy.MatrixSymbol("W", 2, 2)
V = sympy.MatrixSymbol("v", 2, 1)


def _at(p: dict) -> dict:
    return {X: p["x"], Y: p["y"], Z: p["z"]}


def _n(expr, at: dict) -> float:
    """SymPy's own number, the oracle: N() with the point's floats put in."""
    return complex(sympy.N(expr.xreplace({s: sympy.Float(v) for s, v in at.items()}))).real


@settings(max_examples=60, deadline=None)
@given(expressions(), points)
def test_exact_and_arrays_agree_with_sympy_n(expr, p):
    at = _at(p)
    want = _n(expr, at)
    exact = interpret.value(expr, at, interpret.EXACT)
    arrays = float(interpret.value(expr, at, interpret.ARRAYS))
    assert exact == pytest.approx(want, rel=1e-12, abs=1e-12)
    assert arrays == pytest.approx(want, rel=1e-9, abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(expressions(), points)
def test_the_graphs_steps_run_alike_in_both_implementations(expr, p):
    g = sg.graph(expr)
    at = {x: p[x.name] for x in g.inputs}
    program = [(s.name, s.expr) for s in g.steps]
    exact = interpret.run(program, Point(g, dict(at)), interpret.EXACT)
    arrays = interpret.run(program, Point(g, dict(at)), interpret.ARRAYS)
    for s in g.steps:
        assert float(arrays[s.name]) == pytest.approx(exact[s.name], rel=1e-9, abs=1e-12)
    assert exact[g.outputs[0]] == pytest.approx(_n(expr, at), rel=1e-12, abs=1e-12)


OUTSIDE = [
    (sympy.log(X), {X: -1.0}),
    (sympy.sqrt(X), {X: -2.0}),
    (1 / X, {X: 0.0}),
    (sympy.acos(X), {X: 2.0}),
    (sympy.log(X - Y), {X: 1.0, Y: 1.0}),
    (sympy.Piecewise((X, X > 0)), {X: -1.0}),
]


@pytest.mark.parametrize("implementation", [interpret.EXACT, interpret.ARRAYS], ids=repr)
@pytest.mark.parametrize(("expr", "at"), OUTSIDE, ids=[str(e) for e, _ in OUTSIDE])
def test_domain_errors_are_raised_alike(implementation, expr, at):
    with pytest.raises(EvaluationError, match=r"the value|no condition holds"):
        interpret.value(expr, at, implementation, what="the value")


@pytest.mark.parametrize("implementation", [interpret.EXACT, interpret.ARRAYS], ids=repr)
def test_a_missing_value_names_the_symbol(implementation):
    with pytest.raises(EvaluationError, match="no value for y"):
        interpret.value(X + Y, {X: 1.0}, implementation, what="x + y")


def test_a_failed_line_is_undefined_and_fails_only_where_used():
    t1, t2, t3 = sympy.symbols("t1 t2 t3", real=True)
    program = [(t1, sympy.log(X)), (t2, t1 + 1), (t3, X**2)]
    env = interpret.run(program, Point.free({X: -1.0}), interpret.EXACT)
    assert isinstance(env[t1], Undefined) and isinstance(env[t2], Undefined)
    assert env[t2].error is env[t1].error  # the first failure, raised where it is used
    assert "step t1 = log(x)" in str(env[t1].error)
    assert env[t3] == 1.0


def test_after_sees_each_value_and_a_kink_error_is_raised():
    t1, t2 = sympy.symbols("t1 t2", real=True)
    seen = []
    at = Point.free({X: 2.0})
    interpret.run([(t1, X + 1), (t2, 2 * t1)], at, after=lambda n, e: seen.append(at.env[n]))
    assert seen == [3.0, 6.0]

    def refuse(name, expr):
        raise KinkError(f"{name} at a kink")

    with pytest.raises(KinkError, match="t1 at a kink"):
        interpret.run([(t1, X + 1)], Point.free({X: 2.0}), after=refuse)


def test_exact_decisions_at_a_tie_and_arrays_on_matrices():
    tie = {X: 0.1 + 0.2, Y: 0.3}  # not tied: the floats differ, exactly
    assert interpret.value(sympy.Max(X, Y), tie) == 0.1 + 0.2
    value = interpret.value(W * V, {W: np.eye(2), V: np.ones((2, 1))}, interpret.ARRAYS)
    assert value.ravel().tolist() == [1.0, 1.0]
    assert interpret.involves_matrices(msum(W)) and not interpret.involves_matrices(X + 1)


SCALAR_GRAPHS = ["u1*u2 + exp(u1) + max(u1, u2)", "sigmoid(x*y) + log(1 + x**2)", "abs(x - y)"]


@pytest.mark.parametrize("text", SCALAR_GRAPHS)
def test_compiled_code_equals_the_interpreter_on_the_sweeps_program(text):
    rng = np.random.default_rng(5)
    g = sg.graph(text)
    for sweep in (g.reverse(), g.forward(g.inputs[0])):
        fn = sg.compile(sweep)
        for _ in range(5):
            at = {x: float(rng.normal()) for x in g.inputs}
            env = interpret.run(sweep.as_program(), Point.free(dict(at)))
            value, derivatives = fn(*(at[x] for x in fn.inputs))
            assert value == pytest.approx(env[g.outputs[0]], rel=1e-12, abs=1e-12)
            want = [env[d] for d in fn.derivatives]
            assert list(derivatives) == pytest.approx(want, rel=1e-12, abs=1e-12)


def test_compiled_code_equals_the_interpreter_on_a_matrix_program():
    rng = np.random.default_rng(6)
    g = sg.graph(sigmoid(X) * msum(W * V) + msum(sympy.HadamardProduct(W, W)))
    rv = g.reverse()
    fn = sg.compile(rv)
    at = {s: rng.normal(size=s.shape) if getattr(s, "shape", None) else 0.7 for s in g.inputs}
    env = interpret.run(rv.as_program(), Point.free(dict(at)))
    value, derivatives = fn(*(at[s] for s in fn.inputs))
    assert math.isclose(value, env[g.outputs[0]], rel_tol=1e-12)
    for d, got in zip(fn.derivatives, derivatives, strict=True):
        assert np.allclose(got, env[d], rtol=1e-12, atol=1e-14), d


@settings(max_examples=20, deadline=None)
@given(expressions(max_ops=5), st.floats(-2, 2), st.floats(-2, 2), st.floats(-2, 2))
def test_compiled_gradients_equal_the_interpreter_on_random_graphs(expr, x, y, z):
    rv = sg.graph(expr).reverse()
    fn = sg.compile(rv)
    at = {s: {"x": x, "y": y, "z": z}[s.name] for s in rv.graph.inputs}
    env = interpret.run(rv.as_program(), Point.free(dict(at)))
    _, derivatives = fn(*(at[s] for s in fn.inputs))
    want = [env[d] for d in fn.derivatives]
    assert list(derivatives) == pytest.approx(want, rel=1e-9, abs=1e-12)
