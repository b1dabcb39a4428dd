"""The C backend of sg.compile agrees with the NumPy backend, sympy.diff and finite
differences; it refuses what it cannot compile with a message naming backend='numpy'."""

import math
import os
import shutil

import numpy as np
import pytest
import sympy

import symgraph as sg
from symgraph.codegen.c import BackendError
from symgraph.evaluation.evaluate import EvaluationError

if shutil.which("cc") is None and shutil.which("gcc") is None:
    if os.environ.get("CI") == "true":
        raise RuntimeError("CI has gcc: the C backend's tests must run there")
    pytest.skip("no C compiler (cc or gcc) on PATH", allow_module_level=True)

LECTURE = "exp(exp(u1)+exp(2*u2)) + sigmoid(exp(u1)+exp(2*u2))"
FORMULAS = [
    LECTURE,
    "sum(v_i / (1 + exp(-(w_i*x + b_i))) for i in range(3))",
    "100*(y - x**2)**2 + (1 - x)**2 + 100*(z - y**2)**2 + (1 - y)**2",
    "max(x, y) + abs(x - 1) + relu(y) + heaviside(x) + sign(y)",
    "log(x) + sqrt(y) + x**y + tanh(x*y) + atan(x) + softplus(-y)",
]
POINT = {"u1": 1.0, "u2": -1.0, "x": 0.7, "y": 1.3, "z": 0.2, "b_i": 0.1}


def _point(g):
    return [POINT.get(x.name, 0.3 + 0.1 * k) for k, x in enumerate(g.inputs)]


def _graph(formula):
    if "for i" in formula:  # an MLP-like sum, built as SymPy input
        x = sympy.Symbol("x")
        w, b, v = (sympy.symbols(f"{c}0:3") for c in "wbv")
        return sg.graph(sum(v[i] / (1 + sympy.exp(-(w[i] * x + b[i]))) for i in range(3)))
    return sg.graph(formula)


@pytest.mark.parametrize("formula", FORMULAS)
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_agrees_with_numpy_backend(formula, mode):
    g = _graph(formula)
    sweep = g.reverse() if mode == "reverse" else g.forward(g.inputs[0].name)
    fc, fn = sg.compile(sweep, backend="c"), sg.compile(sweep)
    p = _point(g)
    (vc, dc), (vn, dn) = fc(*p), fn(*p)
    assert vc == pytest.approx(vn, rel=1e-14)
    assert dc == pytest.approx(dn, rel=1e-14, abs=1e-300)
    rng = np.random.default_rng(1)
    cols = [q + 0.1 * rng.uniform(size=50) for q in p]
    cols[0] = p[0]  # a broadcast scalar among arrays
    (bc, gc), (bn, gn) = fc(*cols), fn(*cols)
    np.testing.assert_allclose(bc, bn, rtol=1e-14)
    for a, b in zip(gc, gn, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-300)


def test_lecture_gradient_and_sympy_diff():
    g = sg.graph(LECTURE)
    _, grad = sg.compile(g.reverse(), backend="c")(1.0, -1.0)
    assert round(grad[0], 2) == 47.30
    u1, u2 = sympy.symbols("u1 u2")
    e = sympy.exp(u1) + sympy.exp(2 * u2)
    f = sympy.exp(e) + 1 / (1 + sympy.exp(-e))
    exact = [float(f.diff(s).subs({u1: 1, u2: -1})) for s in (u1, u2)]
    assert grad == pytest.approx(exact, rel=1e-13)


def test_rosenbrock_finite_differences():
    n = 30
    xs = sympy.symbols(f"x0:{n}")
    f = sum(100 * (xs[i + 1] - xs[i] ** 2) ** 2 + (1 - xs[i]) ** 2 for i in range(n - 1))
    g = sg.graph(f)
    fc = sg.compile(g.reverse(), backend="c")
    p = np.random.default_rng(2).uniform(-1, 1, n)
    order = [int(x.name[1:]) for x in g.inputs]
    args = p[order].tolist()
    _, grad = fc(*args)
    h = 1e-6
    for k in (0, 7, n - 1):
        up, down = list(args), list(args)
        up[k] += h
        down[k] -= h
        fd = (fc(*up)[0] - fc(*down)[0]) / (2 * h)
        assert grad[k] == pytest.approx(fd, rel=1e-6)


def test_kinks_as_numpy():
    g = sg.graph("max(x, y) + abs(x) + relu(y) + heaviside(x)")
    for kink in ("split", "zero"):
        fc = sg.compile(g.reverse(), kink=kink, backend="c")
        fn = sg.compile(g.reverse(), kink=kink)
        assert fc(0.0, 0.0) == fn(0.0, 0.0)
        z = np.zeros(3)
        for a, b in zip(fc(z, z)[1], fn(z, z)[1], strict=True):
            np.testing.assert_array_equal(a, b)


def test_domain_errors():
    fc = sg.compile(sg.graph("log(x) + sqrt(y)").reverse(), backend="c")
    with pytest.raises(EvaluationError):
        fc(-1.0, 1.0)
    with np.errstate(all="ignore"):
        value, _ = fc(np.array([-1.0, 1.0]), np.array([1.0, 1.0]))
    assert math.isnan(value[0]) and value[1] == 1.0


def test_refusals():
    g = sg.graph("x*y")
    with pytest.raises(BackendError, match="backend='numpy'"):
        sg.compile(g.reverse(), backend="fortran")
    x = sympy.Symbol("x")
    with pytest.raises(BackendError, match="backend='numpy'"):
        sg.compile(sg.graph(sympy.cot(x)).reverse(), backend="c")
    with pytest.raises(BackendError, match="scalar programs only"):
        sg.compile(sg.graph("sum(W)", shapes={"W": (2, 2)}).reverse(), backend="c")
    assert issubclass(BackendError, ValueError)


def test_no_compiler(monkeypatch):
    monkeypatch.setenv("PATH", "")
    monkeypatch.delenv("CC", raising=False)
    with pytest.raises(BackendError, match="C compiler"):
        sg.compile(sg.graph("x*y + 3*x").reverse(), backend="c")


def test_names_never_reach_source():
    g = sg.graph("alpha*beta + exp(alpha)")
    fc = sg.compile(g.reverse(), backend="c")
    assert "alpha" not in fc.source and "beta" not in fc.source


@pytest.mark.parametrize("formula", FORMULAS)
def test_fast_call_agrees_with_ctypes_path_and_numpy(formula):
    # the one-point call made in C (sg_call) against the struct/ctypes path it skips,
    # the NumPy backend's floats and the interpreter, at random points
    g = _graph(formula)
    fc, fn = sg.compile(g.reverse(), backend="c"), sg.compile(g.reverse())
    if fc.fast is None:
        pytest.skip("no Python.h: the one-point call stays in Python")
    rng = np.random.default_rng(7)
    for _ in range(5):
        p = [float(v) for v in rng.uniform(0.2, 1.5, size=len(g.inputs))]
        v, d = fc(*p)
        raw = fc.scalar(*p)
        assert (v, d) == (raw[0], tuple(raw[1:]))  # bit for bit: the same sg_point
        vn, dn = fn(*p)
        assert v == pytest.approx(vn, rel=1e-14)
        assert d == pytest.approx(dn, rel=1e-14, abs=1e-300)
        ev = g.reverse().evaluate(dict(zip((x.name for x in g.inputs), p, strict=True)))
        derivatives = [float(ev.results[x]) for x in g.inputs]
        assert derivatives == pytest.approx(d, rel=1e-12, abs=1e-12)


def test_fast_call_leaves_other_arguments_to_the_general_path():
    fc = sg.compile(sg.graph("x*y**2").reverse(), backend="c")
    assert fc(2.0, 3.0) == (18.0, (9.0, 12.0))
    assert fc(2, 3.0) == (18.0, (9.0, 12.0))  # ints: taken as floats
    assert fc(x=2.0, y=3.0) == (18.0, (9.0, 12.0))  # keywords
    value, grad = fc(np.float64(2.0), np.array(3.0))  # NumPy scalars: the array path
    assert float(value) == 18.0 and [float(a) for a in grad] == [9.0, 12.0]
    with pytest.raises(TypeError):
        fc(2.0)
    with pytest.raises(EvaluationError, match="undefined"):
        sg.compile(sg.graph("log(x)").reverse(), backend="c")(-1.0)
