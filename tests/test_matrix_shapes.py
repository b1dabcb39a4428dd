"""Shapes are never wrong: every adjoint and tangent has its node's shape, and a
matrix-valued output is seeded with a matrix of its shape (a vector-Jacobian product)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import sympy

import symgraph as sg

SHAPES = {"W": (3, 2), "V": (2, 3), "A": (2, 2), "x": (2, 1), "b": (3, 1), "y": (3, 1)}
FORMULAS = [
    "sum(sigmoid(W*x + b))",
    "sum(sigmoid(W*x + b))/2",
    "(W*x - y).T*(W*x - y)",
    "trace(W.T*W) + sum(x.T*W.T*b)",
    "sum(tanh(V*W*x))",
    "sum(inverse(A.T*A + 2*A)*x)",
    "sum(hadamard(W*x - y, W*x - y))",
    "W*x + b",
    "V*tanh(W*x + b)",
]


def _point(g: sg.Graph, rng) -> dict:
    return {x: rng.normal(size=x.shape) if getattr(x, "shape", None) else 0.3 for x in g.inputs}


def _seed(g: sg.Graph, rng):
    (f,) = g.outputs
    shape = getattr(f, "shape", None)
    return None if shape is None or tuple(shape) == (1, 1) else {f: rng.normal(size=f.shape)}


def _shape(node) -> tuple:
    shape = getattr(node, "shape", None)
    return () if shape is None or tuple(shape) == (1, 1) else tuple(shape)


@pytest.mark.parametrize("text", FORMULAS)
def test_every_adjoint_and_tangent_has_its_nodes_shape(text):
    rng = np.random.default_rng(5)
    g = sg.graph(text, shapes={k: v for k, v in SHAPES.items() if k in text})
    at = _point(g, rng)
    rv = g.reverse(_seed(g, rng))
    ev = rv.evaluate(at)
    for node, value in ev.adjoints.items():
        assert np.shape(value) == _shape(node), f"adjoint of {node}"
    for x in g.inputs:
        direction = rng.normal(size=x.shape) if _shape(x) else 1.0
        fw = g.forward({x: direction}).evaluate(at)
        for node, value in fw.tangents.items():
            assert np.shape(value) == _shape(node), f"tangent of {node} along {x}"


@pytest.mark.parametrize("text", FORMULAS)
def test_the_vector_jacobian_product_agrees_with_the_forward_sweep(text):
    """⟨ȳ, J ẋ⟩ = ⟨Jᵀ ȳ, ẋ⟩ with random seeds, matrix outputs included."""
    rng = np.random.default_rng(11)
    g = sg.graph(text, shapes={k: v for k, v in SHAPES.items() if k in text})
    at = _point(g, rng)
    seed = _seed(g, rng)
    (f,) = g.outputs
    weights = seed[f] if seed else 1.0
    gradient = g.reverse(seed).evaluate(at).gradient
    directions = {x: rng.normal(size=x.shape) if _shape(x) else 0.7 for x in g.inputs}
    tangent = g.forward(directions).evaluate(at).derivative[f]
    lhs = float(np.sum(np.asarray(weights) * tangent))
    rhs = sum(float(np.sum(gradient[x] * directions[x])) for x in g.inputs)
    assert lhs == pytest.approx(rhs, rel=1e-10)


def test_a_matrix_output_needs_a_seed_of_its_shape():
    g = sg.graph("W*x", shapes={"W": (3, 2), "x": (2, 1)})
    with pytest.raises(sg.GraphError, match=r"f is a 3×1 matrix: reverse mode needs a seed"):
        g.reverse()
    with pytest.raises(sg.GraphError, match=r"not shape \(2, 1\)"):
        g.reverse({"f": np.ones((2, 1))})
    with pytest.raises(sg.GraphError, match="3×1 matrix"):
        g.gradient()


def test_a_numeric_seed_is_a_vector_jacobian_product_everywhere():
    g = sg.graph("W*x", shapes={"W": (3, 2), "x": (2, 1)})
    Y = np.array([[1.0], [-2.0], [0.5]])
    at = {"W": np.arange(6.0).reshape(3, 2), "x": np.array([[1.0], [2.0]])}
    rv = g.reverse({"f": Y})
    assert str(rv.adjoints["W"]) == "fbar*x.T"
    ev = rv.evaluate(at)
    np.testing.assert_allclose(ev.gradient["W"], Y @ at["x"].T)  # the Matrix Cookbook: Y xᵀ
    np.testing.assert_allclose(ev.gradient["x"], at["W"].T @ Y)  # and Wᵀ Y
    fn = sg.compile(rv)  # the seed's numbers go with the compiled function
    np.testing.assert_allclose(fn(at["W"], at["x"])[1][0], Y @ at["x"].T)
    back = sg.from_json(json.loads(json.dumps(sg.to_json(rv))))
    np.testing.assert_allclose(back.evaluate(at).gradient["W"], Y @ at["x"].T)


def test_a_symbolic_seed_gives_the_adjoints_in_its_name():
    g = sg.graph("W*x", shapes={"W": (3, 2), "x": (2, 1)})
    Y = sympy.MatrixSymbol("Y", 3, 1)
    grad = g.reverse({"f": Y}).gradient
    assert (str(grad["W"]), str(grad["x"])) == ("Y*x.T", "W.T*Y")
    assert grad["W"].shape == (3, 2) and grad["x"].shape == (2, 1)


def test_forward_mode_never_calls_a_directional_derivative_a_gradient():
    g = sg.graph("sum(A*x)", shapes={"A": (2, 2), "x": (2, 1)})
    with pytest.raises(sg.GraphError, match="forward mode gives directional derivatives"):
        g.gradient(mode="forward")
    with pytest.raises(sg.GraphError, match="jacobian\\(\\) is for scalar inputs and outputs"):
        g.jacobian()
    grad = g.gradient()  # reverse mode: the gradient, of the inputs' shapes
    assert grad["A"].shape == (2, 2) and grad["x"].shape == (2, 1)


def test_the_cli_refuses_an_unseeded_matrix_output_in_one_line(capsys):
    from symgraph.cli import main

    assert main(["grad", "W*x", "--shapes", "W=3x2,x=2x1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "3×1 matrix" in err[0]
