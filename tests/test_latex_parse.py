"""The LaTeX reader: the formula parser's expressions, its limits, positions in the LaTeX."""

import math

import pytest
import sympy

import symgraph as sg
from symgraph.parse import ParseError, parse_expr_text
from symgraph.parse.latex import latex_text, parse_latex

LECTURE = r"e^{e^{u_1} + e^{2u_2}} + \sigma\left(e^{u_1} + e^{2u_2}\right)"

# formula-parser text, then SymPy's own latex() of it is read back (the oracle of spellings)
FORMULAS = [
    "exp(exp(u1) + exp(2*u2))",
    "x**2 + 3*x*y - y/2",
    "sin(x)*cos(y) + tan(x)",
    "sinh(x) + cosh(y) - tanh(x*y)",
    "log(x) + sqrt(y)",
    "(x + 1)/(y - 2)",
    "x**(1/3) + y**x",
    "abs(x - y)",
    "Max(x, y) + Min(x, 2*y)",
    "-x + 2*pi",
    "exp(-x**2/2)",
]


@pytest.mark.parametrize("formula", FORMULAS)
def test_sympy_latex_reads_back_as_the_formula(formula):
    expr = parse_expr_text(formula.replace("Max", "max").replace("Min", "min"))
    assert parse_latex(sympy.latex(expr)) == expr


def test_the_lecture_example_in_latex():
    expected = parse_expr_text("exp(exp(u1) + exp(2*u2)) + sigmoid(exp(u1) + exp(2*u2))")
    assert parse_latex(LECTURE) == expected
    g = sg.graph(LECTURE, latex=True)
    grad = g.reverse().evaluate({"u1": 1, "u2": -1}).gradient
    t3 = math.e + math.exp(-2)  # the lecture's numbers, by hand
    s = 1 / (1 + math.exp(-t3))
    assert grad["u1"] == pytest.approx((math.exp(t3) + s * (1 - s)) * math.e)
    assert grad["u1"] == pytest.approx(47.30, abs=5e-3)  # the lecture's published number


@pytest.mark.parametrize(
    ("latex", "text"),
    [
        (r"\bar t_3", "tbar_3"),
        (r"\bar{t}_3", "tbar_3"),
        (r"\bar{t_3}", "tbar_3"),
        (r"\dot{t}_3", "tdot_3"),
        (r"\frac{\partial f}{\partial u_1}", "df_du1"),
        (r"\partial f/\partial u_2", "df_du2"),
        (r"2u_2", "2*u2"),
        (r"\operatorname{relu}(x)", "relu(x)"),
        (r"\mathbf{W}", "W"),
        (r"x \cdot y \times z", "x*y*z"),
    ],
)
def test_names_and_products(latex, text):
    assert latex_text(latex) == text


def test_implicit_product_of_power_and_adjoint():
    assert parse_latex(r"e^{u_1}\bar t_3") == parse_expr_text("exp(u1)*tbar_3")
    assert parse_latex(r"\sin^2 x + \ln|x|") == parse_expr_text("sin(x)**2 + log(abs(x))")


def test_transpose_of_a_matrix():
    shapes = {"zbar": (3, 1), "x": (2, 1)}
    wbar = parse_latex(r"\bar z x^\top", shapes)
    assert wbar == parse_expr_text("zbar*x.T", shapes)
    assert parse_latex(r"\bar{z} x^{T}", shapes).shape == (3, 2)
    with pytest.raises(ParseError, match="cannot multiply"):
        parse_latex(r"\bar z x", shapes)  # the forgotten transpose does not fit


@pytest.mark.parametrize(
    "hostile",
    [r"\input{/etc/passwd}", r"\def\x{\x\x}\x", r"\csname relax\endcsname", r"\write18{ls}"],
)
def test_tex_commands_are_refused(hostile):
    with pytest.raises(ParseError, match="not allowed"):
        parse_latex(hostile)


def test_huge_and_deep_latex_is_refused():
    with pytest.raises(ParseError, match="too long"):
        parse_latex("x+" * 60_000 + "x")
    with pytest.raises(ParseError, match="nested deeper"):
        parse_latex(r"\frac{1}{" * 200 + "x" + "}" * 200)
    with pytest.raises(ParseError, match="nested deeper"):
        parse_latex("{" * 5000 + "x" + "}" * 5000)
    with pytest.raises(ParseError, match="exponent too large"):
        parse_latex(r"2^{10^{10}}")


def test_errors_name_the_latex_column():
    with pytest.raises(ParseError) as e:
        parse_latex(r"x + \foo y")
    assert e.value.column == 5
    with pytest.raises(ParseError) as e:  # found by the formula parser, told in the LaTeX
        parse_latex(r"u_1 + 2^{10^{10}}")
    assert e.value.column == 8
    with pytest.raises(ParseError, match="number after a factor"):
        parse_latex(r"x 2")


def test_claims_in_latex_are_checked():
    right = sg.check(
        LECTURE_TEXT, {"u1": r"\bar t_3 e^{u_1}", "t3": r"e^{t_3} + \sigma(t_3)(1 - \sigma(t_3))"}
    )
    assert right.ok
    wrong = sg.check(LECTURE_TEXT, {"u1": r"\bar t_3 e^{u_1}", "t3": r"e^{t_3}"})
    assert not wrong.ok


def test_a_forgotten_transpose_in_latex_is_named():
    net = sg.graph("sum(sigmoid(W*x + b))", shapes={"W": (3, 2), "x": (2, 1), "b": (3, 1)})
    assert sg.check(net, {"W": r"\bar t_2 x^\top"}).ok
    report = sg.check(net, {"W": r"x \bar t_2"})
    assert "forgotten transpose" in report.results[0].departure


LECTURE_TEXT = "exp(exp(u1) + exp(2*u2)) + sigmoid(exp(u1) + exp(2*u2))"


def test_cli_reads_latex(capsys):
    from symgraph.cli import main

    assert main(["grad", LECTURE, "--latex", "--at", "u1=1,u2=-1"]) == 0
    assert "47.3" in capsys.readouterr().out
    assert main(["graph", r"\input{x}", "--latex"]) == 2
    assert "not allowed" in capsys.readouterr().err
