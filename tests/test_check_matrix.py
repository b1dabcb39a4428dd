"""Checks of matrix claims: ∂f/∂W as a formula in the graph's shapes, or as numbers.

Oracles independent of the rules: ``sympy.diff`` of the network written out entry by
entry (``sg.entrywise``), and NumPy central differences of the network written by hand.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy

import symgraph as sg

from .lecture_net import AT, SHAPES, B, W, X, central, network


def sympy_gradient(g: sg.Graph, name: str, point: dict) -> np.ndarray:
    """∂f/∂(name) by sympy.diff of the entry-by-entry expression, at the point."""
    s = sg.entrywise(g)
    f = s.expand(s.outputs[0])
    env = {
        sympy.Symbol(f"{k}_{i}{j}", real=True): float(v[i, j])
        for k, v in point.items()
        for i, j in np.ndindex(*v.shape)
    }
    rows, cols = SHAPES[name]
    grad = np.empty((rows, cols))
    for i, j in np.ndindex(rows, cols):
        grad[i, j] = float(sympy.diff(f, sympy.Symbol(f"{name}_{i}{j}", real=True)).evalf(subs=env))
    return grad


# ---------------------------------------------------------------- formulas


def test_the_right_claims_are_right(net):
    report = sg.check(net, {"W": "tbar_2*x.T", "x": "W.T*tbar_2", "b": "tbar_2"}, rng=1)
    assert report.ok, str(report)
    assert all(r.verdict == "right (equal symbolically)" for r in report.results)
    assert "✓ ∂f/∂W = tbar_2*x.T: right" in str(report)


def test_a_right_claim_in_the_inputs_agrees_entry_by_entry(net):
    # σ'(z) = σ(z)σ(−z): right, but not the same expression as the board form
    claim = "hadamard(sigmoid(W*x + b), sigmoid(-(W*x + b)))*x.T"
    result = sg.check(net, {"W": claim}, rng=2)["W"]
    assert result.ok, str(result)


def test_a_forgotten_transpose_whose_shapes_do_not_fit_is_named(net):
    result = sg.check(net, {"W": "x*tbar_2"}, rng=1)["W"]
    assert not result.ok and "the shapes do not fit" in result.verdict
    assert "x (2×1) by tbar_2 (3×1)" in result.verdict
    assert result.departure == "a forgotten transpose: tbar_2*x.T is right"
    result = sg.check(net, {"W": "x*tbar_2.T"}, rng=1)["W"]
    assert "the shapes differ: the claim is 2×3, W is 3×2" in result.verdict
    assert result.departure == "a forgotten transpose: tbar_2*x.T is right"
    result = sg.check(net, {"x": "W*tbar_2"}, rng=1)["x"]
    assert result.departure == "a forgotten transpose: W.T*tbar_2 is right"
    report = sg.check(net, {"x": "W*tbar_2", "b": "tbar_2"}, at=AT, rng=1)  # a point too
    assert report["b"].ok and report["x"].departure.startswith("a forgotten transpose")


def test_a_forgotten_transpose_of_a_square_matrix_is_named():
    g = sg.graph("sum(sigmoid(A*x))", shapes={"A": (2, 2), "x": (2, 1)})
    result = sg.check(g, {"A": "x*tbar_1.T"}, rng=3)["A"]
    assert not result.ok and result.verdict == "wrong"
    assert result.departure == "this is the transpose of ∂f/∂A: a forgotten transpose?"
    claimed, correct = result.counterexample.claimed, result.counterexample.correct
    np.testing.assert_allclose(claimed, correct.T, rtol=1e-12)


def test_a_scalar_for_a_matrix_is_a_wrong_shape_but_a_number_fills_it(net):
    result = sg.check(net, {"W": "sum(x)"}, rng=1)["W"]
    assert not result.ok and "the claim is a scalar, W is 3×2" in result.verdict
    assert str(net.reverse().adjoints[net.symbol("t3")]) == "1"  # the ones matrix, printed 1
    assert sg.check(net, {"t3": "1"}, rng=1).ok and sg.check(net, {"t3": 1.0}, at=AT).ok
    result = sg.check(net, {"W": "0"}, rng=1)["W"]
    assert not result.ok and result.verdict == "wrong"
    assert not sg.check(net, {"W": 0.0}, at=AT).ok


def test_a_wrong_claim_has_a_counterexample_with_arrays(net):
    report = sg.check(net, {"W": "2*tbar_2*x.T"}, rng=4)
    result = report["W"]
    assert not result.ok and result.departure == "off by a constant factor 2"
    point, claimed, correct = result.counterexample
    assert {str(k): np.shape(v) for k, v in point.items()} == SHAPES
    assert claimed.shape == correct.shape == (3, 2)
    np.testing.assert_allclose(correct, central(dict(point.items()), "W"), atol=1e-7)
    np.testing.assert_allclose(claimed, 2 * correct, rtol=1e-12)
    text = str(report)
    assert "      claimed [[" in text and "      correct [[" in text and "the most at W[" in text


def test_the_sign_and_a_wrong_step_adjoint(net):
    assert sg.check(net, {"W": "-tbar_2*x.T"}, rng=1)["W"].departure == "the sign is wrong"
    report = sg.check(net, {"t2": "2*tbar_3", "x": "W.T*tbar_2", "t1": "tbar_2"}, rng=1)
    assert not report["t2"].ok and report.first_wrong.name == "t2"
    assert not report["x"].ok and report["x"].inherits_from == "t2"
    assert "it uses your t̄2, which is wrong" in report["x"].departure


def test_a_claim_on_a_scalar_input_of_a_matrix_graph():
    g = sg.graph("c*sum(W*x)", shapes={"W": (2, 2), "x": (2, 1)})
    assert sg.check(g, {"c": "sum(W*x)"}, rng=1).ok
    assert not sg.check(g, {"c": "sum(W)"}, rng=1).ok
    assert sg.check(g, {"W": "tbar_1*x.T"}, rng=1).ok  # t̄1 = c·1 already holds c
    assert not sg.check(g, {"W": "c*tbar_1*x.T"}, rng=1).ok


def test_a_name_outside_the_graph_is_an_error(net):
    with pytest.raises(sg.GraphError, match="not a node of this graph"):
        sg.check(net, {"W": "y*tbar_2*x.T"}, rng=1)


# ---------------------------------------------------------------- numbers


def test_numbers_against_sympy_diff_entry_by_entry(net):
    exact = sympy_gradient(net, "W", AT)
    np.testing.assert_allclose(exact, central(AT, "W"), atol=1e-8)
    assert sg.check(net, {"W": exact.round(4).tolist()}, at=AT, tol=1e-4).ok
    assert sg.check(net, {"W": exact}, at=AT).ok
    flat = sympy_gradient(net, "b", AT).ravel().tolist()  # a flat list fills the column
    assert sg.check(net, {"b": flat}, at=AT).ok


def test_one_wrong_entry_is_found(net):
    claimed = sympy_gradient(net, "W", AT)
    claimed[1, 0] += 0.1
    result = sg.check(net, {"W": claimed}, at=AT, tol=1e-6)["W"]
    assert not result.ok
    assert "1 of 6 entries off, the most at W[1,0]" in result.verdict
    assert result.counterexample.claimed[1, 0] == pytest.approx(claimed[1, 0])


def test_transposed_numbers_are_a_forgotten_transpose(net):
    result = sg.check(net, {"W": sympy_gradient(net, "W", AT).T}, at=AT)["W"]
    assert not result.ok and "the shapes differ: the claim is 2×3, W is 3×2" in result.verdict
    assert result.departure == "its transpose is right: a forgotten transpose"
    assert "correct: [[" in str(result)


def test_finite_differences_passed_off_as_the_gradient(net):
    h, f0 = 0.01, network(W, X, B)
    estimate = np.zeros_like(W)
    for index in np.ndindex(*W.shape):
        moved = W.copy()
        moved[index] += h
        estimate[index] = (network(moved, X, B) - f0) / h
    result = sg.check(net, {"W": estimate}, at=AT)["W"]
    assert not result.ok
    assert result.departure == "these are forward differences with h = 0.01, not the derivative"


def test_numbers_for_a_matrix_need_the_point(net):
    with pytest.raises(sg.GraphError, match="give at="):
        sg.check(net, {"W": W.tolist()})
    with pytest.raises(sg.GraphError, match="numbers must be finite"):
        sg.check(net, {"W": [[1, "a"]]}, at=AT)


def test_a_program_with_its_own_matrix_names():
    src = "z = W*x + b\ns = sigmoid(z)\nf = sum(s)"
    g = sg.graph(src, shapes=SHAPES)
    # σ'(z) = σ(z)σ(−z), written with the person's own names s and z
    report = sg.check(g, {"W": "zbar*x.T", "z": "hadamard(sbar, hadamard(s, sigmoid(-z)))"}, rng=0)
    assert report.ok, str(report)
    result = sg.check(g, {"W": "x*zbar"}, rng=0)["W"]
    assert result.departure == "a forgotten transpose: zbar*x.T is right"
