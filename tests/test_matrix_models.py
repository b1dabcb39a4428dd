"""Four models a matrix-calculus course derives, on every path: the lecture's network,
least squares, logistic regression and a two-layer MLP.

Each derives in both modes with every adjoint and tangent of its node's shape, gives its
gradient and Hessian as matrix expressions, compiles, and runs from the CLI at a matrix
point. The oracle is each loss written again in plain NumPy (nothing of symgraph), with
central differences of it for the gradient and second differences for the Hessian.
"""

from __future__ import annotations

import json
from typing import NamedTuple

import numpy as np
import pytest
import sympy
from sympy import MatrixExpr

import symgraph as sg
from symgraph.cli import main
from symgraph.linear_maps import value


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


class Model(NamedTuple):
    formula: str
    shapes: dict
    loss: object  # the same loss in NumPy, of the inputs by name
    wrt: str  # a column-vector input for the Hessian


MODELS = {
    "lecture network": Model(
        "sum(sigmoid(W*x + b))",
        {"W": (3, 2), "x": (2, 1), "b": (3, 1)},
        lambda W, x, b: np.sum(_sigmoid(W @ x + b)),
        "x",
    ),
    "least squares": Model(
        "norm(A*w - y)**2",
        {"A": (4, 3), "w": (3, 1), "y": (4, 1)},
        lambda A, w, y: np.sum((A @ w - y) ** 2),
        "w",
    ),
    "logistic regression": Model(
        "sum(softplus(-hadamard(y, X*w)))",
        {"X": (5, 3), "w": (3, 1), "y": (5, 1)},
        lambda X, w, y: np.sum(np.log1p(np.exp(-y * (X @ w)))),
        "w",
    ),
    "two-layer MLP": Model(
        "norm(V*tanh(W*x + b) - y)**2/2",
        {"W": (4, 3), "x": (3, 1), "b": (4, 1), "V": (2, 4), "y": (2, 1)},
        lambda W, x, b, V, y: np.sum((V @ np.tanh(W @ x + b) - y) ** 2) / 2,
        "b",
    ),
}
CASES = pytest.mark.parametrize("model", MODELS.values(), ids=MODELS.keys())


def _point(model: Model, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {k: rng.normal(size=shape) * 0.8 for k, shape in model.shapes.items()}


def _shifted(at: dict, name: str, index, h: float) -> dict:
    moved = {k: v.copy() for k, v in at.items()}
    moved[name][index] += h
    return moved


def _gradient(model: Model, at: dict, name: str, h: float = 1e-6) -> np.ndarray:
    out = np.zeros(model.shapes[name])
    for i in np.ndindex(out.shape):
        up, down = _shifted(at, name, i, h), _shifted(at, name, i, -h)
        out[i] = (model.loss(**up) - model.loss(**down)) / (2 * h)
    return out


def _hessian(model: Model, at: dict, h: float = 1e-4) -> np.ndarray:
    """Second differences of the NumPy loss over the entries of the column ``model.wrt``."""
    n = model.shapes[model.wrt][0]
    out = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            corners = [
                _shifted(_shifted(at, model.wrt, (i, 0), si * h), model.wrt, (j, 0), sj * h)
                for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1))
            ]
            pp, pm, mp, mm = (model.loss(**c) for c in corners)
            out[i, j] = (pp - pm - mp + mm) / (4 * h * h)
    return out


def _shape(node) -> tuple:
    return tuple(node.shape) if isinstance(node, MatrixExpr) else ()


def _is_matrix_of(expr, node) -> bool:
    """A matrix node's derivative is a matrix expression of its shape (never a scalar Mul);
    a 1×1 node may carry a scalar (its one entry)."""
    if _shape(node) in ((), (1, 1)):
        return not isinstance(expr, MatrixExpr) or _shape(expr) == (1, 1)
    return isinstance(expr, MatrixExpr) and tuple(expr.shape) == _shape(node)


@CASES
def test_every_adjoint_and_tangent_has_its_nodes_shape(model):
    g = sg.graph(model.formula, shapes=model.shapes)
    nodes = {s.name: s.name for s in g.steps} | {x: x for x in g.inputs}
    rv = g.reverse()
    for node, adjoint in rv.adjoints.items():
        assert _is_matrix_of(adjoint, nodes[node]), (node, adjoint)
    direction = sympy.MatrixSymbol("V", *model.shapes[model.wrt])
    fw = g.forward({model.wrt: direction})
    for node, tangent in fw.tangents.items():
        assert tangent == 0 or _is_matrix_of(tangent, nodes[node]), (node, tangent)


@CASES
def test_closed_form_gradients_are_matrices_equal_to_central_differences(model):
    g = sg.graph(model.formula, shapes=model.shapes)
    at = _point(model)
    for x, closed in g.gradient().items():
        assert isinstance(closed, MatrixExpr) and tuple(closed.shape) == model.shapes[x.name]
        np.testing.assert_allclose(value(closed, at), _gradient(model, at, x.name), atol=1e-7)


@CASES
def test_the_hessian_is_a_symmetric_matrix_expression_equal_to_second_differences(model):
    g = sg.graph(model.formula, shapes=model.shapes)
    at = _point(model, seed=1)
    hessian = g.hessian(wrt=model.wrt)
    n = model.shapes[model.wrt][0]
    assert isinstance(hessian, MatrixExpr) and tuple(hessian.shape) == (n, n)
    numbers = value(hessian, at)
    np.testing.assert_allclose(numbers, numbers.T, atol=1e-12)
    np.testing.assert_allclose(numbers, _hessian(model, at), atol=1e-5)


@CASES
def test_compiled_gradient_and_hessian_agree_with_numpy(model):
    g = sg.graph(model.formula, shapes=model.shapes)
    at = _point(model, seed=2)
    loss, gradients = sg.compile(g.reverse())(**at)
    assert loss == pytest.approx(model.loss(**at), rel=1e-12)
    for x, grad in zip(g.inputs, gradients, strict=True):
        np.testing.assert_allclose(grad, _gradient(model, at, x.name), atol=1e-7)
    hessian, _ = sg.compile(sg.graph(g.hessian(wrt=model.wrt)))(**at)
    np.testing.assert_allclose(hessian, _hessian(model, at), atol=1e-5)


@CASES
def test_from_the_cli_at_a_matrix_point(model, tmp_path, capsys):
    at = _point(model, seed=3)
    path = tmp_path / "point.json"
    path.write_text(json.dumps({k: v.tolist() for k, v in at.items()}))
    shapes = ",".join(f"{k}={r}x{c}" for k, (r, c) in model.shapes.items())
    argv = ["grad", model.formula, "--shapes", shapes, "--at", f"@{path}", "--json"]
    assert main([*argv, "--hessian", model.wrt]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["values"]["f"] == pytest.approx(model.loss(**at), rel=1e-12)
    for name in model.shapes:
        np.testing.assert_allclose(data["gradient"][name], _gradient(model, at, name), atol=1e-7)
    np.testing.assert_allclose(data["hessian"]["at"], _hessian(model, at), atol=1e-5)
    assert "Hadamard" not in json.dumps(data) and "MatMul" not in json.dumps(data)


# ---------------------------------------------------------------- 1×1 products as scalars

SCALAR_USES = {
    "sum(hadamard(w.T*x, w.T*x)) + w.T*x + 1": lambda w, x: (w.T @ x) ** 2 + w.T @ x + 1,
    "norm(w.T*x) + sum(w.T*x)": lambda w, x: abs(w.T @ x) + w.T @ x,
    "(w.T*x)*(x.T*w) + 2": lambda w, x: (w.T @ x) * (x.T @ w) + 2,
    "exp(w.T*x)": lambda w, x: np.exp(w.T @ x),
    "sigmoid(w.T*x + c)": lambda w, x, c: _sigmoid(w.T @ x + c),
    "sum(exp(w.T*A*w))": lambda w, A: np.exp(w.T @ A @ w),
}


@pytest.mark.parametrize("formula", SCALAR_USES)
def test_a_1x1_product_met_as_a_scalar(formula):
    """A 1×1 node whose adjoint comes both as a scalar (from sum, +) and as a 1×1 matrix
    (from ∘, a product, exp entrywise) has one adjoint, its entry: the gradient, Hessian
    and compiled code agree with NumPy."""
    names = SCALAR_USES[formula].__code__.co_varnames  # the NumPy loss's arguments
    shapes = {k: v for k, v in {"w": (3, 1), "x": (3, 1), "A": (3, 3)}.items() if k in names}
    model = Model(formula, shapes, lambda **v: float(np.sum(SCALAR_USES[formula](**v))), "w")
    g = sg.graph(formula, shapes=shapes)
    at = _point(model, seed=4) | ({"c": np.array(0.3)} if "c" in formula else {})
    for x, closed in g.gradient().items():
        if x.name in shapes:
            np.testing.assert_allclose(value(closed, at), _gradient(model, at, x.name), atol=1e-7)
    _, gradients = sg.compile(g.reverse())(**at)
    for x, grad in zip(g.inputs, gradients, strict=True):
        if x.name in shapes:
            np.testing.assert_allclose(grad, _gradient(model, at, x.name), atol=1e-7)
    np.testing.assert_allclose(value(g.hessian(wrt="w"), at), _hessian(model, at), atol=1e-5)
