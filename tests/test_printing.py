"""Matrix results read like a slide: no SymPy class name in any text, LaTeX or DOT output.

The matrix graphs of a course (the lecture's network, least squares, logistic regression,
a two-layer MLP, traces, det/logdet/inverse) are rendered every way symgraph renders them;
none may show ``HadamardProduct``, ``MatMul``, ``OneMatrix`` and the like. A few renderings
are pinned, and the lecture's network and the MLP compile with ``pdflatex`` without an
overfull line.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import sympy
from sympy import HadamardProduct, MatrixSymbol, OneMatrix, Symbol, Trace

import symgraph as sg
from symgraph.cli import main
from symgraph.export.latex import tex
from symgraph.functions import msum
from symgraph.printing import operation, picture, text

from .test_export import pdflatex

NET = ("sum(sigmoid(W*x + b))", {"W": (3, 2), "x": (2, 1), "b": (3, 1)})
MLP = (
    "sum(hadamard(V*tanh(W*x + b) - y, V*tanh(W*x + b) - y))/2",
    {"W": (4, 3), "x": (3, 1), "b": (4, 1), "V": (2, 4), "y": (2, 1)},
)
GRAPHS = {
    "lecture": NET,
    "least squares": ("sum(hadamard(A*x - y, A*x - y))", {"A": (3, 2), "x": (2, 1), "y": (3, 1)}),
    "logistic regression": (
        "sum(softplus(-hadamard(y, X*w)))",
        {"X": (4, 3), "w": (3, 1), "y": (4, 1)},
    ),
    "mlp": MLP,
    "traces": ("trace(W.T*W) + sum(x.T*W.T*b)", {"W": (3, 2), "x": (2, 1), "b": (3, 1)}),
    "half a sum": ("sum(x)/2", {"x": (3, 1)}),
    "det, logdet, inverse": ("det(X) + logdet(X) + sum(inverse(X))", {"X": (2, 2)}),
}
#: What must never reach a reader (``Trace(`` with its bracket: ``tr`` is the reader's).
CLASS_NAMES = (
    *("HadamardProduct", "MatAdd", "MatMul", "msum", "OneMatrix", "Trace(", "Determinant"),
    *("ElementwiseApplyFunction", "Lambda", "Dummy", "Inverse", "Transpose", "MatrixSymbol"),
    *("Identity", "ZeroMatrix", "linear map (matrix)", "^{T}", "_d"),
)


def _point(shapes: dict) -> dict:
    rng = np.random.default_rng(7)
    at = {n: rng.normal(size=s) for n, s in shapes.items()}
    if "X" in at and shapes["X"] == (2, 2):
        at["X"] = np.array([[2.0, 0.5], [0.25, 1.5]])  # det > 0: logdet is defined
    return at


def _renderings(src: str, shapes: dict) -> dict[str, str]:
    """Every text a person reads of one graph: steps, sweeps, closed forms, LaTeX, DOT."""
    g = sg.graph(src, shapes=shapes)
    rv, fw, at = g.reverse(), g.forward(g.inputs[0]), _point(shapes)
    closed = "\n".join(f"{k} = {text(v)}" for k, v in rv.gradient.items())
    return {
        "steps": str(g),
        "reverse sweep": str(rv),
        "forward sweep": str(fw),
        "gradient": closed,
        "latex": sg.to_latex(rv),
        "latex at a point": sg.to_latex(rv, at=at, standalone=True),
        "latex forward": sg.to_latex(fw),
        "dot": sg.to_dot(g),
        "dot reverse": sg.to_dot(rv, at=at),
        "dot forward": sg.to_dot(fw),
    }


@pytest.mark.parametrize("name", GRAPHS)
def test_no_sympy_class_name_reaches_a_reader(name):
    for what, out in _renderings(*GRAPHS[name]).items():
        shown = [c for c in CLASS_NAMES if c in out]
        assert not shown, f"{name}, {what}: {shown} in\n{out}"


# ---------------------------------------------------------------- text


def test_text_of_the_matrix_operations():
    X, w, y = MatrixSymbol("X", 3, 2), MatrixSymbol("w", 2, 1), MatrixSymbol("y", 3, 1)
    B, b = MatrixSymbol("B", 2, 2), Symbol("b", real=True)
    assert text(HadamardProduct(X * w, y)) == "(X*w) ∘ y"
    assert text(OneMatrix(2, 2) / msum(B)) == "ones(2, 2)/sum(B)"
    assert text(Trace(w.T * w) + b) == "b + w.T*w"  # the trace of a 1×1 is its entry
    assert text(Trace(w.T * w) ** 2) == "(w.T*w)**2"
    assert text(Trace(B)) == "tr(B)" and text(sympy.Determinant(B)) == "det(B)"
    assert text(sympy.Inverse(B)) == "inverse(B)" and text(sympy.Identity(2)) == "I"


def test_steps_and_sweeps_of_the_lecture_network():
    g = sg.graph(*NET[:1], shapes=NET[1])
    assert str(g).splitlines() == ["t1 = W*x", "t2 = b + t1", "t3 = sigmoid(t2)", "f = sum(t3)"]
    rv = str(g.reverse()).splitlines()
    # each step as the LaTeX writes it: the sum over the children, then the board form
    assert "tbar_3 = fbar*ones(3, 1) = ones(3, 1)" in rv and "tbar_2 = tbar_3 ∘ sigmoid'(t2)" in rv
    assert "Wbar = tbar_1*x.T = tbar_2*x.T" in rv and "xbar = W.T*tbar_1 = W.T*tbar_2" in rv


def test_the_logistic_regression_gradient_reads_with_circles():
    g = sg.graph(*GRAPHS["logistic regression"])
    assert "t2 = t1 ∘ y" in str(g)
    assert "∘ y" in text(g.reverse().gradient["w"])


def test_operations_are_named_as_a_reader_names_them():
    g = sg.graph(*NET[:1], shapes=NET[1])
    named = [operation(s.expr) for s in g.steps]
    assert named == ["matrix product", "add", "sigmoid entrywise", "sum"]
    assert "matrix product, 3×1" in sg.to_dot(g) and "sigmoid entrywise, 3×1" in sg.to_dot(g)


def test_an_operation_prints_itself():
    class size(sympy.Function):  # an operation added later, with its own printing
        def _sympystr(self, printer):
            return f"‖{printer._print(self.args[0])}‖"

        def _latex(self, printer):
            return rf"\lVert {printer._print(self.args[0])} \rVert"

    x = MatrixSymbol("x", 3, 1)
    assert text(size(x) + 1) == "1 + ‖x‖" and picture(size(x.T)) == "‖xᵀ‖"
    assert tex(size(x.T)) == r"\lVert x^{\top} \rVert"


# ---------------------------------------------------------------- LaTeX


def test_latex_of_the_matrix_operations():
    w, B = MatrixSymbol("w", 2, 1), MatrixSymbol("B", 2, 3)
    assert tex(OneMatrix(3, 1)) == r"\mathbf{1}_{3}"
    assert tex(OneMatrix(1, 3)) == r"\mathbf{1}_{3}^{\top}"
    assert tex(OneMatrix(2, 3)) == r"\mathbf{1}_{2 \times 3}"
    assert tex(Trace(w.T * w)) == r"w^{\top} w"
    assert tex(Trace(B * B.T)) == r"\operatorname{tr}\left(B B^{\top}\right)"
    assert tex(sympy.Rational(1, 2) * OneMatrix(3, 1)) == r"\frac{1}{2} \mathbf{1}_{3}"
    assert tex(HadamardProduct(B, B)) == r"B \circ B"


def test_the_ones_matrix_is_bold_and_the_seed_is_not_juxtaposed():
    rv = sg.graph(*NET[:1], shapes=NET[1]).reverse()
    out = sg.to_latex(rv)
    assert r"\bar{t}_{3} &= \bar{f} \mathbf{1}_{3} = \mathbf{1}_{3}" in out
    assert r"\bar{W} &= \bar{t}_{1} x^{\top}" in out
    half = sg.to_latex(sg.graph("sum(x)/2", shapes={"x": (3, 1)}).reverse())
    assert r"\bar{f} \cdot \frac{1}{2}" in half
    assert r"\frac{\partial f}{\partial x} &= \frac{1}{2} \mathbf{1}_{3}" in half
    assert not re.search(r"\\bar\{\w\} 1\b", out + half)


def test_a_slope_entry_by_entry_keeps_its_prime_outside_the_name():
    out = sg.to_latex(sg.graph(*MLP).reverse())
    assert r"\tanh'\left(t_{2}\right)" in out and "{'" not in out


def test_the_shapes_line_up_in_a_column_of_their_own():
    g = sg.graph(*NET[:1], shapes=NET[1])
    for out in (sg.to_latex(g), sg.to_latex(g.reverse(), at=_point(NET[1]))):
        bare = re.sub(r"\\begin\{bmatrix\}.*?\\end\{bmatrix\}", "M", out)
        shaped = [line for line in bare.splitlines() if r"\in \mathbb{R}" in line]
        assert len(shaped) == 6  # W, b, x, t1, t2, t3
        assert {line.partition(r"\in")[0].count("&") for line in shaped} == {3}


def test_matrix_entries_share_their_decimals():
    rv = sg.graph(*NET[:1], shapes=NET[1]).reverse()
    at = {"W": np.array([[0.5, -1], [1.5, 0.25], [-0.5, 2]]), "x": [[1], [2]], "b": [[0], [1], [0]]}
    out = sg.to_latex(rv, at=at)
    assert r"W &= \begin{bmatrix}0.50 & -1.00 \\ 1.50 & 0.25 \\ -0.50 & 2.00\end{bmatrix}" in out


@pytest.mark.parametrize("case", [NET, MLP], ids=["lecture", "mlp"])
def test_the_standalone_document_has_no_overfull_line(case, tmp_path):
    src, shapes = case
    document = sg.to_latex(
        sg.graph(src, shapes=shapes).reverse(), at=_point(shapes), standalone=True
    )
    pdf = pdflatex(document, tmp_path)
    log = pdf.with_suffix(".log").read_text(errors="replace")
    assert pdf.exists() and "Overfull \\hbox" not in log


# ---------------------------------------------------------------- DOT


def test_dot_edges_carry_their_pull_and_push():
    g = sg.graph("W*x", shapes={"W": (3, 2), "x": (2, 1)})
    pulls = sg.to_dot(g)
    assert "t̄ ↦ t̄ xᵀ" in pulls and "t̄ ↦ Wᵀ t̄" in pulls
    pushes = sg.to_dot(g.forward({"x": 1}))
    assert "ṫ ↦ W ṫ" in pushes and "ṫ ↦ ṫ x" in pushes
    net = sg.to_dot(sg.graph(*NET[:1], shapes=NET[1]).reverse())
    assert "t̄ ↦ t̄ ∘ σ'(t₂)" in net and "t̄ ↦ t̄ 𝟏" in net
    assert "matrix edges their pull" in net


def test_pictures_write_products_side_by_side():
    W, x = MatrixSymbol("W", 3, 2), MatrixSymbol("x", 2, 1)
    X = MatrixSymbol("X", 2, 2)
    assert picture(W.T * W * x) == "Wᵀ W x" and picture(sympy.Inverse(X)) == "X⁻¹"
    assert picture(-2 * W * x) == "-2 W x" and picture(W * x / 2) == "W x/2"


# ---------------------------------------------------------------- the command line


@pytest.mark.parametrize("name", ["logistic regression", "mlp", "traces"])
def test_the_command_line_prints_no_class_name(name, capsys):
    src, shapes = GRAPHS[name]
    argv = ["grad", src, "--shapes", ",".join(f"{n}={m}x{k}" for n, (m, k) in shapes.items())]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert main([*argv, "--json"]) == 0
    out += json.dumps(json.loads(capsys.readouterr().out), ensure_ascii=False)
    shown = [c for c in CLASS_NAMES if c in out]
    assert not shown and ("∘" in out or "tr(" in out), out
