"""More matrix operations: norms, diag, entrywise division and powers, a scalar with a 1×1
product, softmax and logsumexp, against the Matrix Cookbook, central differences, the
entry-by-entry graph, forward mode, compiled code and JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest
import sympy
from sympy import HadamardProduct, MatMul, MatrixSymbol, Transpose

import symgraph as sg
from symgraph.functions import msum
from symgraph.matrix_functions import diag, diagonal, norm, softmax, sqnorm

SHAPES = {
    "A": (3, 2),
    "B": (3, 2),
    "X": (3, 2),
    "M": (3, 3),
    "x": (2, 1),
    "w": (2, 1),
    "v": (3, 1),
    "y": (3, 1),
}


def _graph(text: str) -> sg.Graph:
    return sg.graph(text, shapes={k: s for k, s in SHAPES.items() if k in text})


def _point(g, seed: int = 5, low: float = 0.4, high: float = 1.6) -> dict:
    rng = np.random.default_rng(seed)
    return {
        v.name: rng.uniform(low, high, size=v.shape)
        if hasattr(v, "shape")
        else rng.uniform(low, high)
        for v in g.inputs
    }


def _central(g, at: dict, name: str, h: float = 1e-6):
    """∂f/∂name entry by entry by central differences (the oracle)."""
    value = np.asarray(at[name], dtype=float)
    out = np.zeros(value.shape)
    for ij in np.ndindex(value.shape):
        step = np.zeros(value.shape)
        step[ij] = h
        hi = g.evaluate({**at, name: value + step}).outputs["f"]
        lo = g.evaluate({**at, name: value - step}).outputs["f"]
        out[ij] = (hi - lo) / (2 * h)
    return out if value.shape else float(out)


def _all_paths(text: str, seed: int = 5) -> tuple[sg.Graph, dict, dict]:
    """The gradient at a point, checked against central differences, forward mode
    (⟨ḡ, v⟩ = J v), the compiled reverse sweep and a JSON round trip."""
    g = _graph(text)
    at = _point(g, seed)
    rv = g.reverse()
    grad = rv.evaluate(at).gradient
    for v in g.inputs:
        assert np.shape(grad[v]) == np.shape(at[v.name]), v
        np.testing.assert_allclose(grad[v], _central(g, at, v.name), rtol=1e-6, atol=1e-7)
        closed = g.gradient()[v]
        assert getattr(closed, "shape", ()) == getattr(v, "shape", ()), (v, closed)
    rng = np.random.default_rng(seed + 1)
    direction = {k: rng.normal(size=np.shape(a)) for k, a in at.items()}
    tangent = g.forward(direction).evaluate(at).derivative["f"]
    inner = sum(float(np.sum(grad[k] * d)) for k, d in direction.items())
    assert tangent == pytest.approx(inner, rel=1e-9, abs=1e-12)
    fn = sg.compile(rv)
    value, compiled = fn(*(at[v.name] for v in fn.inputs))
    assert value == pytest.approx(rv.evaluate(at).values["f"], rel=1e-12)
    for v, c in zip(fn.inputs, compiled, strict=True):
        np.testing.assert_allclose(c, grad[v], rtol=1e-11, atol=1e-14)
    back = sg.from_json(json.loads(json.dumps(sg.to_json(rv))))
    assert back.graph.expand("f") == g.expand("f")
    for v in g.inputs:
        np.testing.assert_allclose(back.evaluate(at).gradient[v], grad[v])
    return g, at, grad


# ---------------------------------------------------------------- norms


@pytest.mark.parametrize(
    ("text", "cookbook"),
    [
        ("norm(v)**2", lambda at: 2 * at["v"]),  # ∂‖x‖²/∂x = 2x
        ("norm(X)**2", lambda at: 2 * at["X"]),  # ∂‖X‖_F²/∂X = 2X
        ("norm(v)", lambda at: at["v"] / np.linalg.norm(at["v"])),  # ∂‖x‖/∂x = x/‖x‖
        ("norm(X)", lambda at: at["X"] / np.linalg.norm(at["X"])),  # ∂‖X‖_F/∂X = X/‖X‖_F
        ("norm(X)^4", lambda at: 4 * np.sum(at["X"] ** 2) * at["X"]),
    ],
)
def test_norms_follow_the_matrix_cookbook(text, cookbook):
    g, at, grad = _all_paths(text)
    (x,) = g.inputs
    np.testing.assert_allclose(grad[x], cookbook(at), rtol=1e-12)
    assert g.evaluate(at).outputs["f"] == pytest.approx(
        np.linalg.norm(at[x.name]) ** (4 if "4" in text else 2 if "2" in text else 1)
    )


def test_the_squared_norm_is_one_step_and_its_gradient_reads_2x():
    g = _graph("norm(v)**2")
    (v,) = g.inputs
    assert [type(s.expr) for s in g.steps] == [sqnorm]
    assert g.gradient()[v] == MatMul(2, v)
    assert str(g) == "f = norm(v)**2"


def test_least_squares_gradient_is_2_At_residual():
    g, at, grad = _all_paths("norm(A*x - y)**2")
    A, x = g.symbol("A"), g.symbol("x")
    residual = at["A"] @ at["x"] - at["y"]
    np.testing.assert_allclose(grad[x], 2 * at["A"].T @ residual, rtol=1e-12)
    np.testing.assert_allclose(grad[A], 2 * residual @ at["x"].T, rtol=1e-12)
    closed = g.gradient()[x]  # 2 Aᵀ(Ax − y), a 2×1 matrix expression
    assert isinstance(closed, MatMul) and closed.shape == (2, 1)
    assert closed.args[:2] == (2, Transpose(A)) and str(closed.args[2]) == "A*x - y"


def test_the_norm_at_zero_is_an_error_and_its_square_is_smooth():
    g = _graph("norm(v)")
    zero = {"v": np.zeros((3, 1))}
    assert g.evaluate(zero).outputs["f"] == 0
    with pytest.raises(sg.EvaluationError, match="derivative of f = norm"):
        g.reverse().evaluate(zero)
    with pytest.raises(sg.EvaluationError, match="derivative of f = norm"):
        g.forward({"v": np.ones((3, 1))}).evaluate(zero)
    squared = _graph("norm(v)**2").reverse().evaluate(zero).gradient["v"]
    np.testing.assert_array_equal(squared, np.zeros((3, 1)))
    with pytest.warns(RuntimeWarning):  # compiled arrays: NaN with NumPy's warning
        assert np.all(np.isnan(sg.compile(g.reverse())(zero["v"])[1][0]))


def test_norms_print_as_math():
    v = MatrixSymbol("v", 3, 1)
    assert sympy.latex(norm(v)) == r"\left\lVert v\right\rVert"
    assert sympy.latex(sqnorm(v) ** 3) == r"\left(\left\lVert v\right\rVert^{2}\right)^{3}"
    assert str(sqnorm(v) ** 3) == "(norm(v)**2)**3"
    assert norm(sympy.Matrix([[3], [4]])) == 5
    assert sympy.latex(norm(v) ** 3) == r"\left\lVert v\right\rVert^{3}"


def test_powers_of_functions_print_in_latex():
    from symgraph.functions import sigmoid
    from symgraph.matrix_functions import logsumexp

    x, v = sympy.Symbol("x", real=True), MatrixSymbol("v", 3, 1)
    assert sympy.latex(sigmoid(x) ** 2) == r"\sigma^{2}\left(x\right)"
    assert sympy.latex(msum(v) ** 2) == r"\operatorname{sum}\left(v\right)^{2}"
    assert sympy.latex(logsumexp(v) ** 2).endswith(r"\left(v\right)^{2}")


# ---------------------------------------------------------------- diag


def test_diag_of_a_vector_and_of_a_square_matrix():
    g, at, grad = _all_paths("sum(diag(v)*y) + sum(hadamard(diag(M), y))")
    np.testing.assert_allclose(grad[g.symbol("v")], at["y"], rtol=1e-12)
    np.testing.assert_allclose(grad[g.symbol("M")], np.diag(at["y"].ravel()), rtol=1e-12)
    steps = {type(s.expr) for s in g.steps}
    assert {diag, diagonal} <= steps
    assert g.symbol("t1").shape == (3, 3)  # diag(v)


def test_diag_pushes_and_pulls_each_other():
    v, M = MatrixSymbol("v", 3, 1), MatrixSymbol("M", 3, 3)
    g = sg.graph(sympy.Trace(MatMul(diag(v), M)))
    rv = g.reverse()
    assert any(isinstance(e, diagonal) for _, e in rv.steps if e.has(diagonal))
    np.testing.assert_allclose(
        rv.evaluate({"v": np.ones((3, 1)), "M": np.arange(9.0).reshape(3, 3)}).gradient["v"],
        [[0.0], [4.0], [8.0]],
    )
    row = _graph("sum(diag(v.T)*y)")
    assert row.gradient()[row.symbol("v")].shape == (3, 1)


# ---------------------------------------------------------------- entrywise division and powers


@pytest.mark.parametrize(
    "text",
    [
        "sum(A/B)",
        "sum(A./B)",
        "sum(2/A) + sum(1/B)",
        "sum(A.^2) + sum(B.^-1) + sum(A.^(1/2))",
        "sum(A.^c) + sum(B.^A) + sum(A.^(x.T*x))",  # exp(p log A) entry by entry
        "sum(hadamard(A.^3, B)/A)",
        "sum(exp(A)/B) + sum(log(B).^2) + sum(softplus(A)./B) + sum(sqrt(B))",
        "sum(exp(-A)) + sum(log(A.^2 + B)) + sum(softplus(-B)) + sum(sqrt(A./B))",
    ],
)
def test_entrywise_functions_divisions_and_powers(text):
    _all_paths(text)


def test_entrywise_spellings_build_hadamard_forms():
    g = _graph("A/B")
    (step, top) = g.steps
    assert isinstance(top.expr, HadamardProduct) and str(step.expr) == "B.^-1"
    assert str(_graph("A.^2").expand("f")) == "A.^2"
    assert sympy.latex(_graph("A.^2").expand("f")) == r"A^{\circ 2}"
    assert str(_graph("c/A").expand("f")) == "c*A.^-1"
    assert float(_graph("2.^2").expand("f")) == 4  # after digits, a float: 2.0**2
    assert _graph("(A + B) .^ 2").expand("f") == _graph("(A + B).^2").expand("f")
    assert _graph("A ./ B").expand("f") == _graph("A/B").expand("f")


@pytest.mark.parametrize("text", ["A.^2", "(A + B).^(1/2)", "2*A.^-1", "A.T.^3"])
def test_entrywise_powers_print_as_they_parse(text):
    expr = _graph(text).expand("f")
    assert _graph(str(expr)).expand("f") == expr


def test_a_matrix_power_is_refused_with_both_readings():
    with pytest.raises(sg.ParseError, match=r"M\.\^2 squares each entry; M\*M is a matrix"):
        _graph("M**2")


# ---------------------------------------------------------------- a scalar and a 1×1 product


@pytest.mark.parametrize(
    ("text", "oracle"),
    [
        ("sigmoid(w.T*x + b)", lambda z, at: _sigmoid(z) * (1 - _sigmoid(z))),
        ("log(1 + exp(-(w.T*x + b)))", lambda z, at: -_sigmoid(-z)),
        ("(w.T*x - b)**2", lambda z, at: 2 * z),
    ],
)
def test_a_scalar_with_a_one_by_one_product(text, oracle):
    g, at, grad = _all_paths(text)
    z = (at["w"].T @ at["x"]).item() + (at["b"] if "+ b" in text else -at["b"])
    np.testing.assert_allclose(grad[g.symbol("w")], oracle(z, at) * at["x"], rtol=1e-10)
    assert g.gradient()[g.symbol("w")].shape == (2, 1)
    entry = sg.entrywise(g)
    point = {
        f"{k}_{i}{j}": float(a[i, j])
        for k, a in at.items()
        if np.ndim(a)
        for i, j in np.ndindex(a.shape)
    }
    point["b"] = at["b"]
    scalar = entry.reverse().evaluate(point).gradient
    np.testing.assert_allclose(grad[g.symbol("w")].ravel(), [scalar["w_00"], scalar["w_10"]])


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


@pytest.mark.parametrize(
    "text",
    [
        "b/(w.T*x) + (w.T*x)/b",
        "where(w.T*x > b, w.T*x, b*(w.T*x))",
        "max(w.T*x, b) + (w.T*x)**3",
        "b - w.T*x + sum(x)",
    ],
)
def test_a_one_by_one_product_is_a_scalar_in_every_scalar_context(text):
    g, _, _ = _all_paths(text)
    assert not hasattr(g.expand("f"), "shape")


def test_the_weights_of_a_logistic_loss_have_their_shape():
    g = _graph("log(1 + exp(-c*(w.T*x + b)))")
    rv = g.reverse()
    assert rv.adjoints[g.symbol("w")].shape == (2, 1)


# ---------------------------------------------------------------- softmax and logsumexp


def test_logsumexp_gradient_is_softmax_and_stable():
    g, at, grad = _all_paths("logsumexp(v)")
    s = np.exp(at["v"]) / np.sum(np.exp(at["v"]))
    np.testing.assert_allclose(grad[g.symbol("v")], s, rtol=1e-12)
    assert str(g.gradient()[g.symbol("v")]) == "softmax(v)"
    big = {"v": np.full((3, 1), 1000.0)}
    ev = g.reverse().evaluate(big)
    assert ev.values["f"] == pytest.approx(1000 + np.log(3))
    np.testing.assert_allclose(ev.gradient["v"], np.full((3, 1), 1 / 3))
    value, (compiled,) = sg.compile(g.reverse())(big["v"])
    assert value == pytest.approx(1000 + np.log(3))
    np.testing.assert_allclose(compiled, np.full((3, 1), 1 / 3))


def test_softmax_pull_is_its_jacobian_transposed():
    g = _graph("softmax(v)")
    at = _point(g)
    s = np.exp(at["v"]) / np.sum(np.exp(at["v"]))
    jacobian = np.diag(s.ravel()) - s @ s.T  # ∂s/∂v = diag(s) − s sᵀ
    weights = np.random.default_rng(3).normal(size=(3, 1))
    vjp = g.reverse({"f": weights}).evaluate(at).gradient["v"]
    np.testing.assert_allclose(vjp, jacobian.T @ weights, rtol=1e-12)
    direction = np.random.default_rng(4).normal(size=(3, 1))
    jvp = g.forward({"v": direction}).evaluate(at).derivative["f"]
    np.testing.assert_allclose(jvp, jacobian @ direction, rtol=1e-12)
    pull = g.edges[(g.symbol("f"), g.symbol("v"))].pull
    assert pull.shape == (3, 1) and pull.has(HadamardProduct)


def test_softmax_cross_entropy():
    g, at, grad = _all_paths("-sum(hadamard(y, log(softmax(v))))")
    s = np.exp(at["v"]) / np.sum(np.exp(at["v"]))
    np.testing.assert_allclose(grad[g.symbol("v")], s * np.sum(at["y"]) - at["y"], rtol=1e-10)
    assert isinstance(softmax(MatrixSymbol("v", 3, 1)).as_explicit(), sympy.MatrixBase)


# ---------------------------------------------------------------- second derivatives


@pytest.mark.parametrize(
    "text",
    [
        "norm(A*x - y)",
        "norm(A*x - y)**2",
        "sum(diag(v)*y) + sum(hadamard(diag(M), y))",
        "logsumexp(A*x)",
        "sum(hadamard(softmax(A*x + y), v))",
        "sum(A./B.^2)",
        "log(1 + exp(-(w.T*x + c)))",
    ],
)
def test_closed_form_gradients_differentiate_again(text):
    """⟨R, ∇f⟩ is a function of the inputs too: its gradient (a Hessian applied to R, as
    Hessians of matrix expressions need) against central differences."""
    g = _graph(text)
    at = _point(g)
    rng = np.random.default_rng(11)
    for x, gradient in g.gradient().items():
        if not hasattr(gradient, "shape"):
            continue
        weights = sympy.ImmutableMatrix(rng.normal(size=gradient.shape))
        h = sg.graph(msum(HadamardProduct(gradient, weights)))
        point = {v.name: at[v.name] for v in h.inputs}
        grad = h.reverse().evaluate(point).gradient
        for v in h.inputs:
            np.testing.assert_allclose(
                grad[v], _central(h, point, v.name), rtol=1e-5, atol=1e-7, err_msg=f"{x}, {v}"
            )
