"""Finite differences over matrix inputs: every entry shifted in turn.

Oracles: NumPy differences of the network written by hand (the same formula, computed
here), and NumPy central differences with a tiny step for the exact gradient.
"""

from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg

from .lecture_net import AT, SHAPES, B, W, X, network


def differences(name: str, h: float, lo: int, hi: int) -> np.ndarray:
    """(f(v + hi·h) − f(v + lo·h)) / ((hi − lo)·h) in every entry of ``name``, by NumPy."""
    out = np.zeros_like(AT[name])
    for index in np.ndindex(*out.shape):
        up = {k: v.copy() for k, v in AT.items()}
        down = {k: v.copy() for k, v in AT.items()}
        up[name][index] += hi * h
        down[name][index] += lo * h
        out[index] = (network(**up) - network(**down)) / ((hi - lo) * h)
    return out


@pytest.mark.parametrize(("scheme", "lo", "hi"), [("forward", 0, 1), ("central", -1, 1)])
def test_every_entry_against_numpy(net, scheme, lo, hi):
    fd = sg.finite_difference(net, AT, h=0.01, scheme=scheme)
    for name in SHAPES:
        assert fd.estimates[name].shape == fd.exact[name].shape == SHAPES[name]
        np.testing.assert_allclose(fd.estimates[name], differences(name, 0.01, lo, hi), rtol=1e-9)
        np.testing.assert_allclose(fd.exact[name], differences(name, 1e-6, -1, 1), atol=1e-8)
        error = np.abs(fd.estimates[name] - fd.exact[name])
        assert fd.abs_error[name] == pytest.approx(error.max())
        assert fd.rel_error[name] == pytest.approx((error / np.abs(fd.exact[name])).max())
        assert fd.worst[name] == np.unravel_index(error.argmax(), error.shape)
        f_lo, f_hi = fd.evaluations[name]
        assert f_lo.shape == f_hi.shape == SHAPES[name]


def test_one_matrix_input_a_step_and_nested_lists(net):
    at = {"W": W.tolist(), "x": [1, 2], "b": B.ravel().tolist()}  # a flat list is a column
    fd = sg.finite_difference(net, at, h=1e-5, scheme="central", wrt="W")
    assert [str(n) for n in fd.estimates] == ["W"]
    np.testing.assert_allclose(fd.estimates["W"], differences("W", 1e-5, -1, 1), rtol=1e-9)
    step = sg.finite_difference(net, at, h=1e-5, scheme="central", wrt="t2")
    z = W @ X + B
    sigma = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(step.exact["t2"], sigma * (1 - sigma), rtol=1e-12)
    np.testing.assert_allclose(step.estimates["t2"], sigma * (1 - sigma), atol=1e-9)


def test_the_table_is_aligned_entry_by_entry(net):
    text = str(sg.finite_difference(net, AT, h=0.01, wrt="W"))
    assert "at W = [[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]], b = [0.1, -0.2, 0.3]ᵀ" in text
    lines = text.splitlines()
    assert lines[1] == "  ∂f/∂W, entry by entry (W is 3×2):"
    table = lines[2:9]
    assert table[0].split() == ["entry", "estimate", "exact", "error", "relative"]
    assert [r.split()[0] for r in table[1:]] == [f"W[{i},{j}]" for i in range(3) for j in range(2)]
    assert len({len(r) for r in table}) == 1  # right-aligned numbers: rows of one width
    assert lines[9].startswith("    largest error ") and " at W[" in lines[9]


def test_a_large_matrix_shows_its_largest_error():
    g = sg.graph("sum(tanh(A*x))", shapes={"A": (6, 5), "x": (5, 1)})
    rng = np.random.default_rng(0)
    fd = sg.finite_difference(g, {"A": rng.normal(size=(6, 5)), "x": rng.normal(size=5)}, wrt="A")
    text = str(fd)
    assert "(a 6×5 matrix)" in text and "A[0,0]" not in text
    i, j = fd.worst["A"]
    assert f"∂f/∂A (A is 6×5): largest error {fd.abs_error['A']:.3g} at A[{i},{j}]" in text


def test_a_sweep_over_matrix_inputs(net):
    sweep = sg.finite_difference_sweep(net, AT, scheme="central")
    assert round(sweep.order["W"]) == 2 and round(sweep.order["x"]) == 2
    for name in SHAPES:
        exact = differences(name, 1e-6, -1, 1)
        rows = zip(sweep.hs, sweep.estimates[name], sweep.errors[name], strict=True)
        for h, estimate, error in rows:
            assert estimate.shape == SHAPES[name]
            assert error == pytest.approx(np.abs(estimate - exact).max(), abs=1e-8), h
        h, error = sweep.floor[name]
        assert 1e-8 <= h <= 1e-3 and error < 1e-8
        assert len(sweep.worst[name]) == 2
    text = str(sweep)
    assert "(of a matrix: its largest over the entries)" in text
    assert "∂f/∂W: error ~ h^2.00 (O(h^2) expected); round-off floor at h = " in text
    assert f"at W[{sweep.worst['W'][0]},{sweep.worst['W'][1]}])" in text


def test_a_matrix_output_needs_weights_of_its_shape():
    g = sg.graph("W*x", shapes={"W": (3, 2), "x": (2, 1)})
    at = {"W": W, "x": X}
    with pytest.raises(sg.GraphError, match="needs a seed of its shape"):
        sg.finite_difference(g, at)
    y = np.array([[1.0], [2.0], [3.0]])
    fd = sg.finite_difference(g, at, scheme="central", output={"f": y})
    assert fd.output == "⟨f̄, f⟩"
    np.testing.assert_allclose(fd.estimates["x"], W.T @ y, rtol=1e-9)
    np.testing.assert_allclose(fd.estimates["W"], y @ X.T, rtol=1e-9)
    with pytest.raises(sg.GraphError, match="finite differences need numbers"):
        sg.finite_difference(g, at, output={"f": g.reverse({"f": y}).seed[g.outputs[0]]})


def test_scalar_and_matrix_inputs_together():
    g = sg.graph("c*sum(W*x)", shapes={"W": (2, 2), "x": (2, 1)})
    at = {"c": 2.0, "W": [[1, 2], [3, 4]], "x": [1, -1]}
    fd = sg.finite_difference(g, at, h=0.5)
    assert isinstance(fd.estimates["c"], float) and fd.estimates["c"] == pytest.approx(-2.0)
    np.testing.assert_allclose(fd.estimates["W"], 2 * np.array([[1, -1], [1, -1]]), rtol=1e-12)
    assert "∂f/∂c ≈ " in str(fd) and "W[1,1]" in str(fd)
