"""symgraph.parse with shapes: matrix forms built unevaluated (so the graph keeps its
sharing), the lecture's networks typed as a person writes them (adjoints with the right
transposes, numbers against NumPy central differences), programs, shape errors naming
both shapes, refusals without shapes, shapes validation, hostile input."""

from __future__ import annotations

import string
import warnings

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy import (
    HadamardProduct,
    Inverse,
    Lambda,
    MatAdd,
    MatMul,
    MatrixSymbol,
    Trace,
    Transpose,
    ZeroMatrix,
)
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

import symgraph as sg
from symgraph.functions import elementwise, msum, relu, sigmoid
from symgraph.parse import ParseError, Program, parse, parse_expr_text, parse_program
from symgraph.parse.matrices import ENTRY

from .conftest import assert_refused_without_running, central_gradient, random_point

SHAPES = {"W": (3, 2), "x": (2, 1), "b": (3, 1), "y": (3, 1), "A": (2, 2), "V": (2, 3)}
SHAPES |= {"c": (2, 1)}
W, x, b, y, A, V, c = (MatrixSymbol(n, *s) for n, s in SHAPES.items())
k = sympy.Symbol("k", real=True)
d = ENTRY


def _apply(f, m):
    return elementwise(Lambda(d, f(d)), m)


def _minus(m):
    return MatMul(-1, m)


# ---------------------------------------------------------------- accepted forms

ACCEPTED = [
    ("W", W),
    ("W*x", MatMul(W, x)),
    ("W @ x", MatMul(W, x)),
    ("W*x + b", MatAdd(MatMul(W, x), b)),
    ("W*x - y", MatAdd(MatMul(W, x), _minus(y))),
    ("b + W*x", MatAdd(b, MatMul(W, x))),
    ("(W*x - y).T", Transpose(MatAdd(MatMul(W, x), _minus(y)))),
    ("transpose(W*x)", Transpose(MatMul(W, x))),
    ("W.T.T", W),
    ("W.T*y", MatMul(Transpose(W), y)),
    ("V*W*x", MatMul(V, W, x)),
    ("V*(W*x)", MatMul(V, MatMul(W, x))),  # parentheses kept: W x first, then V
    ("2*W", MatMul(2, W)),
    ("W*2", MatMul(2, W)),
    ("k*W*x", MatMul(k, W, x)),
    ("W*x*k/2", MatMul(k / 2, W, x)),
    ("(2*W)*(3*x)", MatMul(6, W, x)),  # scalars float to the front
    ("-W*x", MatMul(-1, W, x)),
    ("-(W*x)", MatMul(-1, W, x)),
    ("--W", W),
    ("0*W", ZeroMatrix(3, 2)),
    ("sum(W)", msum(W)),
    ("sum(W)*x", MatMul(msum(W), x)),
    ("sum(W) + k", msum(W) + k),
    ("trace(A)", Trace(A)),
    ("trace(W.T*W)", Trace(MatMul(Transpose(W), W))),
    ("inverse(A)*x", MatMul(Inverse(A), x)),
    ("hadamard(W*x, b)", HadamardProduct(MatMul(W, x), b)),
    ("hadamard(b, b, b)", HadamardProduct(b, b, b)),
    ("sigmoid(W*x + b)", _apply(sigmoid, MatAdd(MatMul(W, x), b))),
    ("relu(W)", _apply(relu, W)),
    ("abs(W)", _apply(sympy.Abs, W)),
    ("exp(W)", _apply(sympy.exp, W)),
    ("tanh(W)", _apply(sympy.tanh, W)),
    ("log(W, 2)", _apply(lambda a: sympy.log(a, 2), W)),
    ("sqrt(W)", _apply(sympy.sqrt, W)),
    ("sigmoid(x.T*x)", _apply(sigmoid, MatMul(Transpose(x), x))),  # 1×1 stays elementwise
    ("sqrt(x.T*x)", _apply(sympy.sqrt, MatMul(Transpose(x), x))),  # not SymPy's MatPow
]


@pytest.mark.parametrize(("text", "expected"), ACCEPTED, ids=[t for t, _ in ACCEPTED])
def test_matrix_forms_give_the_unevaluated_sympy_expression(text, expected):
    assert parse_expr_text(text, shapes=SHAPES) == expected
    assert parse(text, shapes=SHAPES) == expected


def test_names_given_shapes_are_matrix_symbols_and_others_real_scalars():
    expr = parse("k*W*x + b", shapes=SHAPES)
    assert W in expr.free_symbols and b in expr.free_symbols
    assert k in expr.free_symbols and k.is_real
    assert parse("W", shapes={"W": [3, 2]}) == W  # a list works
    assert parse("W", shapes={"W": (np.int64(3), np.int64(2))}) == W
    assert parse("x + 1", shapes={"unused": (1, 1)}) == sympy.Symbol("x", real=True) + 1


def test_a_transpose_is_never_distributed():
    r = MatAdd(MatMul(W, x), _minus(y))
    expr = parse("(W*x - y).T * (W*x - y)", shapes=SHAPES)
    assert expr == MatMul(Transpose(r), r)
    assert expr.args[0].arg is expr.args[1] or expr.args[0].arg == expr.args[1]
    assert not any(isinstance(a, Transpose) and a.arg == W for a in sympy.preorder_traversal(expr))


def test_elementwise_functions_share_one_variable():
    one, two = parse("sigmoid(W*x)", shapes=SHAPES), parse("sigmoid(W*x)", shapes=SHAPES)
    assert one == two and hash(one) == hash(two)
    assert one.function.variables == (d,) and d.is_real


# ---------------------------------------------------------------- the lecture's networks


def _point(g, seed=0):
    return random_point(g, np.random.default_rng(seed))


def _check_gradient(g, at):
    grad = g.reverse().evaluate(at).gradient
    for s in g.inputs:
        assert np.shape(grad[s.name]) == np.shape(at[s.name]), s
        assert np.allclose(grad[s.name], central_gradient(g, at, s.name), rtol=1e-5, atol=1e-7), s
    return grad


def test_the_lecture_linear_network_typed_as_a_person_writes_it():
    g = sg.graph("sum(sigmoid(W*x + b))", shapes={"W": (3, 2), "x": (2, 1), "b": (3, 1)})
    assert [s.shape for s in g.steps] == [(3, 1), (3, 1), (3, 1), None]
    rv = g.reverse()
    tbar = MatrixSymbol("tbar_2", 3, 1)  # the adjoint of z = W x + b
    assert rv.adjoints["W"] == MatMul(tbar, Transpose(x))  # W̄ = z̄ xᵀ
    assert rv.adjoints["x"] == MatMul(Transpose(W), tbar)  # x̄ = Wᵀ z̄
    assert rv.adjoints["b"] == tbar
    zbar = rv.adjoints["t2"]  # z̄ = σ'(z) ∘ s̄
    assert isinstance(zbar, HadamardProduct)
    slope = next(a for a in zbar.args if isinstance(a, ElementwiseApplyFunction))
    assert slope.function.expr == (1 - sigmoid(d)) * sigmoid(d)
    assert str(rv.adjoints["W"]) == "tbar_2*x.T"
    at = _point(g)
    grad = _check_gradient(g, at)
    z = at["W"] @ at["x"] + at["b"]
    s = 1 / (1 + np.exp(-z))
    assert np.allclose(grad["W"], (s * (1 - s)) @ at["x"].T)
    assert grad["W"].shape == (3, 2)


def test_squared_error_with_hadamard():
    g = sg.graph("sum(hadamard(W*x - y, W*x - y))", shapes=SHAPES)
    residual_steps = [s for s in g.steps if str(g.expand(s.name)) == "W*x - y"]
    assert len(residual_steps) == 1  # W x - y is one shared step
    at = _point(g, 1)
    grad = _check_gradient(g, at)
    residual = at["W"] @ at["x"] - at["y"]
    assert np.allclose(grad["W"], 2 * residual @ at["x"].T)


def test_squared_error_as_a_one_by_one_product():
    g = sg.graph("(W*x - y).T * (W*x - y)", shapes=SHAPES)
    out = g.step[g.outputs[0]]
    assert out.shape == (1, 1)
    (shared,) = {p for p in out.parents}  # both factors are the same node
    assert str(g.expand(shared)) == "W*x - y"
    assert out.expr == MatMul(Transpose(shared), shared)
    assert str(g.reverse().closed_form("W")) == "2*(W*x - y)*x.T"
    at = _point(g, 2)
    grad = _check_gradient(g, at)
    residual = at["W"] @ at["x"] - at["y"]
    assert np.allclose(grad["W"], 2 * residual @ at["x"].T)


def test_a_one_by_one_loss_reads_as_written():
    g = sg.graph("(W*x - y).T * (W*x - y)", shapes=SHAPES)
    assert [str(s) for s in g.steps] == ["t1 = W*x", "t2 = t1 - y", "f = t2.T*t2"]


def test_trace_of_a_gram_matrix():
    g = sg.graph("trace(W.T*W)", shapes=SHAPES)
    at = _point(g, 3)
    assert np.allclose(_check_gradient(g, at)["W"], 2 * at["W"])


def test_two_layer_network():
    g = sg.graph("sum(sigmoid(V*tanh(W*x + b) + c))", shapes=SHAPES)
    assert {s.name for s in g.inputs} == {"V", "W", "x", "b", "c"}
    rv = g.reverse()
    assert str(rv.adjoints["W"]).endswith("*x.T")
    assert str(rv.adjoints["V"]).endswith(".T")
    _check_gradient(g, _point(g, 4))


def test_forms_with_scalars_inverses_and_functions_entry_by_entry():
    sources = [
        "sum(inverse(A.T*A + 3*A)*c) + k*sum(relu(W))",
        "sum(abs(W*x)/k) + sum(log(exp(W), 2))",
        "sum(-(W@x) + 2*b) * k",
        "sigmoid(x.T*x)",
    ]
    for text in sources:
        g = sg.graph(text, shapes=SHAPES)
        at = _point(g, 5)
        if "A" in at:
            at["A"] = at["A"] + 3 * np.eye(2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sg.KinkWarning)
            _check_gradient(g, at)


def test_the_program_form():
    text = "z = W*x + b\ns = sigmoid(z)\nloss = sum(s)"
    program = parse_program(text, shapes=SHAPES)
    assert isinstance(program, Program)
    assert parse(text, shapes=SHAPES) == program
    (z, z_rhs), (s, s_rhs), (loss, _) = program.lines
    assert z == MatrixSymbol("z", 3, 1) and s == MatrixSymbol("s", 3, 1)
    assert z_rhs == MatAdd(MatMul(W, x), b)
    assert s_rhs == _apply(sigmoid, z)
    assert loss == sympy.Symbol("loss", real=True) == program.output
    g = sg.graph(text, shapes=SHAPES)
    assert [str(step.name) for step in g.steps] == ["t1", "z", "s", "loss"]
    rv = g.reverse()
    assert str(rv.adjoints["W"]) == "zbar*x.T"
    _check_gradient(g, _point(g, 6))


def test_a_program_whose_last_line_is_a_bare_matrix_expression():
    program = parse_program("z = W*x\nz + b", shapes=SHAPES)
    assert program.output == MatrixSymbol("f", 3, 1)


def test_shapes_reach_every_text_source_of_graph():
    g = sg.graph(["sum(W)", "trace(A)"], shapes=SHAPES)
    assert [str(s) for s in g.steps] == ["f1 = sum(W)", "f2 = tr(A)"]
    g = sg.graph({"loss": "sum(W*x)"}, shapes=SHAPES)
    assert g.outputs == (sympy.Symbol("loss", real=True),)
    assert sg.build("sum(W)", shapes=SHAPES).inputs == (W,)


# ---------------------------------------------------------------- errors and refusals

ERRORS = [  # (text, fragment of str(error), column)
    ("W*b", "cannot multiply W (3×2) by b (3×1): the inner dimensions 2 and 3 differ", 3),
    ("W*b", "(W.T*b would fit)", 3),
    ("A.^2 + A./A + W*b", "cannot multiply W (3×2) by b (3×1)", 17),  # columns after .^ and ./
    ("W*x*y", "cannot multiply W*x (3×1) by y (3×1)", 5),
    ("x.T*x*W", "sum(...) makes a 1×1 matrix a scalar", 7),
    ("W*x + 1", "cannot add W*x (3×1) and 1 (a scalar)", 7),
    ("1 + W*x", "cannot add 1 (a scalar) and W*x (3×1)", 5),
    ("W*x + x", "cannot add W*x (3×1) and x (2×1): the shapes differ", 7),
    ("W*x - x", "cannot subtract x (2×1) from W*x (3×1): the shapes differ", 7),
    ("x.T*x + W*x", "cannot add x.T*x (1×1) and W*x (3×1): the shapes differ", 9),
    ("W @ 2", "@ multiplies matrices, but 2 is a scalar (use * for a scalar multiple)", 5),
    ("k @ W", "@ multiplies matrices, but k is a scalar", 1),
    ("W**2", "cannot raise the matrix W (3×2) to a power (W.^2 squares each entry; W*W is", 1),
    ("(W*x)**2", "(3×1) to a power ((W*x).^2 squares each entry; (W*x)*(W*x) is a matrix", 1),
    ("W.^x", "cannot raise W (3×2) to x (2×1) entry by entry: the shapes differ", 1),
    ("W.^~2", "bit operators are not supported", 4),
    ("~W", "bit operators are not supported", 1),
    ("W^2", "cannot raise the matrix W (3×2) to a power", 1),
    ("2^W", "a matrix cannot be an exponent: W (3×2)", 1),
    ("W/b", "cannot divide W (3×2) by b (3×1) entry by entry: the shapes differ", 3),
    ("W./b", "cannot divide W (3×2) by b (3×1) entry by entry", 4),
    ("b/A", "cannot divide b (3×1) by A (2×2) entry by entry: the shapes differ (inverse(A)", 3),
    ("norm(k)", "norm() takes a matrix, but k is a scalar", 1),
    ("logsumexp(k)", "logsumexp() takes a matrix, but k is a scalar", 1),
    ("softmax(W)", "softmax() takes a column vector, not W (3×2)", 1),
    ("softmax(x.T)", "softmax() takes a column vector, not x.T (1×2) (softmax(x.T.T) for", 1),
    ("diag(W)", "diag() takes a vector or a square matrix, not W (3×2)", 1),
    ("trace(W)", "trace() takes a square matrix, but W (3×2) is not", 1),
    ("inverse(W)", "inverse() takes a square matrix, but W (3×2) is not", 1),
    ("hadamard(W, b)", "cannot take hadamard of W (3×2) and b (3×1): the shapes differ", 1),
    ("hadamard(W, k)", "hadamard() takes a matrix, but k is a scalar", 1),
    ("sum(k)", "sum() takes a matrix, but k is a scalar (to make k a matrix, pass shapes=", 1),
    ("k.T", "only a matrix has a transpose, but k is a scalar", 1),
    ("max(W, 0)", "max() does not take matrices (entry by entry, max(A, B) = B + relu(A - B)", 1),
    ("min(b, y)", "min() does not take matrices", 1),
    ("where(W > 0, W, 0)", "a condition cannot compare matrices", 7),
    ("where(k > 0, W, 0)", "where() does not take matrices", 1),
    ("piecewise((W, k > 0), (0, True))", "piecewise() does not take matrices", 11),
    ("log(W, k)", "log() applies to a matrix entry by entry", 1),
    ("W.real", "attribute access (a.b) is not allowed (only M.T, a transpose", 1),
    ("W.T.__class__", "attribute access", 1),
    ("exp(W).T.T.x", "attribute access", 1),
    ("W.T(x)", "'.T' is a transpose, not a method (write M.T, without parentheses)", 3),
    ("W[0]", "subscripts", 1),
    ("sum(W, x)", "sum() takes 1 argument(s), not 2", 1),
    ("hadamard(W)", "hadamard() takes >= 2 argument(s), not 1", 1),
]


@pytest.mark.parametrize(("text", "fragment", "column"), ERRORS, ids=[e[0] for e in ERRORS])
def test_shape_errors_name_the_operation_and_both_shapes(text, fragment, column):
    with pytest.raises(ParseError) as info:
        parse(text, shapes=SHAPES)
    error = info.value
    assert fragment in str(error)
    assert "\n" not in str(error)
    assert str(error).startswith(f"line 1, column {column}: ")


def test_an_error_in_an_expression_over_two_lines_has_the_users_position():
    with pytest.raises(ParseError) as info:
        parse("sum((W*x\n + b)*x)", shapes=SHAPES)
    assert "cannot multiply W*x + b (3×1) by x (2×1)" in str(info.value)
    assert (info.value.line, info.value.column) == (2, 7)


NEED_SHAPES = ["W.T", "x @ y", "hadamard(x, y)", "trace(x)", "inverse(x)", "transpose(x)", "sum(x)"]


@pytest.mark.parametrize("text", NEED_SHAPES)
def test_matrix_operations_without_shapes_say_how_to_give_them(text):
    with pytest.raises(ParseError, match=r"pass shapes=\{'[xW]': \(rows, columns\)\}"):
        parse(text)
    with pytest.raises(ParseError, match="shapes="):
        sg.graph(text)


def test_the_hint_for_an_expression_without_a_name():
    with pytest.raises(ParseError, match=r"names become matrices with shapes="):
        parse("(a*b).T")


PROGRAM_ERRORS = [  # (text, shapes, fragment, line)
    ("z = W*x\nq = z*W", SHAPES, "cannot multiply z (3×1) by W (3×2)", 2),
    ("z = W*x\nq = z + x", SHAPES, "cannot add z (3×1) and x (2×1)", 2),
    ("s = sum(W)\nq = s.T", SHAPES, "only a matrix has a transpose, but s is a scalar", 2),
    ("z = W*x", {**SHAPES, "z": (2, 1)}, "'z' has shape 2×1 in shapes; its line makes it 3×1", 1),
    ("z = sum(W)", {**SHAPES, "z": (1, 1)}, "its line makes it a scalar", 1),
    ("q = z*x\nz = W", SHAPES, "'z' is used before its assignment on line 2", 1),
    ("sum = W", SHAPES, "'sum' is a function, not a variable", 1),
]


@pytest.mark.parametrize(("text", "shapes", "fragment", "line"), PROGRAM_ERRORS)
def test_program_shape_errors_name_the_line(text, shapes, fragment, line):
    with pytest.raises(ParseError) as info:
        parse_program(text, shapes=shapes)
    assert fragment in str(info.value)
    assert info.value.line == line


def test_a_given_shape_that_agrees_with_its_line_is_fine():
    program = parse_program("z = W*x\nsum(z)", shapes={**SHAPES, "z": (3, 1)})
    assert program.lines[0][0] == MatrixSymbol("z", 3, 1)


BAD_SHAPES = [  # (shapes, fragment)
    ([("W", (3, 2))], "shapes must be a dict"),
    ({"W": (3,)}, "shapes['W'] is (3,) (two positive integers (rows, columns)"),
    ({"W": (0, 2)}, "shapes['W'] is (0, 2)"),
    ({"W": (-1, 2)}, "two positive integers"),
    ({"W": (3.0, 2)}, "two positive integers"),
    ({"W": (True, 2)}, "two positive integers"),
    ({"W": "32"}, "two positive integers"),
    ({"W": 3}, "two positive integers"),
    ({"W": (3, 2, 1)}, "two positive integers"),
    ({"exp": (1, 1)}, "shapes has 'exp', a function or constant, not a variable"),
    ({"sum": (1, 1)}, "a function or constant"),
    ({"pi": (1, 1)}, "a function or constant"),
    ({"_W": (1, 1)}, "not a valid name"),
    ({"a" * 65: (1, 1)}, "not a valid name"),
    ({"W x": (1, 1)}, "which is not a name"),
    ({"lambda": (1, 1)}, "which is not a name"),
    ({1: (1, 1)}, "which is not a name"),
]


@pytest.mark.parametrize(("shapes", "fragment"), BAD_SHAPES, ids=lambda v: repr(v)[:30])
def test_shapes_are_validated(shapes, fragment):
    for parser in (parse, parse_expr_text, parse_program):
        with pytest.raises(ParseError) as info:
            parser("W", shapes=shapes)
        assert fragment in str(info.value)
    with pytest.raises(ParseError, match="shapes"):
        sg.graph("W", shapes=shapes)


# ---------------------------------------------------------------- hostile input

INJECTIONS = [
    "W.T.__class__",
    "W.T.__class__.__mro__",
    "(W*x).T.__globals__",
    "W.__dict__",
    "sum(W).__class__",
    "W.T.T.T.__init__",
    "transpose(W).__class__.__subclasses__()",
    "hadamard(W, __import__('os').system('touch {marker}'))",
    "sum(eval('W'))",
    "W @ exec('x=1')",
    "z = W.T\nq = z.__class__",
    "getattr(W, 'T')",
    "W.T['a']",
]


@pytest.mark.parametrize("template", INJECTIONS)
def test_injection_with_matrices_is_refused_and_runs_nothing(template, tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    text = template.format(marker=marker)
    assert_refused_without_running(text, monkeypatch, shapes=SHAPES)
    assert not marker.exists()


HOSTILE = {
    "2,000 matrix products": "A" + "*A" * 2000,
    "2,000 matrix sums": "A" + " + A" * 2000,
    "a mismatch after 2,000 sums": "A" + " - A" * 2000 + " + W",
    "a mismatch after 2,000 products": "A" + "@A" * 2000 + "@W",
    "5,000 transposes": "A" + ".T" * 5000,
    "50,000 transposes": "A" + ".T" * 50_000,
    "1,000 nested sums": "sum(" * 1000 + "A" + ")" * 1000,
    "a huge constant times a matrix": "9**9**9*A",
    "2000 large factors times a matrix": "*".join(["2**1000"] * 2000) + "*A",
    "a huge float times a matrix": "1e400*A",
    "division of a matrix by zero": "A/0",
    "a power of a matrix": "exp(A)**(10**100)",
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_matrix_input_is_parsed_or_refused_in_one_line(text):
    # how long each takes is measured by benchmarks/hostile_parse.py, not asserted here
    try:
        parse(text, shapes=SHAPES)
    except ParseError as error:
        assert "\n" not in str(error)


TOKENS = [
    *["W", "x", "b", "A", "k", "2", "0.5", "e"],
    *["sum", "trace", "inverse", "transpose", "hadamard", "sigmoid", "max", "where", "exp"],
    *["(", ")", ",", "+", "-", "*", "/", "**", "^", "@", ".T", ".", "__class__", "[", "]"],
    *["<", ">", "=", "\n", " ", "and", "True"],
]


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(alphabet=string.printable, max_size=40),
        st.lists(st.sampled_from(TOKENS), max_size=30).map("".join),
        st.lists(st.sampled_from(TOKENS), max_size=30).map(" ".join),
    )
)
def test_fuzz_with_shapes_only_parse_error_escapes(text):
    try:
        result = parse(text, shapes=SHAPES)
    except ParseError as error:
        assert "\n" not in str(error)
        return
    if isinstance(result, list):  # a vector function
        assert result and all(isinstance(v, sympy.Basic) for v in result)
        return
    assert isinstance(result, sympy.Basic | Program)
