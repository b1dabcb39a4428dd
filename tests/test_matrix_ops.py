"""Matrix operations beyond the products: det and logdet, against the Matrix Cookbook,
central differences, forward mode, compiled code and JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest

import symgraph as sg

SHAPES = {"X": (3, 3), "A": (3, 3), "x": (3, 1)}


def _point(g, seed=2):
    rng = np.random.default_rng(seed)
    return {v: rng.normal(size=v.shape) + 3 * np.eye(*v.shape) for v in g.inputs}


def _central(g, at, x, h=1e-6):
    """∂f/∂X entry by entry by central differences (the oracle)."""
    value = at[x]
    out = np.zeros(value.shape)
    for ij in np.ndindex(value.shape):
        step = np.zeros(value.shape)
        step[ij] = h
        hi = g.evaluate({**at, x: value + step}).outputs["f"]
        lo = g.evaluate({**at, x: value - step}).outputs["f"]
        out[ij] = (hi - lo) / (2 * h)
    return out


@pytest.mark.parametrize(
    ("text", "cookbook"),
    [
        ("det(X)", lambda X: np.linalg.det(X) * np.linalg.inv(X).T),  # eq. 49
        ("logdet(X)", lambda X: np.linalg.inv(X).T),  # eq. 57
        ("log(det(X))", lambda X: np.linalg.inv(X).T),
        ("det(A.T*A)", lambda A: 2 * np.linalg.det(A.T @ A) * A @ np.linalg.inv(A.T @ A)),
    ],
)
def test_det_and_logdet_follow_the_matrix_cookbook(text, cookbook):
    g = sg.graph(text, shapes={k: v for k, v in SHAPES.items() if k in text})
    at = _point(g)
    (x,) = g.inputs
    gradient = g.reverse().evaluate(at).gradient[x]
    np.testing.assert_allclose(gradient, cookbook(at[x]), rtol=1e-10)
    np.testing.assert_allclose(gradient, _central(g, at, x), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(sg.compile(g.reverse())(at[x])[1][0], gradient, rtol=1e-12)
    closed = g.gradient()[x]
    assert closed.shape == x.shape
    back = sg.from_json(json.loads(json.dumps(sg.to_json(g.reverse()))))
    np.testing.assert_allclose(back.evaluate(at).gradient[x], gradient)


def test_forward_mode_through_det_agrees_with_reverse():
    g = sg.graph("logdet(X) + sum(X*x)", shapes={"X": (3, 3), "x": (3, 1)})
    at = _point(g)
    V = np.random.default_rng(4).normal(size=(3, 3))
    X = g.symbol("X")
    tangent = g.forward({"X": V}).evaluate(at).derivative["f"]
    gradient = g.reverse().evaluate(at).gradient[X]
    assert tangent == pytest.approx(float(np.sum(gradient * V)), rel=1e-10)


def test_det_takes_a_square_matrix():
    with pytest.raises(sg.ParseError, match="square"):
        sg.graph("det(W)", shapes={"W": (3, 2)})
    with pytest.raises(sg.ParseError, match="takes a matrix"):
        sg.graph("logdet(x)")
