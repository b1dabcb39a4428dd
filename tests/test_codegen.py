"""Compiled sweeps (codegen.py) against the step-by-step evaluation, on points and batches."""

import re
import warnings

import numpy as np
import pytest
import sympy

import symgraph as sg
from symgraph import codegen
from symgraph.codegen import compile as compile_sweep
from symgraph.evaluate import EvaluationError

# smooth almost everywhere: random points miss the kinks
EXPRESSIONS = [
    "exp(exp(u1) + exp(2*u2)) + sigmoid(exp(u1) + exp(2*u2))",
    "sigmoid(u1*u2) - relu(u1 - u2) + softplus(u2)",
    "max(u1, u2**2) * min(u1, 1 - u2) + abs(u1 - u2)",
    "piecewise((u1**2, u1 < 0), (sin(u2)*u1, True)) + where(u2 > 0.5, u1, u2)",
    "tanh(u1)/(1 + u2**2) + log(1 + u1**2) + sqrt(2 + cos(u2)) - 3*u1*u2",
    "atan(u1*u2) + sinh(u2)/cosh(u1) - u2/u1**3",
]


def points(k: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-2.0, 2.0, size=(k, 2))


def reference(rv, point) -> tuple[float, list[float]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sg.KinkWarning)
        ev = rv.evaluate(dict(zip(rv.graph.inputs, point, strict=True)))
    return ev.values[rv.graph.outputs[0]], [ev.gradient[x] for x in rv.graph.inputs]


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_compiled_gradient_matches_evaluate_at_points_and_on_a_batch(text):
    rv = sg.graph(text).reverse()
    fn = compile_sweep(rv)
    batch = points(6)
    values, grads = fn(*batch.T)
    for i, p in enumerate(batch):
        want_value, want_grad = reference(rv, p)
        value, grad = fn(*map(float, p))  # the float (math) path
        assert isinstance(value, float)
        assert value == pytest.approx(want_value, rel=1e-12, abs=1e-12)
        assert grad == pytest.approx(want_grad, rel=1e-10, abs=1e-12)
        assert values[i] == pytest.approx(want_value, rel=1e-12, abs=1e-12)  # the array path
        assert [g[i] for g in grads] == pytest.approx(want_grad, rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("text", EXPRESSIONS[:3])
def test_compiled_tangent_matches_the_forward_evaluation(text):
    fw = sg.graph(text).forward({"u1": 1, "u2": -2})
    fn = compile_sweep(fw)
    for p in points(3, seed=1):
        at = dict(zip(fw.graph.inputs, p, strict=True))
        want = fw.evaluate(at).derivative["f"]
        assert fn(*map(float, p))[1][0] == pytest.approx(want, rel=1e-10, abs=1e-12)


def test_a_constant_gradient_entry_is_broadcast_to_the_batch():
    fn = compile_sweep(sg.graph("x + 2*y + z**2").reverse())
    x, y, z = np.arange(4.0), np.ones(4), np.linspace(0, 1, 4)
    _, (gx, gy, gz) = fn(x, y, z)
    assert gx.shape == gy.shape == gz.shape == (4,)
    assert (gx == 1).all() and (gy == 2).all() and gz == pytest.approx(2 * z)
    _, (gx, gy, _) = fn(np.ones((2, 3)), 1.0, np.zeros(3))  # broadcast to (2, 3)
    assert gx.shape == gy.shape == (2, 3)
    assert fn(1.0, 2.0, 3.0) == (14.0, (1.0, 2.0, 6.0))


def test_a_batch_on_chunked_dask_arrays_stays_lazy_and_agrees_with_numpy():
    da = pytest.importorskip("dask.array")
    rv = sg.graph(EXPRESSIONS[1]).reverse()
    fn = compile_sweep(rv)
    batch = points(40, seed=2)
    lazy = [da.from_array(column, chunks=10) for column in batch.T]
    value, grads = fn(*lazy)
    assert isinstance(value, da.Array) and all(isinstance(g, da.Array) for g in grads)
    assert value.chunks == ((10, 10, 10, 10),)
    want_value, want_grads = fn(*batch.T)
    np.testing.assert_allclose(value.compute(), want_value, rtol=1e-14)
    for g, want in zip(grads, want_grads, strict=True):
        np.testing.assert_allclose(g.compute(), want, rtol=1e-14)
    const = compile_sweep(sg.graph("3*x + y").reverse())
    _, (gx, _) = const(*lazy)
    assert isinstance(gx, da.Array) and (gx.compute() == 3).all()


@pytest.mark.parametrize("text", [*EXPRESSIONS, "3*x + y", "x*y*exp(x) - x*x*y"])
def test_a_large_batch_runs_in_chunks_with_the_same_numbers(monkeypatch, text):
    fn = compile_sweep(sg.graph(text).reverse())
    batch = points(1000, seed=3)
    whole = fn(*batch.T)
    monkeypatch.setattr(codegen, "CHUNK", 64)
    chunked = fn(*batch.T)
    np.testing.assert_array_equal(chunked[0], whole[0])
    for a, b in zip(chunked[1], whole[1], strict=True):
        np.testing.assert_array_equal(a, b)


def test_outside_the_domain_a_point_raises_like_evaluate_and_a_batch_gives_nan():
    rv = sg.graph("log(x) + x").reverse()
    fn = compile_sweep(rv)
    for at in (-1.0, 0.0, -1):
        with pytest.raises(EvaluationError):
            rv.evaluate({"x": at})
        with pytest.raises(EvaluationError, match="x = "):
            fn(at)
    with pytest.warns(RuntimeWarning):
        batch_value, _ = fn(np.array([-1.0, 1.0]))
    assert np.isnan(batch_value[0]) and batch_value[1] == 1.0


@pytest.mark.parametrize(("kink", "slope"), [("split", 0.5), ("zero", 0.0)])
def test_the_kink_convention_reaches_compiled_code(kink, slope):
    fn = compile_sweep(sg.graph("relu(x) + max(x, y)").reverse(), kink=kink)
    assert fn(0.0, 0.0)[1] == (2 * slope, slope)
    assert [g[0] for g in fn(np.zeros(1), np.zeros(1))[1]] == [2 * slope, slope]


def test_the_source_is_the_graph_with_aliases_and_dead_lines_dropped():
    fn = compile_sweep(
        sg.graph("exp(exp(u1) + exp(2*u2)) + sigmoid(exp(u1) + exp(2*u2))").reverse()
    )
    assert "def gradient(u1, u2):" in fn.source and "def gradient_scalar(u1, u2):" in fn.source
    assert "tbar_3 = t4 + t5*(1 - t5)" in fn.source  # the graph's sharing is the CSE
    assert "fbar" not in fn.source and "tbar_2" not in fn.source  # constant, alias


def test_long_sums_are_split_for_pythons_compiler(monkeypatch):
    monkeypatch.setattr(codegen, "MAX_TERMS", 5)
    xs = sympy.symbols("x1:24", real=True)
    rv = sg.graph(sympy.Add(*[x**2 for x in xs]) * sympy.Mul(*xs[:12])).reverse()
    fn = compile_sweep(rv)
    assert re.search(r"(\w+) = \1 \+ \(", fn.source)  # sum of 23 squares: 5 lines
    assert re.search(r"(\w+) = \1 \* \(", fn.source)  # product of 12 + 1 factors
    p = np.linspace(0.5, 1.5, len(xs))
    _, grad = fn(*p)
    want = [float(rv.gradient[x].subs(dict(zip(xs, p, strict=True)))) for x in xs]
    assert grad == pytest.approx(want, rel=1e-12)


def test_symbols_named_like_python_or_math_names_are_renamed():
    lam, exp_, x = sympy.symbols("lambda exp x", real=True)
    fn = compile_sweep(sg.graph(lam * sympy.exp(exp_) + x).reverse())
    assert "def gradient(_vexp, _vlambda, x):" in fn.source
    assert fn(0.0, 2.0, 1.0) == (3.0, (2.0, 1.0, 1.0))
    assert fn(exp=0.0, **{"lambda": 2.0}, x=1.0)[0] == 3.0


def test_keywords_and_wrong_counts():
    fn = compile_sweep(sg.graph("x*y").reverse())
    assert fn(2.0, y=3.0) == (6.0, (3.0, 2.0))
    with pytest.raises(TypeError, match="expected values for x, y"):
        fn(1.0)
    with pytest.raises(ValueError, match="kink="):
        compile_sweep(sg.graph("x*y").reverse(), kink="first")
