"""Hessians and Jacobians of matrix expressions in matrix form.

Oracles independent of the extraction rules: the entry-by-entry graph
(``sg.entrywise(g).hessian(wrt=...)``, scalar forward-over-reverse), NumPy central
differences of the evaluated reverse-mode gradient, the closed forms of the Matrix
Cookbook (2AᵀA, B + Bᵀ, Xᵀ diag(σ(z)(1−σ(z))) X), and symmetry.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
import sympy
from sympy import HadamardProduct, Identity, MatrixSymbol

import symgraph as sg
from symgraph import linear_maps
from symgraph.functions import msum
from symgraph.linear_maps import NotALinearMap, coefficient, commutation, value, vec
from symgraph.naming import entry_name

SHAPES = {"A": (3, 2), "w": (2, 1), "y": (3, 1), "X": (4, 2), "B": (2, 2)}
SHAPES |= {"W": (3, 2), "V": (2, 3), "x": (2, 1), "b": (3, 1), "r": (2, 1)}
MLP = "sum(hadamard(V*tanh(W*x + b) - r, V*tanh(W*x + b) - r))/2"


def _graph(text: str, **shapes) -> sg.Graph:
    return sg.graph(text, shapes={**{k: v for k, v in SHAPES.items() if k in text}, **shapes})


def _point(g: sg.Graph, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {x.name: rng.normal(size=getattr(x, "shape", ())) * 0.7 for x in g.inputs}


def _entries(x) -> list[str]:
    """The names of x's entries in vec order (column-major)."""
    rows, cols = x.shape
    return [entry_name(x.name, i, j) for j in range(cols) for i in range(rows)]


def _scalar_point(at: dict) -> dict:
    return {
        entry_name(k, i, j): float(v[i, j])
        for k, v in at.items()
        for i in range(v.shape[0])
        for j in range(v.shape[1])
    }


def _numbers(m: sympy.Matrix, at: dict) -> np.ndarray:
    subs = {sympy.Symbol(k, real=True): sympy.Float(v) for k, v in at.items()}
    return np.array(m.xreplace(subs).evalf(), dtype=float)


def entrywise_hessian(g: sg.Graph, wrt: str, at: dict) -> np.ndarray:
    """The scalar graph's Hessian over the entries of ``wrt``, in vec order, at ``at``."""
    s = sg.entrywise(g)
    names = [str(x) for x in s.inputs]
    picked = [names.index(n) for n in _entries(g.symbol(wrt))]
    return _numbers(s.hessian().extract(picked, picked), _scalar_point(at))  # today's path


def gradient_at(g: sg.Graph, wrt: str, at: dict) -> np.ndarray:
    return np.asarray(g.reverse().evaluate(at).gradient[wrt], dtype=float)


def central_hessian(g: sg.Graph, wrt: str, at: dict, h: float = 1e-5) -> np.ndarray:
    """∂vec(x̄)/∂vec(x) by central differences of the evaluated gradient."""
    x0 = np.asarray(at[wrt], dtype=float)
    columns = []
    for k in range(x0.size):
        step = np.zeros(x0.size)
        step[k] = h
        step = step.reshape(x0.shape, order="F")
        plus = gradient_at(g, wrt, {**at, wrt: x0 + step})
        minus = gradient_at(g, wrt, {**at, wrt: x0 - step})
        columns.append(((plus - minus) / (2 * h)).ravel(order="F"))
    return np.column_stack(columns)


def _agrees(g: sg.Graph, wrt: str, seed: int = 0) -> np.ndarray:
    """The matrix-form Hessian at a random point, checked against both oracles."""
    at = _point(g, seed)
    H = g.hessian(wrt=wrt)
    n = linear_maps.size(g.symbol(wrt))
    assert H.shape == (n, n)
    ours = np.asarray(value(H, at), dtype=float)
    np.testing.assert_allclose(ours, ours.T, atol=1e-10)  # a Hessian is symmetric
    np.testing.assert_allclose(ours, entrywise_hessian(g, wrt, at), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(ours, central_hessian(g, wrt, at), rtol=1e-5, atol=1e-6)
    return ours


# ---------------------------------------------------------------- the Matrix Cookbook's


def test_least_squares_is_twice_a_transpose_a():
    g = _graph("sum(hadamard(A*w - y, A*w - y))")
    A = g.symbol("A")
    H = g.hessian(wrt="w")
    assert H == 2 * A.T * A and H.shape == (2, 2)
    at = _point(g)
    np.testing.assert_allclose(value(H, at), 2 * at["A"].T @ at["A"])
    _agrees(g, "w")


def test_a_quadratic_form_is_b_plus_b_transpose():
    g = _graph("w.T*B*w")
    B = g.symbol("B")
    assert g.hessian(wrt="w") == B + B.T
    _agrees(g, "w")


def test_logistic_regression_is_x_transpose_diag_x():
    g = _graph("sum(softplus(-hadamard(y, X*w)))", y=(4, 1))
    H = g.hessian(wrt="w")
    assert H.shape == (2, 2) and "diag(" in sympy.srepr(H)
    at = _point(g, 3)
    at["y"] = np.array([[1.0], [-1.0], [-1.0], [1.0]])  # labels ±1: y∘y = 1
    z = at["y"] * (at["X"] @ at["w"])
    s = 1 / (1 + np.exp(-z))
    cookbook = at["X"].T @ np.diag((s * (1 - s)).ravel()) @ at["X"]
    np.testing.assert_allclose(value(H, at), cookbook, rtol=1e-12)
    _agrees(g, "w", seed=4)  # general y, against the entrywise oracle


def test_sum_of_tanh():
    g = _graph("sum(tanh(A*w))")
    at = _point(g, 1)
    u = at["A"] @ at["w"]
    cookbook = at["A"].T @ np.diag((-2 * np.tanh(u) * (1 - np.tanh(u) ** 2)).ravel()) @ at["A"]
    np.testing.assert_allclose(_agrees(g, "w", 1), cookbook, rtol=1e-10)


@pytest.mark.parametrize("wrt", ["b", "x"])
def test_a_two_layer_mlp_with_respect_to_a_vector(wrt):
    g = _graph(MLP)
    _agrees(g, wrt, seed=2)


def test_a_one_by_one_residual_keeps_every_term():
    """V (1×3) makes the residual 1×1, whose adjoint is a scalar: the Gauss-Newton term
    VᵀV of the Hessian is there (the gradient program keeps one symbol per name)."""
    g = sg.graph(MLP, shapes={**SHAPES, "V": (1, 3), "r": (1, 1)})
    _agrees(g, "b", seed=5)


# ---------------------------------------------------------------- matrix inputs: vec


def test_a_matrix_input_gives_the_hessian_of_vec():
    g = _graph("trace(W.T*W) + sum(x.T*W.T*b)")
    assert g.hessian(wrt="W") == 2 * Identity(6)
    _agrees(g, "W")


@pytest.mark.parametrize("text", [MLP, "logdet(B)", "sum(exp(W))*sum(hadamard(W, W))"])
def test_vec_hessians_of_matrices_agree_with_the_oracles(text):
    g = _graph(text)
    wrt = "B" if "B" in text else "W"
    at = _point(g, 6)
    if wrt == "B":  # inside the domain of logdet
        at["B"] = at["B"] @ at["B"].T + np.eye(2)
    H = g.hessian(wrt=wrt)
    ours = np.asarray(value(H, at), dtype=float)
    np.testing.assert_allclose(ours, ours.T, atol=1e-9)
    np.testing.assert_allclose(ours, central_hessian(g, wrt, at), rtol=1e-5, atol=1e-6)
    if wrt == "W":
        np.testing.assert_allclose(ours, entrywise_hessian(g, wrt, at), rtol=1e-9, atol=1e-10)


def test_several_inputs_give_a_symmetric_block_matrix():
    g = _graph(MLP)
    H = g.hessian(wrt=["b", "x"])
    assert isinstance(H, sympy.BlockMatrix) and H.shape == (5, 5)
    at = _point(g, 7)
    ours = np.asarray(value(H, at), dtype=float)
    np.testing.assert_allclose(ours, ours.T, atol=1e-10)
    s = sg.entrywise(g)
    oracle = _numbers(
        s.hessian(wrt=_entries(g.symbol("b")) + _entries(g.symbol("x"))), _scalar_point(at)
    )
    np.testing.assert_allclose(ours, oracle, rtol=1e-9, atol=1e-10)


def test_scalar_inputs_keep_todays_hessian():
    g = sg.graph("x**2*y + sin(y)")
    assert g.hessian(wrt=["x", "y"]) == g.hessian()
    assert g.hessian(wrt="y") == sympy.Matrix([[-sympy.sin(g.symbol("y"))]])


# ---------------------------------------------------------------- Hessian-vector products


@pytest.mark.parametrize("text", [MLP, "sum(hadamard(A*w - y, A*w - y))", "logdet(B)"])
def test_hessian_vector_products_of_a_matrix_input(text):
    wrt = next(n for n in ("W", "A", "B") if n in text)
    g = _graph(text)
    at = _point(g, 8)
    if wrt == "B":
        at["B"] = at["B"] @ at["B"].T + np.eye(2)
    x = g.symbol(wrt)
    D = MatrixSymbol("D", *x.shape)
    product = g.hessian(wrt=wrt, direction=D)
    assert product.shape == x.shape
    d = np.random.default_rng(9).normal(size=x.shape)
    ours = np.asarray(value(product, {**at, "D": d}), dtype=float)
    h = 1e-5
    plus = gradient_at(g, wrt, {**at, wrt: at[wrt] + h * d})
    minus = gradient_at(g, wrt, {**at, wrt: at[wrt] - h * d})
    np.testing.assert_allclose(ours, (plus - minus) / (2 * h), rtol=1e-5, atol=1e-7)
    if wrt != "B":  # the entrywise Hessian contracted with vec(D)
        full = entrywise_hessian(g, wrt, at) @ d.ravel(order="F")
        np.testing.assert_allclose(ours.ravel(order="F"), full, rtol=1e-9, atol=1e-10)
    by_name = g.hessian(wrt=wrt, direction="D")
    assert by_name == product
    numeric = g.hessian(wrt=wrt, direction=d)
    assert not numeric.free_symbols & {D}
    np.testing.assert_allclose(np.asarray(value(numeric, at), dtype=float), ours, rtol=1e-12)


def test_the_least_squares_product_is_readable():
    g = _graph("sum(hadamard(A*w - y, A*w - y))")
    V, w = MatrixSymbol("V", 3, 2), g.symbol("w")
    assert g.hessian(wrt="A", direction=V) == 2 * V * w * w.T


# ---------------------------------------------------------------- Jacobians


def entrywise_jacobian(g: sg.Graph, wrt: str, at: dict) -> np.ndarray:
    s = sg.entrywise(g)
    (o,) = g.outputs
    rows = _entries(o) if getattr(o, "shape", None) else [o.name]
    full = s.jacobian("forward")
    names = [str(x) for x in s.inputs]
    outs = [str(f) for f in s.outputs]
    cols = [names.index(n) for n in _entries(g.symbol(wrt))]
    picked = full.extract([outs.index(r) for r in rows], cols)
    return _numbers(picked, _scalar_point(at))


@pytest.mark.parametrize(
    ("text", "wrt", "shape"),
    [
        ("tanh(A*w)", "w", (3, 2)),
        ("V*tanh(W*x + b) - r", "b", (2, 3)),
        ("V*tanh(W*x + b) - r", "x", (2, 2)),
        ("hadamard(A*w, y)", "y", (3, 3)),
        ("W*x + b", "W", (3, 6)),
        ("sum(tanh(A*w))", "w", (1, 2)),
    ],
)
def test_jacobians_in_numerator_layout(text, wrt, shape):
    g = _graph(text)
    J = g.jacobian(wrt=wrt)
    assert J.shape == shape
    at = _point(g, 10)
    ours = np.asarray(value(J, at), dtype=float).reshape(shape)
    np.testing.assert_allclose(ours, entrywise_jacobian(g, wrt, at), rtol=1e-9, atol=1e-12)


def test_a_scalar_output_gives_the_gradient_as_a_row():
    g = _graph("sum(tanh(A*w))")
    at = _point(g, 11)
    row = np.asarray(value(g.jacobian(wrt="w"), at), dtype=float)
    np.testing.assert_allclose(row, gradient_at(g, "w", at).T, rtol=1e-12)


def test_a_matrix_output_of_a_matrix_input_is_the_jacobian_of_vecs():
    g = _graph("A*W.T", A=(2, 2), W=(3, 2))
    J = g.jacobian(wrt="W")  # vec(A Wᵀ) = (I ⊗ A) K vec W
    assert J.shape == (6, 6)
    at = _point(g, 12)
    np.testing.assert_allclose(
        np.asarray(value(J, at), dtype=float), entrywise_jacobian(g, "W", at), atol=1e-12
    )


def test_several_inputs_give_blocks_across():
    g = _graph("W*x + b")
    J = g.jacobian(wrt=["x", "b"])
    assert J.shape == (3, 5)
    at = _point(g, 13)
    np.testing.assert_allclose(
        np.asarray(value(J, at), dtype=float), np.hstack([at["W"], np.eye(3)]), atol=1e-12
    )


def test_without_wrt_the_scalar_jacobian_is_todays():
    g = sg.graph(["x*y", "sin(x)"])
    assert g.jacobian(wrt=["x", "y"]) == g.jacobian("forward") == g.jacobian()


# ---------------------------------------------------------------- refusals


def test_matrix_inputs_without_wrt_are_refused_with_the_way_out():
    g = _graph("sum(hadamard(A*w - y, A*w - y))")
    with pytest.raises(sg.GraphError, match=r"A, w, y are matrix inputs: pass wrt="):
        g.hessian()
    with pytest.raises(sg.GraphError, match=r"jacobian\(\) is for scalar inputs.*pass wrt="):
        _graph("W*x").jacobian()
    with pytest.raises(sg.GraphError, match="needs wrt="):
        g.hessian(direction="V")
    with pytest.raises(sg.GraphError, match=r"W is a matrix input: .*direction=V"):
        sg.graph("sum(exp(W))", shapes={"W": (2, 2)}).hessian()


def test_bad_wrt_and_directions_are_refused():
    g = _graph("sum(hadamard(A*w - y, A*w - y))")
    with pytest.raises(sg.GraphError, match="wrt= names inputs"):
        g.hessian(wrt="f")
    with pytest.raises(sg.GraphError, match=r"needs its shape \(2, 1\)"):
        g.hessian(wrt="w", direction=np.ones((3, 1)))
    with pytest.raises(sg.GraphError, match="one input in wrt="):
        g.hessian(wrt=["w", "A"], direction="V")
    with pytest.raises(sg.GraphError, match=r"3×1 matrix: reverse mode needs a seed"):
        _graph("A*w").hessian(wrt="w")


def test_a_map_outside_the_rules_is_refused_never_guessed():
    d = MatrixSymbol("d", 2, 1)
    with pytest.raises(NotALinearMap, match="a product of two factors holding the direction"):
        coefficient(HadamardProduct(d, d), d)
    with pytest.raises(NotALinearMap, match=r"direction=V"):
        coefficient(sympy.exp(sg.functions.msum(d)), d)
    with pytest.raises(NotALinearMap, match="not linear"):
        coefficient(d + MatrixSymbol("c", 2, 1), d)


# ---------------------------------------------------------------- the building blocks


def test_vec_and_the_commutation_matrix_by_numbers():
    rng = np.random.default_rng(14)
    G, M = MatrixSymbol("G", 3, 2), rng.normal(size=(3, 2))
    np.testing.assert_allclose(value(vec(G), {"G": M}).ravel(), M.ravel(order="F"))
    K = np.asarray(commutation(3, 2), dtype=float)
    np.testing.assert_allclose(K @ M.ravel(order="F"), M.T.ravel(order="F"))


def test_zero_blocks_keep_their_shapes():
    g = sg.graph("sum(A*w) + c**2", shapes={"A": (3, 2), "w": (2, 1)})
    H = g.hessian(wrt=["w", "c"])
    assert H.shape == (3, 3)
    np.testing.assert_allclose(
        np.asarray(value(H, _point(g)), dtype=float), np.diag([0.0, 0.0, 2.0])
    )
    g = sg.graph({"F": "W*x", "s": "c**2"}, shapes={"W": (3, 2), "x": (2, 1)})
    J = g.jacobian(wrt=["x", "c"])  # outputs down, inputs across: ∂F/∂c and ∂s/∂x are 0
    at = _point(g, 15)
    expected = np.block([[at["W"], np.zeros((3, 1))], [np.zeros((1, 2)), 2 * at["c"]]])
    np.testing.assert_allclose(np.asarray(value(J, at), dtype=float), expected)


def test_a_direction_named_as_an_input_of_another_shape_is_refused():
    g = _graph(MLP)
    with pytest.raises(sg.GraphError, match="names the input V"):
        g.hessian(wrt="W", direction="V")


def test_entrywise_writes_out_a_folded_argument():
    """``softplus(-t2)``: the negation folds into the elementwise step (the oracle above
    relies on the bridge writing it out entry by entry)."""
    g = sg.graph("sum(softplus(-hadamard(y, x)))", shapes={"x": (2, 1), "y": (2, 1)})
    s = sg.entrywise(g)
    assert [x.name for x in s.inputs] == ["x_00", "x_10", "y_00", "y_10"]
    at = {"x": np.array([[0.3], [-1.2]]), "y": np.array([[1.0], [-0.5]])}
    expected = np.sum(np.log1p(np.exp(-at["x"] * at["y"])))
    assert s.evaluate(_scalar_point(at)).outputs["f"] == pytest.approx(expected)


@pytest.mark.parametrize(
    ("text", "wrt"),
    [
        ("sum(sigmoid(W*x + b))/2", "x"),
        ("sum(sigmoid(W*x + b))/2", "b"),
        ("(A*w - y).T*(A*w - y)", "w"),
        ("sum(exp(A*w))*sum(hadamard(w, w))", "w"),
        ("sum(inverse(B + w*w.T)*w)", "w"),
        ("trace(inverse(B + w*w.T))", "w"),
        ("sum(hadamard(W*x, W*x))", "W"),
        ("logdet(B + w*w.T)", "w"),
    ],
)
def test_more_hessians_agree_with_the_oracles(text, wrt):
    g = _graph(text)
    at = _point(g, 16)
    if "B" in text:  # B + w wᵀ stays invertible, with a positive determinant
        at["B"] = at["B"] @ at["B"].T + np.eye(2)
    H = g.hessian(wrt=wrt)
    ours = np.asarray(value(H, at), dtype=float)
    np.testing.assert_allclose(ours, ours.T, atol=1e-9)
    np.testing.assert_allclose(ours, central_hessian(g, wrt, at), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours, entrywise_hessian(g, wrt, at), rtol=1e-9, atol=1e-10)


# ---------------------------------------------------------------- a Hessian on every path


@pytest.mark.parametrize(
    ("formula", "wrt"),
    [("sum(softplus(-hadamard(y, X*w)))", "w"), (MLP, "W"), (MLP, "b")],
    ids=["logistic regression", "MLP vec(W)", "MLP b"],
)
def test_a_hessian_is_a_graph_like_any_other(formula, wrt):
    """Its graph evaluates and compiles to the oracle's numbers, round-trips through JSON
    and prints without SymPy's class names (diag, ⊗, f'')."""
    g = _graph(formula, **({"y": (4, 1)} if "X" in formula else {}))
    at = _point(g, seed=3)
    oracle = entrywise_hessian(g, wrt, at)
    hessian = sg.graph(g.hessian(wrt=wrt))
    np.testing.assert_allclose(hessian.evaluate(at).values["f"], oracle, atol=1e-10)
    compiled, derivatives = sg.compile(hessian)(**at)
    np.testing.assert_allclose(compiled, oracle, atol=1e-10)
    assert derivatives == ()
    back = sg.from_json(sg.to_json(hessian))
    np.testing.assert_allclose(back.evaluate(at).values["f"], oracle, atol=1e-10)
    shown = str(hessian) + sg.to_latex(hessian) + sg.to_dot(hessian)
    for name in ("DiagMatrix", "KroneckerProduct", "HadamardProduct", "Lambda", "_d"):
        assert name not in shown, (name, shown)


def test_compile_refuses_what_is_not_a_graph_or_sweep():
    with pytest.raises(TypeError, match="Graph, Forward or Reverse"):
        sg.compile(_graph("sum(A*w)").hessian(wrt="w"))


@pytest.mark.parametrize(
    "factors", [((2, 3), (3, 2)), ((2, 3), (1, 2), (3, 2))], ids=["A⊗B", "A⊗D⊗B"]
)
def test_kronecker_products_pull_like_central_differences(factors):
    """The Kronecker product's pull (block sums of C̄ ∘ (1 ⊗ B), of C̄ ∘ (A ⊗ 1)), which
    the pictures and JSON of a vec-Hessian need, against NumPy's np.kron differenced."""
    mats = [MatrixSymbol(f"M{k}", *shape) for k, shape in enumerate(factors)]
    product = sympy.KroneckerProduct(*mats)
    weight = MatrixSymbol("C", *product.shape)
    g = sg.graph(msum(HadamardProduct(product, weight)))
    at = _point(g, seed=5)
    gradient = g.reverse().evaluate(at).gradient

    def f(values):
        return float(np.sum(functools.reduce(np.kron, values[: len(mats)]) * values[-1]))

    values = [at[m.name] for m in mats] + [at["C"]]
    for k, m in enumerate(mats):
        estimate = np.zeros(m.shape)
        for index in np.ndindex(m.shape):
            up, down = [v.copy() for v in values], [v.copy() for v in values]
            up[k][index] += 1e-6
            down[k][index] -= 1e-6
            estimate[index] = (f(up) - f(down)) / 2e-6
        np.testing.assert_allclose(gradient[m.name], estimate, atol=1e-8)
