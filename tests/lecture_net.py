"""The lecture's linear network and a point, shared by the matrix check, finite-difference
and command-line tests, and the network written again in plain NumPy (their oracle); its
graph is conftest's ``net`` fixture."""

from __future__ import annotations

import numpy as np

NET = "sum(sigmoid(W*x + b))"
SHAPES = {"W": (3, 2), "x": (2, 1), "b": (3, 1)}
W = np.array([[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]])
X = np.array([[1.0], [2.0]])
B = np.array([[0.1], [-0.2], [0.3]])
AT = {"W": W, "x": X, "b": B}


def network(W, x, b) -> float:
    return float(np.sum(1 / (1 + np.exp(-(W @ x + b)))))


def central(point, name: str, h: float = 1e-6) -> np.ndarray:
    """NumPy central differences of :func:`network` in every entry of ``name``, at a point
    keyed by the inputs' names (or symbols)."""
    values = {str(k): np.array(v, dtype=float) for k, v in point.items()}
    out = np.zeros_like(values[name])
    for index in np.ndindex(*out.shape):
        up = {k: v.copy() for k, v in values.items()}
        down = {k: v.copy() for k, v in values.items()}
        up[name][index] += h
        down[name][index] -= h
        out[index] = (network(**up) - network(**down)) / (2 * h)
    return out
