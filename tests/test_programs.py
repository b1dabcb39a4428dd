"""Programs as people write them: rebound names (versions c, c_2, ...), augmented
assignment, method calls (x.relu()), the operators people paste (·, ×, ⋅, −, ÷), single
letters as variables, vector functions as text and explicit outputs.

Oracles: micrograd's published numbers, sympy.diff of the same program written as one
expression by hand, forward against reverse mode, NumPy central differences."""

from __future__ import annotations

import string
from itertools import pairwise

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy import MatrixSymbol, Max, Symbol

import symgraph as sg
from symgraph.parse import ParseError, Program, parse, parse_expr_text, parse_program

a, b, c, x, y = (Symbol(n, real=True) for n in "abcxy")

# micrograd's test_more_ops, as written there (a = -4, b = 2 are its inputs)
MORE_OPS = """
c = a + b
d = a * b + b**3
c += c + 1
c += 1 + c + (-a)
d += d * 2 + (b + a).relu()
d += 3 * d + (b - a).relu()
e = c - d
f = e**2
g = f / 2.0
g += 10.0 / f
"""
# micrograd's test_sanity_check (x = -4)
SANITY = """
z = 2*x + 2 + x
q = z.relu() + z*x
h = (z*z).relu()
y = h + q + q*x
"""
MODES = ["forward", "reverse"]


def _more_ops_by_hand(a, b):
    """The same program as one expression, each rebinding inlined by hand (relu = max(0, .))."""
    c1 = a + b
    d1 = a * b + b**3
    c2 = c1 + c1 + 1
    c3 = c2 + 1 + c2 + (-a)
    d2 = d1 + d1 * 2 + Max(0, b + a)
    d3 = d2 + 3 * d2 + Max(0, b - a)
    f = (c3 - d3) ** 2
    return f / 2 + 10 / f


def _gradient(g, mode, at):
    """The value of the output and its gradient, from the reverse sweep or one forward
    sweep per input."""
    if mode == "reverse":  # the test's own table of two ways, not the library's dispatch
        ev = g.reverse().evaluate(at)
        return ev.values[g.outputs[0]], {s.name: v for s, v in ev.gradient.items()}
    grad = {}
    for s in g.inputs:
        ev = g.forward(s).evaluate(at)
        grad[s.name] = ev.derivative[g.outputs[0]]
    return ev.values[g.outputs[0]], grad


# ---------------------------------------------------------------- micrograd


@pytest.mark.parametrize("mode", MODES)
def test_micrograd_more_ops_runs_as_written_with_its_published_numbers(mode):
    g = sg.graph(MORE_OPS)
    assert [s.name for s in g.inputs] == ["a", "b"] and g.outputs == (Symbol("g_2", real=True),)
    value, grad = _gradient(g, mode, {"a": -4, "b": 2})
    assert value == pytest.approx(24.7041, abs=1e-4)
    assert grad["a"] == pytest.approx(138.8338, abs=1e-4)
    assert grad["b"] == pytest.approx(645.5773, abs=1e-4)


@pytest.mark.parametrize("point", [(-4, 2), (1.5, 0.5), (-0.7, 3.1)])
def test_micrograd_more_ops_against_sympy_diff_of_the_inlined_expression(point):
    g = sg.graph(MORE_OPS)
    oracle = _more_ops_by_hand(a, b)
    at = dict(zip((a, b), point, strict=True))
    closed = g.gradient(mode="reverse")
    for s in (a, b):
        expected = float(sympy.diff(oracle, s).subs(at))
        assert float(closed[s].subs(at)) == pytest.approx(expected, rel=1e-12)
        assert float(g.gradient(mode="forward")[s].subs(at)) == pytest.approx(expected, rel=1e-12)
    assert float(g.expand(g.outputs[0]).subs(at)) == pytest.approx(float(oracle.subs(at)))


def test_micrograd_steps_show_each_version():
    program = parse(MORE_OPS)
    names = [s.name for s, _ in program.lines]
    assert names == ["c", "d", "c_2", "c_3", "d_2", "d_3", "e", "f", "g", "g_2"]
    assert program.final("c") == Symbol("c_3", real=True) and program.output.name == "g_2"
    assert dict(program.versions)["d"] == tuple(Symbol(n, real=True) for n in ("d", "d_2", "d_3"))
    text = str(sg.graph(MORE_OPS))
    assert "c_2 = 2*c + 1" in text and "e = c_3 - d_3" in text and "g_2 = g + " in text
    assert r"c_{3} &= - a + 2 c_{2} + 1" in sg.to_latex(sg.graph(MORE_OPS))


@pytest.mark.parametrize("mode", MODES)
def test_micrograd_sanity_check(mode):
    value, grad = _gradient(sg.graph(SANITY), mode, {"x": -4})
    assert value == pytest.approx(-20.0) and grad["x"] == pytest.approx(46.0)


# ---------------------------------------------------------------- rebinding

AUGMENTED = [  # (program, the same by hand)
    ("c = x*y\nc += x", x * y + x),
    ("c = x*y\nc -= sin(x) + y", x * y - (sympy.sin(x) + y)),
    ("c = x + y\nc *= 2 + x", (x + y) * (2 + x)),
    ("c = x + y\nc /= x*y + 3", (x + y) / (x * y + 3)),
    ("c = x + y\nc **= 2", (x + y) ** 2),
    ("c = x\nc = c + 1\nc = c * c", (x + 1) ** 2),
    ("c = x\nd = c\nc = 2*c\nf = c + d", 3 * x),  # d keeps the first version
]


@pytest.mark.parametrize(("text", "by_hand"), AUGMENTED)
def test_augmented_assignment_is_the_operation_on_the_latest_version(text, by_hand):
    g = sg.graph(text)
    at = {x: 0.7, y: -1.3}
    assert float(g.expand(g.outputs[0]).subs(at)) == pytest.approx(float(by_hand.subs(at)))
    for mode in MODES:
        closed = g.gradient(mode=mode)
        for s in g.inputs:
            expected = float(sympy.diff(by_hand, s).subs(at))
            assert float(closed[s].subs(at)) == pytest.approx(expected, rel=1e-12)


def test_a_version_name_skips_names_the_program_uses():
    program = parse_program("c = x\nc_2 = y\nc += c_2\nc += 1")
    assert [s.name for s, _ in program.lines] == ["c", "c_2", "c_3", "c_4"]
    assert program.final("c").name == "c_4" and program.final("c_2").name == "c_2"
    with pytest.raises(KeyError):
        program.final("x")


def test_generated_steps_are_not_printed_like_a_version():
    g = sg.graph("t = x*y\nt += sin(x)\nt *= exp(y)")
    names = [s.name.name for s in g.steps]
    assert names == ["t", "v1", "t_2", "v2", "t_3"]  # not t1, t2: t2 and t_2 both print t₂


def test_a_program_without_rebinding_is_unchanged():
    program = parse_program("t1 = exp(u1)\nf = t1 + 1")
    assert program.versions == () and program == Program(program.lines, program.output)


def test_a_rebound_matrix_against_central_differences():
    shapes = {"W": (3, 2), "x": (2, 1)}
    g = sg.graph("h = W*x\nh = tanh(h)\nh += W*x\nf = sum(h)", shapes=shapes)
    assert [(s.name.name, s.name.shape) for s in g.steps if s.name.name.startswith("h")] == [
        ("h", (3, 1)),
        ("h_2", (3, 1)),
        ("h_3", (3, 1)),
    ]
    rng = np.random.default_rng(3)
    W, xv = rng.normal(size=(3, 2)), rng.normal(size=(2, 1))
    grad = g.reverse().evaluate({"W": W, "x": xv}).gradient

    def f(W, xv):
        return float(np.sum(np.tanh(W @ xv) + W @ xv))

    h, fd = 1e-6, np.zeros((3, 2))
    for i, j in np.ndindex(3, 2):
        E = np.zeros((3, 2))
        E[i, j] = h
        fd[i, j] = (f(W + E, xv) - f(W - E, xv)) / (2 * h)
    np.testing.assert_allclose(np.asarray(grad["W"], dtype=float), fd, rtol=1e-6, atol=1e-8)


PROGRAM_ERRORS = [  # (text, fragment, line, column)
    ("x = x + 1", "an input cannot be rebound", 1, 5),
    ("x += 1", "'x' is used before its assignment on line 1", 1, 1),
    ("y = e\ne = 3", "assigns the constant e", 1, 5),
    ("pi = 3", "'pi' is a constant and cannot be assigned (the constants are e", 1, 1),
    ("π = 3", "'π' is a constant", 1, 1),
    ("a = 1\na %= 2", "augmented assignment is not supported", 2, 1),
    ("a = 1\na >>= 2", "augmented assignment is not supported", 2, 1),
    ("a = 1\na.b += 2", "must be a name", 2, 1),
    ("v = [x, y]", "a program line holds one value, not a list", 1, 5),
    ("t = x\nt, sin(t)", "outputs=[...]", 2, 1),
    ("c = x\nc += expp(c)", "did you mean 'exp'", 2, 6),
]


@pytest.mark.parametrize(("text", "fragment", "line", "column"), PROGRAM_ERRORS)
def test_program_errors_name_the_place(text, fragment, line, column):
    with pytest.raises(ParseError) as info:
        sg.graph(text)
    assert fragment in str(info.value)
    assert (info.value.line, info.value.column) == (line, column)


def test_a_program_may_name_a_step_e_and_then_e_is_that_step():
    g = sg.graph("e = 2*x\nf = e + 1")
    assert [s.name.name for s in g.steps] == ["e", "f"] and g.inputs == (x,)
    assert parse("exp(1) + e") == sympy.E + sympy.E  # without a line e, e is Euler's number


# ---------------------------------------------------------------- methods


@pytest.mark.parametrize(
    ("text", "call"),
    [
        ("x.relu()", "relu(x)"),
        ("(x + y).exp()", "exp(x + y)"),
        ("x.tanh() + y.sigmoid()", "tanh(x) + sigmoid(y)"),
        ("x.log()", "log(x)"),
        ("x.log(2)", "log(x, 2)"),
        ("x.max(y)", "max(x, y)"),
        ("x.sqrt().sin()", "sin(sqrt(x))"),
        ("(x*x).relu()**2", "relu(x*x)**2"),
    ],
)
def test_a_method_call_is_the_function_of_the_value_before_the_dot(text, call):
    assert parse(text) == parse(call)


def test_methods_on_matrices():
    shapes = {"W": (3, 2), "x": (2, 1)}
    assert parse("(W*x).relu().sum()", shapes) == parse("sum(relu(W*x))", shapes)
    assert parse("W.T.exp()", shapes) == parse("exp(W.T)", shapes)


METHOD_ERRORS = [  # (text, fragment, column)
    ("x.rleu()", "unknown method '.rleu()': not a known function (did you mean '.relu()'?)", 3),
    ("x + y.__class__()", "unknown method '.__class__()'", 7),
    ("x.relu(1)", "relu() takes 1 argument(s), not 2 (the value before the dot is the first", 1),
    ("x.where(x, 1)", "where() is not a method", 3),
    ("x.T()", "'.T' is a transpose, not a method", 3),
    ("x.relu", "attribute access (a.b) is not allowed (call it: x.relu())", 1),
    ("x·y.foo()", "unknown method '.foo()'", 5),
]


@pytest.mark.parametrize(("text", "fragment", "column"), METHOD_ERRORS)
def test_method_errors(text, fragment, column):
    with pytest.raises(ParseError) as info:
        parse(text)
    assert fragment in str(info.value)
    assert (info.value.line, info.value.column) == (1, column)


# ---------------------------------------------------------------- names and operators

LETTERS = ["E", "I", "N", "S", "O", "Q", "oo", "zoo", "nan", "gamma", "beta", "Symbol"]


def test_single_letters_and_sympy_names_are_variables_on_every_path():
    text = " + ".join(f"{n}*{m}" for n, m in pairwise(LETTERS))
    g = sg.graph(text)
    assert sorted(s.name for s in g.inputs) == sorted(LETTERS)
    assert all(type(s) is Symbol and s.is_real for s in g.inputs)
    at = {n: 0.5 + i / 10 for i, n in enumerate(LETTERS)}
    grad = g.reverse().evaluate(at).gradient
    for i, n in enumerate(LETTERS):  # d/dn of the chain n_{i-1}*n_i + n_i*n_{i+1}
        expected = sum(at[LETTERS[j]] for j in (i - 1, i + 1) if 0 <= j < len(LETTERS))
        assert grad[n] == pytest.approx(expected)
    compiled = sg.compile(g.reverse())
    assert compiled(**at)[0] == pytest.approx(g.reverse().evaluate(at).values[g.outputs[0]])


def test_the_constants_are_e_and_pi_only():
    assert parse("e + pi + π") == sympy.E + 2 * sympy.pi
    assert parse("E + e") == Symbol("E", real=True) + sympy.E
    with pytest.raises(ParseError, match=r"the constants are e \(Euler's number\) and pi or π"):
        parse("e(x)")


@pytest.mark.parametrize(
    ("typed", "ascii"),
    [
        ("x·y", "x*y"),
        ("x×y + 2×x", "x*y + 2*x"),
        ("x⋅y", "x*y"),
        ("x − y", "x - y"),
        ("−x", "-x"),
        ("x ÷ y", "x / y"),
        ("2·x^2 − 3·x·y", "2*x**2 - 3*x*y"),
        ("c = a·b\nc −= a", "c = a*b\nc -= a"),
    ],
)
def test_pasted_operators_are_the_operators(typed, ascii):
    assert parse(typed) == parse(ascii)


@pytest.mark.parametrize(
    ("text", "column"),
    [("x·y + expp(x)", 7), ("x × y × expp(x)", 9), ("a − b·c ÷ d + expp(x)", 15)],
)
def test_positions_stay_right_after_pasted_operators(text, column):
    with pytest.raises(ParseError) as info:
        parse(text)
    assert info.value.column == column and text[column - 1 :].startswith("expp")


# ---------------------------------------------------------------- vector functions


@pytest.mark.parametrize(
    "text", ["[x*y, sin(x)]", "x*y, sin(x)", "(x*y, sin(x))", "[x*y, sin(x),]"]
)
def test_a_vector_function_as_text(text):
    g, expected = sg.graph(text), sg.graph(["x*y", "sin(x)"])
    assert g.outputs == expected.outputs == (Symbol("f1", real=True), Symbol("f2", real=True))
    assert str(g) == str(expected)
    assert g.jacobian() == sympy.Matrix([[y, x], [sympy.cos(x), 0]])


def test_a_vector_function_keeps_shapes_for_its_items():
    shapes = {"W": (3, 2), "x": (2, 1)}
    g = sg.graph("[sum(W*x), x.T*x]", shapes=shapes)
    assert len(g.outputs) == 2
    assert parse("[sum(W*x), x.T*x]", shapes) == [
        parse("sum(W*x)", shapes),
        parse("x.T*x", shapes),
    ]


VECTOR_ERRORS = [  # (text, fragment, column)
    ("[]", "an empty list has no outputs", 1),
    ("()", "an empty list has no outputs", 1),
    ("[[1, 2], [3, 4]]", "a list inside a list is not supported (a vector function is a flat", 2),
    ("[x, (y, x)]", "a list inside a list", 5),
    ("[x, sin([y])]", "lists and the like are not allowed", 9),
    ("[x, *y]", "starred", 5),
]


@pytest.mark.parametrize(("text", "fragment", "column"), VECTOR_ERRORS)
def test_vector_errors(text, fragment, column):
    with pytest.raises(ParseError) as info:
        sg.graph(text)
    assert fragment in str(info.value)
    assert (info.value.line, info.value.column) == (1, column)


def test_one_expression_is_not_a_list():
    with pytest.raises(ParseError, match=r"found a list \(a list \[f1, f2\] is a vector function"):
        parse_expr_text("[x, y]")


# ---------------------------------------------------------------- outputs


def test_explicit_outputs_of_a_program():
    text = "c = x*y\nc += sin(x)\nd = 2*c\nc *= d"
    g = sg.graph(text, outputs=["c", "d"])
    assert [o.name for o in g.outputs] == ["c_3", "d"]
    assert sg.graph(text, outputs=["c_2"]).outputs == (Symbol("c_2", real=True),)
    assert sg.graph(text, outputs="d").outputs == (Symbol("d", real=True),)
    c1 = x * y + sympy.sin(x)
    by_hand = sympy.Matrix([2 * c1**2, 2 * c1])
    jac = g.jacobian()
    assert jac.shape == (2, 2)
    at = {x: 0.3, y: 1.7}
    expected = by_hand.jacobian([x, y]).subs(at)
    for mode in ("forward", "reverse"):
        assert (g.jacobian(mode=mode).subs(at) - expected).norm() < 1e-12


def test_explicit_outputs_of_a_list_or_dict():
    assert sg.graph("[x*y, sin(x)]", outputs=["f2"]).outputs == (Symbol("f2", real=True),)
    g = sg.graph({"loss": "x^2", "gain": "y^2"}, outputs=[Symbol("gain")])
    assert g.outputs == (Symbol("gain", real=True),)


@pytest.mark.parametrize(
    ("outputs", "fragment"),
    [
        (["z"], "outputs names 'z', which no line assigns (the lines are c, c_2, d)"),
        (["x"], "which no line assigns"),
        (["c", "c_2"], "outputs names 'c_2' twice"),
        ([], "outputs is empty"),
    ],
)
def test_outputs_errors(outputs, fragment):
    with pytest.raises(ParseError) as info:
        sg.graph("c = x*y\nc += 1\nd = c + y", outputs=outputs)
    assert fragment in str(info.value)


# ---------------------------------------------------------------- hostile input


def test_a_long_chain_of_methods_is_refused_as_deep():
    with pytest.raises(ParseError, match="nested too deeply"):
        parse("x" + ".relu()" * 150)
    assert parse("x" + ".relu()" * 20).has(sg.relu)


def test_a_program_round_trips_through_json():
    g = sg.graph(MORE_OPS)
    back = sg.from_json(sg.to_json(g))
    assert str(back) == str(g) and back.outputs == g.outputs


def test_a_long_chain_of_rebindings_is_built():
    text = "c = x\n" + "c += c*x\n" * 2000
    g = sg.graph(text)
    assert g.outputs[0].name == "c_2001" and len(g.steps) > 2000


TOKENS = [
    *["c", "x", "e", "E", "2", "0.5", "(", ")", "+", "-", "*", "/", "**", "·", "×", "−"],
    *["=", "+=", "-=", "*=", "/=", "%=", "\n", ".relu()", ".exp()", ".T", ".foo()", "[", "]"],
    *[",", "relu", "log", "where", ">", "; "],
]


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.lists(st.sampled_from(TOKENS), max_size=30).map("".join),
        st.text(alphabet=string.ascii_letters + "+-*/=.()[],\n·×−", max_size=40),
    )
)
def test_fuzz_programs_only_parse_error_escapes(text):
    try:
        result = parse(text)
    except ParseError as error:
        assert "\n" not in str(error)
        return
    assert isinstance(result, sympy.Basic | Program | list)


def test_a_rebound_matrix_name_is_a_matrix_symbol_of_its_shape():
    program = parse_program("h = W*x\nh = h.relu()", {"W": (3, 2), "x": (2, 1)})
    assert program.output == MatrixSymbol("h_2", 3, 1)
