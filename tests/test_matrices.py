"""Matrices: the rules as linear maps, gradients against NumPy central differences,
forward vs reverse through ⟨ȳ, J ẋ⟩ = ⟨Jᵀ ȳ, ẋ⟩, and the lecture's linear network."""

from __future__ import annotations

import random

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy import HadamardProduct, Identity, Inverse, MatMul, MatrixSymbol, Trace, Transpose
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

import symgraph as sg
from symgraph.evaluation import numeric
from symgraph.functions import msum, sigmoid
from symgraph.matrix_functions import diag, diagonal, logsumexp, norm, softmax, sqnorm

from .conftest import central_gradient, random_point

W = MatrixSymbol("W", 3, 2)
V = MatrixSymbol("V", 2, 3)
A = MatrixSymbol("A", 2, 2)
x = MatrixSymbol("x", 2, 1)
b = MatrixSymbol("b", 3, 1)
y = MatrixSymbol("y", 3, 1)
c = sympy.Symbol("c", real=True)

#: One or more samples for every matrix row of the rule table.
MATRIX_SAMPLES = {
    sympy.MatMul: [W * x, MatMul(2, c, W), V * W * x],
    sympy.MatAdd: [W * x + b],
    Transpose: [MatMul(Transpose(W), y)],
    HadamardProduct: [HadamardProduct(W * x, b)],
    ElementwiseApplyFunction: [(W * x + b).applyfunc(sigmoid), (W * x).applyfunc(sympy.tanh)],
    Trace: [Trace(MatMul(Transpose(W), W))],
    Inverse: [Inverse(MatMul(Transpose(A), A) + Identity(2)) * x],
    msum: [msum(W)],
    sympy.Determinant: [sympy.Determinant(MatMul(Transpose(A), A) + Identity(2))],
    norm: [norm(W * x + b), norm(W)],
    sqnorm: [sqnorm(W * x - y)],
    diag: [diag(b) * y, diag(Transpose(b)) * y],
    diagonal: [diagonal(MatMul(Transpose(W), W))],
    logsumexp: [logsumexp(W * x), logsumexp(W)],
    softmax: [softmax(W * x + b)],
    sympy.KroneckerProduct: [sympy.KroneckerProduct(x, W), sympy.KroneckerProduct(x.T, A, b)],
}


def _scalar_loss(expr, rng):
    """A scalar function of a sample: itself, or ⟨R, sample⟩ for a fixed random R."""
    if not isinstance(expr, sympy.MatrixExpr):
        return expr
    weights = sympy.ImmutableMatrix(rng.normal(size=expr.shape))
    return msum(HadamardProduct(expr, weights))


CASES = [(cls.__name__, e) for cls, samples in MATRIX_SAMPLES.items() for e in samples]


@pytest.mark.parametrize(
    ("name", "expr"), CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)]
)
def test_matrix_rule_against_central_differences_and_forward(name, expr):
    rng = np.random.default_rng(3)
    g = sg.graph(_scalar_loss(expr, rng))
    at = random_point(g, rng)
    grad = g.reverse().evaluate(at).gradient
    direction = {s.name: rng.normal(size=np.shape(at[s.name])) for s in g.inputs}
    jvp = g.forward(direction).evaluate(at).derivative[g.outputs[0]]
    assert jvp == pytest.approx(sum(np.sum(grad[k] * direction[k]) for k in direction))
    for s in g.inputs:
        assert np.allclose(grad[s.name], central_gradient(g, at, s.name), rtol=1e-5, atol=1e-7), s


def test_every_matrix_rule_has_a_sample():
    from symgraph.rules import RULES

    matrix_classes = {cls for cls, entry in RULES.items() if entry.pull is not None}
    assert matrix_classes <= set(MATRIX_SAMPLES), matrix_classes - set(MATRIX_SAMPLES)


def test_product_adjoints_have_the_transposes():
    g = sg.graph(msum((W * x + b).applyfunc(sigmoid)))
    rv = g.reverse()
    t2 = g.symbol("t2")
    tbar2 = MatrixSymbol("tbar_2", 3, 1)
    assert rv.adjoints["W"] == tbar2 * x.T  # W̄ = z̄ xᵀ
    assert rv.adjoints["x"] == W.T * tbar2  # x̄ = Wᵀ z̄
    assert rv.adjoints["b"] == tbar2
    assert g.step[t2].shape == (3, 1)


def test_a_one_by_one_product_is_a_scalar_loss():
    r = W * x - y
    g = sg.graph(MatMul(Transpose(r), r))
    rv = g.reverse()
    assert str(rv.closed_form("W")) == "2*(W*x - y)*x.T"
    rng = np.random.default_rng(1)
    at = random_point(g, rng)
    ev = rv.evaluate(at)
    residual = at["W"] @ at["x"] - at["y"]
    assert ev.values["f"] == pytest.approx((residual.T @ residual)[0, 0])
    assert np.allclose(ev.gradient["W"], 2 * residual @ at["x"].T)


def test_two_layer_network_matches_the_scalar_bridge():
    W1, W2 = MatrixSymbol("W1", 3, 2), MatrixSymbol("W2", 1, 3)
    hidden = (W1 * x).applyfunc(sympy.tanh)
    out = MatMul(W2, hidden)
    g = sg.graph(msum(out.applyfunc(sigmoid)))
    rng = np.random.default_rng(7)
    at = random_point(g, rng)
    grad = g.reverse().evaluate(at).gradient
    # the same network written entry by entry, as scalars
    e = {
        name: sympy.Matrix(s.shape[0], s.shape[1], lambda i, j, n=name: sympy.Symbol(f"{n}_{i}{j}"))
        for name, s in (("W1", W1), ("W2", W2), ("x", x))
    }
    scalar = sum(sigmoid(v) for v in e["W2"] * (e["W1"] * e["x"]).applyfunc(sympy.tanh))
    sg_scalar = sg.graph(scalar)
    values = {f"{n}_{i}{j}": at[n][i, j] for n in e for i, j in np.ndindex(at[n].shape)}
    scalar_grad = sg_scalar.reverse().evaluate(values).gradient
    for n in e:
        for i, j in np.ndindex(at[n].shape):
            assert grad[n][i, j] == pytest.approx(scalar_grad[f"{n}_{i}{j}"])


def test_shape_errors_and_matrix_seeds():
    g = sg.graph(W * x)
    with pytest.raises(sg.EvaluationError, match=r"W has shape \(3, 2\)"):
        g.evaluate({"W": np.ones((2, 2)), "x": np.ones((2, 1))})
    with pytest.raises(sg.EvaluationError, match="direction"):
        sg.graph(msum(W)).forward("W").evaluate({"W": np.ones((3, 2))})


def test_relu_entries_at_zero_are_kinks():
    g = sg.graph(msum((W * x).applyfunc(sg.relu)))
    at = {"W": np.array([[1.0, 0.0], [0.0, 0.0], [1.0, 1.0]]), "x": np.array([1.0, -1.0])}
    with pytest.warns(sg.KinkWarning, match=r"entries \(1, 0\)"):
        ev = g.reverse().evaluate(at)
    assert np.allclose(ev.gradient["x"].ravel(), [1.5, 0.5])  # split: relu'(0) = 1/2
    with pytest.raises(sg.KinkError):
        g.reverse().evaluate(at, kink="raise")


# ---------------------------------------------------------------- the same, typed as text

SHAPES = {"W": (3, 2), "V": (2, 3), "A": (2, 2), "x": (2, 1), "b": (3, 1), "y": (3, 1)}

TEXT_AND_SYMPY = [
    ("sum(sigmoid(W*x + b))", msum((W * x + b).applyfunc(sigmoid))),
    ("sum(hadamard(W*x - y, W*x - y))", msum(HadamardProduct(W * x - y, W * x - y))),
    ("(W*x - y).T*(W*x - y)", MatMul(Transpose(W * x - y), W * x - y)),
    ("trace(W.T*W)", Trace(MatMul(Transpose(W), W))),
    ("sum(tanh(V*W*x))", msum((V * W * x).applyfunc(sympy.tanh))),
    ("sum(inverse(A.T*A + 2*A)*x)", msum(Inverse(MatMul(Transpose(A), A) + 2 * A) * x)),
    ("c*sum(W)", c * msum(W)),
]


@pytest.mark.parametrize(("text", "expr"), TEXT_AND_SYMPY, ids=[t for t, _ in TEXT_AND_SYMPY])
def test_text_with_shapes_matches_the_sympy_source_and_central_differences(text, expr):
    g, reference = sg.graph(text, shapes=SHAPES), sg.graph(expr)
    assert {s.name: getattr(s, "shape", None) for s in g.inputs} == {
        s.name: getattr(s, "shape", None) for s in reference.inputs
    }
    rng = np.random.default_rng(11)
    at = random_point(g, rng)
    if "A" in at:
        at["A"] = at["A"] + 3 * np.eye(2)
    grad = g.reverse().evaluate(at).gradient
    expected = reference.reverse().evaluate(at).gradient
    for s in g.inputs:
        assert np.shape(grad[s.name]) == np.shape(at[s.name])
        assert np.allclose(grad[s.name], expected[s.name])
        assert np.allclose(grad[s.name], central_gradient(g, at, s.name), rtol=1e-5, atol=1e-7), s


def test_text_linear_network_adjoints_have_the_transposes():
    rv = sg.graph("sum(sigmoid(W*x + b))", shapes=SHAPES).reverse()
    tbar2 = MatrixSymbol("tbar_2", 3, 1)
    assert rv.adjoints["W"] == tbar2 * x.T
    assert rv.adjoints["x"] == W.T * tbar2
    assert rv.adjoints["b"] == tbar2


def test_text_one_by_one_loss_keeps_the_residual_shared():
    g = sg.graph("(W*x - y).T * (W*x - y)", shapes=SHAPES)
    assert str(g.reverse().closed_form("W")) == "2*(W*x - y)*x.T"
    (residual,) = set(g.step[g.outputs[0]].parents)
    assert str(g.expand(residual)) == "W*x - y"


def test_the_lecture_network_against_the_entrywise_bridge():
    shapes = {"W": (3, 2), "x": (2, 1), "b": (3, 1)}
    g = sg.graph("sum(sigmoid(W*x + b)) + trace(W.T*W)", shapes=shapes)
    scalar = sg.entrywise(g)
    assert len(scalar.inputs) == 6 + 2 + 3 and scalar.outputs[0].name == "f"
    rng = np.random.default_rng(11)
    at = {name: rng.normal(size=shape) for name, shape in shapes.items()}
    grad = g.reverse().evaluate(at).gradient
    flat = {
        sg.bridge.entry_name(n, i, j): at[n][i, j] for n in at for i, j in np.ndindex(at[n].shape)
    }
    scalar_grad = scalar.reverse().evaluate(flat).gradient
    for n in at:
        for i, j in np.ndindex(at[n].shape):
            assert grad[n][i, j] == pytest.approx(scalar_grad[sg.bridge.entry_name(n, i, j)])


def test_entrywise_matrix_outputs_become_entries():
    g = sg.graph("W*x", shapes={"W": (2, 2), "x": (2, 1)})
    scalar = sg.entrywise(g)
    assert [o.name for o in scalar.outputs] == ["f_00", "f_10"]
    assert scalar.jacobian().shape == (2, 6)


def test_pictures_and_latex_show_the_shapes():
    g = sg.graph("sum(sigmoid(W*x + b))", shapes={"W": (3, 2), "x": (2, 1), "b": (3, 1)})
    rv = g.reverse()
    dot = sg.to_dot(rv)
    assert "input, 3×2" in dot and "matrix product, 3×1" in dot
    tex = sg.to_latex(rv)
    assert r"t_{1} &= W x && \in \mathbb{R}^{3 \times 1}" in tex
    assert r"\bar{W} &= \bar{t}_{1} x^{\top}" in tex


def test_an_explicit_sympy_matrix_is_a_vector_function_of_its_entries():
    a, b = sympy.symbols("a b", real=True)
    g = sg.graph(sympy.Matrix([[a * b, sympy.sin(a)], [a + b, b**2]]))
    assert [o.name for o in g.outputs] == ["f_00", "f_01", "f_10", "f_11"]
    assert g.jacobian() == sympy.Matrix([[b, a], [sympy.cos(a), 0], [1, 1], [0, 2 * b]])


# ---------------------------------------------------------------- closed forms of matrix functions


def _number(e, at: dict):
    """A closed form at a point, by a small NumPy walk of its own (an oracle for the tests:
    it shares no code with symgraph's evaluator)."""
    if isinstance(e, MatrixSymbol):
        return np.asarray(at[e.name], dtype=float)
    if e.is_Number:
        return float(e)
    if isinstance(e, sympy.Symbol):
        return float(at[e.name])
    if isinstance(e, Identity):
        return np.eye(int(e.shape[0]))
    if isinstance(e, sympy.OneMatrix | sympy.ZeroMatrix):
        return np.full(tuple(map(int, e.shape)), float(isinstance(e, sympy.OneMatrix)))
    if isinstance(e, ElementwiseApplyFunction):
        f = e.function
        return np.vectorize(lambda v: float(f(sympy.Float(v))))(_number(e.expr, at))
    args = [_number(a, at) for a in e.args if not isinstance(a, sympy.Lambda)]
    if isinstance(e, Transpose):
        return args[0].T
    if isinstance(e, sympy.MatMul | sympy.Mul):
        out = args[0]
        for a in args[1:]:
            both = np.ndim(out) == 2 and np.ndim(a) == 2
            out = out @ a if both else out * a
        return out
    if isinstance(e, sympy.MatAdd | sympy.Add):
        return sum(args[1:], args[0])
    if isinstance(e, HadamardProduct):
        return np.prod(np.broadcast_arrays(*args), axis=0)
    if isinstance(e, sympy.Pow | sympy.HadamardPower):
        return args[0] ** args[1]
    if isinstance(e, Trace):
        return float(np.trace(args[0]))
    if isinstance(e, msum):
        return float(np.sum(args[0]))
    if type(e).__name__ == "elementwise":  # a function of each entry: the Lambda, entry by entry
        f = e.args[0]
        return np.vectorize(lambda v: float(f(sympy.Float(v))))(args[0])
    raise AssertionError(f"the test's evaluator does not know {type(e).__name__}")


MATRIX_CLOSED_FORMS = [
    ("sum(sigmoid(W*x + b))/2", {"W": (3, 2), "x": (2, 1), "b": (3, 1)}),
    ("sum(tanh(A*x))/2", {"A": (2, 2), "x": (2, 1)}),
    (
        "h = tanh(W1*x)\nr = W2*h - y\nf = sum(hadamard(r, r))/2",
        {"W1": (3, 2), "x": (2, 1), "W2": (2, 3), "y": (2, 1)},
    ),
    ("trace(W.T*W) + sum(x.T*W.T*b)", {"W": (3, 2), "x": (2, 1), "b": (3, 1)}),
    ("sum(hadamard(sigmoid(W*x), b) + b)", {"W": (3, 2), "x": (2, 1), "b": (3, 1)}),
]


@pytest.mark.parametrize(("src", "shapes"), MATRIX_CLOSED_FORMS)
def test_matrix_closed_forms_are_built_and_right(src, shapes):
    g = sg.graph(src, shapes=shapes)
    rng = np.random.default_rng(5)
    at = random_point(g, rng)
    rv, grad = g.reverse(), g.gradient()
    expected = {s.name: central_gradient(g, at, s.name) for s in g.inputs}
    for s in g.inputs:
        assert np.allclose(_number(grad[s], at), expected[s.name], atol=1e-6), s
    # forward mode: the directional derivative in the directions Ẋ, against ⟨∇f, Ẋ⟩
    directions = {s.name: rng.normal(size=np.shape(at[s.name])) for s in g.inputs}
    jvp = g.forward(directions).derivative[g.outputs[0]]
    with_dots = {**at, **{sg.naming.dot(s).name: directions[s.name] for s in g.inputs}}
    inner = sum(np.sum(expected[k] * v) for k, v in directions.items())
    assert _number(jvp, with_dots) == pytest.approx(inner, abs=1e-6)
    for node in g.order:  # every node's closed form builds and is tidied without a crash
        assert sg.tidy(rv.closed_form(node)) is not None


def test_tidy_drops_hadamard_factors_of_ones_and_keeps_the_rest_as_built():
    one_half = sympy.MatMul(sympy.Rational(1, 2), sympy.OneMatrix(3, 1))
    s = (W * x + b).applyfunc(sigmoid)
    e = HadamardProduct(one_half, s)
    tidied = sg.tidy(e)  # (½ 1) ∘ σ(z) is ½ σ(z): a matrix expression of the same shape
    assert tidied == sympy.MatMul(sympy.Rational(1, 2), s) and tidied.shape == e.shape
    at = {W: np.arange(6.0).reshape(3, 2) / 5, x: np.array([[1.0], [-1.0]]), b: np.ones((3, 1))}
    np.testing.assert_allclose(numeric.value(tidied, at), numeric.value(e, at))
    both = HadamardProduct(s, s)
    assert sg.tidy(both) == both
    scalar_with_matrices = Trace(Transpose(W) * W) + 2 * c + 4 * c
    assert sg.tidy(scalar_with_matrices) == scalar_with_matrices


def _random_network(r: random.Random):
    """A random scalar function of W (3×2), x, A (2×2), b and c, built like a network."""
    pool = [W * x, b, W * A * x]
    v = r.choice(pool)
    for _ in range(r.randrange(1, 5)):
        v = r.choice(
            [
                lambda v: v.applyfunc(r.choice([sympy.tanh, sigmoid, sympy.sin])),
                lambda v: v + r.choice(pool),
                lambda v: HadamardProduct(v, r.choice(pool)),
                lambda v: W * (Transpose(W) * v),
                lambda v: c * v - b,
            ]
        )(v)
    losses = [msum(v) / 2, msum(HadamardProduct(v, v)) / 2, Trace(v * Transpose(v)), msum(v) + c**2]
    return r.choice(losses)


@settings(max_examples=15, deadline=None)
@given(st.randoms(use_true_random=False))
def test_random_matrix_closed_forms_never_crash_and_are_right(r):
    g = sg.graph(_random_network(r))
    try:
        grad, rv = g.gradient(), g.reverse()
    except ValueError:  # an operation without a rule (a clear error) is allowed, no crash
        return
    for node in g.order:
        sg.tidy(rv.closed_form(node))
    at = random_point(g, np.random.default_rng(r.randrange(10**6)))
    # central differences (h = 1e-6) round off by about eps/h times the values they subtract
    scale = max(float(np.max(np.abs(v))) for v in g.evaluate(at).values.values())
    for s in g.inputs:
        expected = central_gradient(g, at, s.name)
        assert np.allclose(_number(grad[s], at), expected, atol=1e-5 + 1e-9 * scale)
