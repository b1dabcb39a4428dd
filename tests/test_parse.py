"""symgraph.parse: accepted forms, refusals with a position and a hint, injection attempts,
hostile sizes, programs, and a fuzz property (only ParseError ever escapes)."""

from __future__ import annotations

import importlib
import string

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy import (
    Abs,
    And,
    E,
    Float,
    Heaviside,
    Max,
    Min,
    Not,
    Or,
    Piecewise,
    Rational,
    Symbol,
    acos,
    asin,
    atan,
    cos,
    cosh,
    exp,
    log,
    pi,
    sign,
    sin,
    sinh,
    sqrt,
    tan,
    tanh,
)

from symgraph.functions import relu, sigmoid, softplus
from symgraph.parse import ParseError, Program, parse, parse_expr_text, parse_program

from .conftest import assert_refused_without_running

x, y, z, r, u1, u2 = sympy.symbols("x y z r u1 u2", real=True)
t1, t2, t3, f = sympy.symbols("t1 t2 t3 f", real=True)

# ---------------------------------------------------------------- accepted forms

ACCEPTED = [
    ("x^2 + 1", x**2 + 1),
    ("x**2 + 1", x**2 + 1),
    ("-x^2", -(x**2)),
    ("2^-1", Rational(1, 2)),
    ("x^y^z", x ** (y**z)),
    ("x - y - z", x - y - z),
    ("x / y / z", x / (y * z)),
    ("x * -y", -x * y),
    ("--x", x),
    ("+x", x),
    ("1/3", Rational(1, 3)),
    ("1_000 + 0x10", 1016),
    ("0.5 * x", Float("0.5") * x),
    ("0.1", Float("0.1")),
    ("3.14159265358979323846", Float("3.14159265358979323846")),
    ("e^x", exp(x)),
    ("E**x", Symbol("E", real=True) ** x),  # E is a variable; the constant is e
    ("pi * r^2", pi * r**2),
    ("exp(x) + log(y) + ln(z)", exp(x) + log(y) + log(z)),
    ("log(x, 2)", log(x, 2)),
    ("log(x, 2)", log(x) / log(2)),
    ("sqrt(x)", sqrt(x)),
    ("sqrt(8)", 2 * sqrt(2)),
    ("sin(x) + cos(x) + tan(x)", sin(x) + cos(x) + tan(x)),
    ("asin(x) + acos(x) + atan(x)", asin(x) + acos(x) + atan(x)),
    ("sinh(x) + cosh(x) + tanh(x)", sinh(x) + cosh(x) + tanh(x)),
    ("sigmoid(x) + relu(y) + softplus(z)", sigmoid(x) + relu(y) + softplus(z)),
    ("max(x, y)", Max(x, y)),
    ("min(x, y, z)", Min(x, y, z)),
    ("max(1, 2, 3)", 3),
    ("abs(x) + sign(y)", Abs(x) + sign(y)),
    ("Heaviside(x) + heaviside(y)", Heaviside(x) + Heaviside(y)),
    ("where(x > 0, x, -x)", Piecewise((x, x > 0), (-x, True))),
    ("where(0 < x < 1, x, 0)", Piecewise((x, And(sympy.Lt(0, x), x < 1)), (0, True))),
    ("where(0 <= x <= 1, x, 0)", Piecewise((x, And(sympy.Le(0, x), x <= 1)), (0, True))),
    ("where(x >= y, 1, 0)", Piecewise((1, x >= y), (0, True))),
    (
        "where(x > 0 and y > 0 or not z < 1, 1, 0)",
        Piecewise((1, Or(And(x > 0, y > 0), Not(z < 1))), (0, True)),
    ),
    ("where(True, x, y)", x),
    (
        "piecewise((-x, x < 0), (x^2, x < 1), (1, True))",
        Piecewise((-x, x < 0), (x**2, x < 1), (1, True)),
    ),
    ("(x +\n y)", x + y),
    ("x  # a comment", x),
    ("   x + 1", x + 1),
    ("α + 1", Symbol("α", real=True) + 1),
    ("π", pi),
]


@pytest.mark.parametrize(("text", "expected"), ACCEPTED)
def test_accepted_forms_give_the_sympy_expression(text, expected):
    assert parse_expr_text(text) == expected
    assert parse(text) == expected


def test_names_are_real_symbols():
    expr = parse("abs(x)")
    assert expr.free_symbols == {x}
    assert next(iter(expr.free_symbols)).is_real
    assert sympy.diff(expr, x) == sign(x)


def test_e_is_eulers_number_not_a_variable():
    assert parse("e^x") == exp(x)
    assert parse("e").equals(E)
    assert parse("log(e)") == 1


def test_a_sum_of_two_thousand_terms_works():
    text = " + ".join(f"x{i}" for i in range(2000))
    assert len(parse(text).args) == 2000
    assert parse("x" + " - x" * 1999) == -1998 * x


def test_deep_but_allowed_nesting_works():
    assert parse("exp(" * 90 + "x" + ")" * 90).count(exp) == 90
    assert parse("-" * 1000 + "x") == x  # a run of signs is one level


# ---------------------------------------------------------------- refusals

REFUSED = [  # (text, fragment of str(error), column)
    ("expp(x)", "unknown function 'expp' (did you mean 'exp'?)", 1),
    ("x^2 + expp(x)", "did you mean 'exp'", 7),  # the column is in the user's text, ^ not **
    ("Sin(x)", "did you mean 'sin'", 1),
    ("foo(x)", "known functions: abs, acos", 1),
    ("x if x > 0 else 0", "where(", 1),
    ("x if x > 0", "where(", 1),
    ("x < 1", "where(", 1),
    ("x > 0 and y > 0", "where(", 1),
    ("not x", "where(", 1),
    ("x @ y", "pass shapes={'x': (rows, columns)}", 1),
    ("x % 2", "'%'", 1),
    ("x // 2", "use / for division", 1),
    ("x & y", "bit operators", 1),
    ("~x", "bit operators", 1),
    ("1j", "complex numbers", 1),
    ("x.real", "attribute access", 1),
    ("x[0]", "subscripts", 1),
    ("lambda: 1", "lambda", 1),
    ("[x for x in y]", "lists", 1),
    ("{1: 2}", "lists", 1),
    ("'abc'", "strings", 1),
    ("b'abc'", "strings", 1),
    ("f'{x}'", "strings", 1),
    ("'abc", "strings", 1),
    ("exp(x=1)", "keyword arguments", 5),
    ("exp(*x)", "starred", 5),
    ("(y := 1)", "':='", 2),
    ("exp + 1", "'exp' is a function, not a variable (call it, e.g. exp(x) or x.exp())", 1),
    ("2x", "write 2*x", 1),
    ("3 + 2x", "write 2*x", 5),
    ("2 x", "write 2*x", 3),
    ("2(x)", "write a*(b)", 1),
    ("(x + 1", "unbalanced parentheses", 1),
    ("x + 1)", "unbalanced parentheses", 6),
    ("exp(x]", "unbalanced parentheses", 6),
    ("x +", "incomplete expression", 4),
    ("x\n+ 1", "wrap an expression that spans lines in parentheses", 1),
    ("where(x, 1, 0)", "a condition is expected", 7),
    ("where(x == 1, 1, 0)", "only <, <=, >, >=", 7),
    ("where(x > 0, 1)", "takes 3 argument", 1),
    ("exp(x, y)", "takes 1 argument", 1),
    ("log(x, y, z)", "takes 1 or 2 argument", 1),
    ("max(x)", "takes >= 2 argument", 1),
    ("max(x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11)", "more than 10", 1),
    ("piecewise((x, x > 0))", "condition True", 11),
    ("piecewise(x)", "(value, condition) pairs", 11),
    ("exp((x, y))", "tuples", 5),
    ("True", "only allowed as a condition", 1),
    ("None", "not allowed", 1),
    ("_x + 1", "'_'", 1),
    ("a" * 65, "longer than 64", 1),
    ("1e400", "out of range", 1),
    ("1e-400", "out of range", 1),
    ("1" * 101, "too long", 1),
    ("1/0", "division by zero", 3),
    ("log(0)", "undefined", 1),
    ("x ≤ y", "use '<='", 3),  # − × · ⋅ ÷ are operators: tests/test_programs.py
    ("(x)(y)", "unknown function 'x'", 2),
    ("sqrt(-1)", "complex value", 1),
    ("x * log(-1)", "complex value", 5),
    ("max(x, log(2))", "like log(2)", 8),
    ("exp(log(2))", "like log(2)", 5),
    ("where(x > where(y > 0, 1, 2), 1, 0)", "cannot contain where", 7),
]


@pytest.mark.parametrize(("text", "fragment", "column"), REFUSED)
def test_refused_constructs_raise_parse_error_with_position_and_hint(text, fragment, column):
    with pytest.raises(ParseError) as info:
        parse(text)
    error = info.value
    assert isinstance(error, ValueError)
    assert fragment in str(error)
    assert "\n" not in str(error)
    assert (error.line, error.column) == (1, column)
    assert error.text == text.split("\n")[0]
    assert str(error).startswith(f"line 1, column {column}: ")


def test_parse_error_reads_as_one_line():
    error = ParseError("unknown function 'expp'", 1, 5, "did you mean 'exp'?", "x + expp(x)")
    assert str(error) == "line 1, column 5: unknown function 'expp' (did you mean 'exp'?)"
    assert str(ParseError("empty input")) == "empty input"
    assert str(ParseError("bad", line=3)) == "line 3: bad"
    with pytest.raises(ValueError, match="expp"):
        raise error


@pytest.mark.parametrize("text", ["", "   ", "# only a comment"])
def test_empty_input(text):
    with pytest.raises(ParseError, match="empty"):
        parse(text)


@pytest.mark.parametrize("value", [x**2, None, b"x", 3, ["x"]])
def test_only_text_is_parsed(value):
    with pytest.raises(ParseError, match="parse takes a str"):
        parse(value)  # type: ignore[arg-type]


# ---------------------------------------------------------------- code injection

INJECTIONS = [
    "__import__('os').system('touch {marker}')",
    "x = __import__('os').system('touch {marker}')",
    "().__class__.__bases__[0].__subclasses__()",
    "eval('1')",
    "exec('x=1')",
    "open('{marker}', 'w')",
    "lambda: 1",
    "[x for x in y]",
    "x.__class__",
    "getattr(x, 'a')",
    "globals()",
    "'touch {marker}'",
    "f'{{x}}'",
    "import os",
    "where(x > 0, __import__('os').system('touch {marker}'), 0)",
    "exp(x).__class__.__mro__",
]


@pytest.mark.parametrize("template", INJECTIONS)
def test_code_injection_is_refused_and_runs_nothing(template, tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    text = template.format(marker=marker)
    assert_refused_without_running(text, monkeypatch)
    assert not marker.exists()


# ---------------------------------------------------------------- hostile sizes

HOSTILE = {
    "10,000 parentheses": "(" * 10_000 + "x" + ")" * 10_000,
    "power tower of 50": "**".join(["2"] * 50),
    "power tower with ^": "^".join(["2"] * 50),
    "9**9**9**9": "9**9**9**9",
    "100,000 unary minuses": "-" * 100_000 + "x",
    "10,000 unary minuses": "-" * 10_000 + "x",
    "100,000 terms": "x" + "+x" * 100_000,
    "10,000 terms": "x" + "+x" * 10_000,
    "5 MB": "x" * 5_000_000,
    "1,000 nested exp": "exp(" * 1000 + "x" + ")" * 1000,
    "150 nested exp": "exp(" * 150 + "x" + ")" * 150,
    "exp(exp(exp(1000.0)))": "exp(exp(exp(1000.0)))",
    "a constant SymPy cannot compare": "max(exp(-exp(10**100)), 0)",
    "a root SymPy would factor": "(10**99 + 1)**(997/999)",
    "a power SymPy would expand": "(2*x)**(10**99)",
    "2000 large factors": "*".join(["2**1000"] * 2000),
    "nested max": "max(max(max(a, b, c), d, e, f), g, h, i, j, k, l)",
    "a huge float exponent": "0.5e99999999 + 1e99999999",
    "a constant term SymPy splits off an exponent": "1/(3**500)**(x + 2**1000)",
    "comparing a function value of a constant": "where(1/3 >= softplus(-1), 1, 0)",
    "a condition SymPy would solve": "where(1/3 > softplus(where(y > 0, e, 2)), 2, 3)",
    "comparing a complex constant": "where(0 <= (-1)**e, 3, y)",
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_input_is_refused(text):
    # How fast: benchmarks/hostile_parse.py (no wall-clock assertions in tests)
    with pytest.raises(ParseError):
        parse(text)


def test_exp_of_exp_of_exp_of_a_float_errors():
    with pytest.raises(ParseError, match="out of range"):
        parse("exp(exp(exp(1000.0)))")
    with pytest.raises(ParseError, match="like log"):
        parse("exp(exp(exp(1)))")  # exp(exp(e)): a function of a function value of a constant
    assert parse("exp(exp(exp(x)))") == exp(exp(exp(x)))


# ---------------------------------------------------------------- programs

LECTURE = "t1 = exp(u1)\nt2 = exp(2*u2)\nt3 = t1 + t2\nf = exp(t3) + sigmoid(t3)"


def test_the_lecture_program():
    program = parse_program(LECTURE)
    assert isinstance(program, Program)
    assert parse(LECTURE) == program
    assert program.lines == (
        (t1, exp(u1)),
        (t2, exp(2 * u2)),
        (t3, t1 + t2),
        (f, exp(t3) + sigmoid(t3)),
    )
    assert program.output == f
    name, rhs = program.lines[0][0], program.lines[2][1]
    # the same real symbol (equal, assumptions included; SymPy's caches decide identity)
    assert name in rhs.free_symbols
    assert all(s.is_real for s in rhs.free_symbols)


@pytest.mark.parametrize(
    ("text", "output"),
    [
        ("t1 = exp(u1); t2 = t1 + 1", t2),
        ("\n# comment\nt1 = exp(u1)  # why\n\nt2 = t1^2\n", t2),
        ("\n    t1 = exp(u1)\n    t2 = t1 ^ 2\n", t2),  # an indented triple-quoted program
        ("t1 = exp(u1)\nt1 + 1", f),
        ("f = exp(u1)\nf + 1", y),
        ("x = 1", x),
    ],
)
def test_program_shapes(text, output):
    program = parse(text)
    assert isinstance(program, Program)
    assert program.output == output == program.lines[-1][0]


def test_a_single_expression_is_an_expr_or_a_one_line_program():
    assert parse("x + 1") == x + 1
    assert parse_program("x + 1") == Program(((f, x + 1),), f)


PROGRAM_ERRORS = [  # (text, fragment, line)
    ("y = x + 1\nx = 2", "'x' is used before its assignment on line 2", 1),
    ("x = x + 1", "used before its assignment", 1),
    ("x += 1", "an input cannot be rebound", 1),
    ("y = e\ne = 3", "assigns the constant e", 1),
    ("exp = 3", "function", 1),
    ("a, b = 1, 2", "tuple assignment", 1),
    ("a = b = 1", "chained assignment", 1),
    ("a = 1\na %= 2", "augmented assignment is not supported", 2),
    ("a = 1\na //= 2", "augmented assignment is not supported", 2),
    ("a.b = 1", "must be a name", 1),
    ("x + 1 = 2", "must be a single name", 1),
    ("import os", "only 'name = expression' lines", 1),
    ("a = 1\nif a: b = 2", "only 'name = expression' lines", 2),
    ("def g(): pass", "only 'name = expression' lines", 1),
    ("a\nb = 1", "bare expression", 1),
    ("a = 1\n  b = 2", "indentation", 2),
    ("a = 1\nb = 2 +", "incomplete", 2),
    ("a = 1\nb = expp(a)", "did you mean 'exp'", 2),
    ("_a = 1", "'_'", 1),
]


@pytest.mark.parametrize(("text", "fragment", "line"), PROGRAM_ERRORS)
def test_program_errors_name_the_line(text, fragment, line):
    with pytest.raises(ParseError) as info:
        parse_program(text)
    assert fragment in str(info.value)
    assert info.value.line == line
    assert str(info.value).startswith(f"line {line}")


def test_an_expression_parser_refuses_programs():
    with pytest.raises(ParseError, match="parse_program"):
        parse_expr_text("x = 1")
    with pytest.raises(ParseError, match="parse_program"):
        parse_expr_text("x; y")


# ---------------------------------------------------------------- fuzz

TOKENS = [
    *["x", "y", "2", "0.5", "1e308", "9", "10**99", "e", "pi", "True", "_", "1j"],
    *["exp", "log", "max", "where", "piecewise", "sqrt", "sigmoid", "abs", "tan"],
    *["(", ")", ",", "+", "-", "*", "/", "**", "^", "<", ">=", "==", "and", "not", "="],
    *["\n", ";", "#", ".", "[", "]", "'", " ", "@", "%", ":", "lambda", "if", "else"],
]


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(alphabet=string.printable, max_size=60),
        st.lists(st.sampled_from(TOKENS), max_size=30).map("".join),
        st.lists(st.sampled_from(TOKENS), max_size=30).map(" ".join),
    )
)
def test_fuzz_only_parse_error_escapes(text):
    try:
        result = parse(text)
    except ParseError as error:
        assert "\n" not in str(error)
        return
    if isinstance(result, list):  # a vector function
        assert result and all(isinstance(v, sympy.Basic) for v in result)
        return
    assert isinstance(result, sympy.Basic | Program)


# ---------------------------------------------------------------- the public API


def test_the_public_names_stay_in_symgraph_parse():
    module = importlib.import_module("symgraph.parse")  # symgraph.parse is also the function
    for name in module.__all__:
        assert hasattr(module, name), name
    assert module.MAX_DEPTH == 100 and module.MAX_TEXT_CHARS == 100_000
    assert ParseError.__module__ == "symgraph.parse"  # as tracebacks and doctests show it
    assert module.ParseError is importlib.import_module("symgraph").ParseError
