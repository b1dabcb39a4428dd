"""sg.check_derivation: a derivation, typed as on the board, checked line by line.

Oracles independent of the rules: ``sympy.diff`` of the expanded function, finite
differences written out here, the lecture's published numbers (∂f/∂u1 ≈ 47.30 at
u1 = 1, u2 = -1) and, for the matrix network, central differences of the network
written again in NumPy (:mod:`tests.lecture_net`).
"""

from __future__ import annotations

import json
import math
import subprocess

import numpy as np
import pytest
import sympy

import symgraph as sg
from symgraph.cli import main

from .lecture_net import AT as NET_AT
from .lecture_net import NET, SHAPES, central
from .test_export import program

F = "exp(exp(u1) + exp(2*u2)) + sigmoid(exp(u1) + exp(2*u2))"
AT = {"u1": 1, "u2": -1}
U1, U2 = sympy.symbols("u1 u2", real=True)
EXACT = sympy.exp(sympy.exp(U1) + sympy.exp(2 * U2)) + 1 / (
    1 + sympy.exp(-(sympy.exp(U1) + sympy.exp(2 * U2)))
)

BOARD = r"""% the lecture's worked example, as on the board
\begin{align*}
  t_1 &= e^{u_1} \\
  t_2 &= e^{2u_2} \\
  t_3 &= t_1 + t_2 \\
  t_4 &= e^{t_3} \\
  t_5 &= \sigma(t_3) \\
  f &= t_4 + t_5 \\
  \bar f &= 1 \\
  \bar t_4 &= \bar f = 1 \\
  \bar t_5 &= \bar f = 1 \\
  \bar t_3 &= \bar t_4 e^{t_3} + \bar t_5 \sigma(t_3)\left(1 - \sigma(t_3)\right) \approx 17.40 \\
  \bar t_2 &= \bar t_3 \\
  \bar t_1 &= \bar t_3 \\
  \bar u_2 &= 2 e^{2u_2} \bar t_2 \approx 4.710 \\
  \frac{\partial f}{\partial u_1} &= e^{u_1} \bar t_1 \approx 47.30
\end{align*}
"""


def exact_at(expr) -> float:
    return float(expr.subs({U1: 1, U2: -1}))


def check(lines, at=AT, **options):
    return sg.check_derivation(F, lines, at=at, rng=0, **options)


def by_line(report, line_no: int):
    (found,) = [v for v in report.lines if v.line_no == line_no]
    return found


# ---------------------------------------------------------------- the board, right


def test_the_numbers_on_the_board_are_the_derivatives():
    """The board's numbers against sympy.diff: the fixture itself is right."""
    assert exact_at(sympy.diff(EXACT, U1)) == pytest.approx(47.30, abs=0.005)
    assert exact_at(sympy.diff(EXACT, U2)) == pytest.approx(4.710, abs=0.0005)
    t3 = sympy.Symbol("t3")
    outer = sympy.diff(sympy.exp(t3) + 1 / (1 + sympy.exp(-t3)), t3)
    assert float(outer.subs(t3, math.e + math.exp(-2))) == pytest.approx(17.40, abs=0.005)


def test_the_lecture_board_is_right_line_by_line():
    report = check(BOARD)
    assert report.ok, str(report)
    assert report.first_wrong is None
    assert [v.line_no for v in report.lines] == list(range(3, 17))  # the file's numbers
    assert all(v.kind == "right" for v in report.lines)
    assert str(report).startswith("all 14 lines are right")


def test_a_right_line_in_another_form_is_told_apart():
    report = check([r"\bar t_3 = e^{t_3} + \frac{e^{-t_3}}{(1 + e^{-t_3})^2}"], at=None)
    (v,) = report.lines
    assert v.ok and v.kind == "right_other_form"


# ---------------------------------------------------------------- planted slips


SLIPS = {
    "missing contribution": (r"\bar t_3 = \bar t_4 e^{t_3}", "missing contribution through t5"),
    "sign": (r"\frac{\partial f}{\partial u_1} = -e^{u_1} \bar t_3", "sign"),
    "factor": (r"\bar u_2 = e^{2u_2} \bar t_3", "factor 0.5"),
    "finite difference": (
        r"\frac{\partial f}{\partial u_1} \approx 48.19",
        "finite difference passed off as a derivative",
    ),
    "sign of one contribution": (
        r"\bar t_3 = e^{t_3} - \sigma(t_3)(1 - \sigma(t_3))",
        "sign of the contribution through t5",
    ),
}


@pytest.mark.parametrize("case", sorted(SLIPS))
def test_each_planted_slip_is_found_and_named(case):
    text, slip = SLIPS[case]
    report = check([r"t_1 = e^{u_1}", text])
    assert report.first_wrong == 1
    v = report.lines[1]
    assert (v.ok, v.kind, v.slip, v.line_no) == (False, "wrong", slip, 2)
    assert v.follows_from is None
    assert v.counterexample is not None
    claimed, right = v.counterexample.claimed, v.counterexample.correct
    assert not math.isclose(claimed, right, rel_tol=1e-6)


def test_the_finite_difference_is_the_one_written_here():
    """48.19 is (f(1.01, -1) - f(1, -1))/0.01, and the line says it should be 47.30."""
    f = sympy.lambdify((U1, U2), EXACT)
    assert (f(1.01, -1) - f(1, -1)) / 0.01 == pytest.approx(48.19, abs=0.005)
    v = check([r"\frac{\partial f}{\partial u_1} = 48.19"]).lines[0]
    assert v.should_be == pytest.approx(exact_at(sympy.diff(EXACT, U1)))
    assert "h = 0.01" in v.reason


def test_a_wrong_number_at_the_point_and_the_lines_after_it():
    report = check([
        r"\bar t_3 = 17.90",
        r"\bar u_1 = e^{u_1} \bar t_3 = 48.66",  # e·17.90: right given line 1
        r"\bar u_2 = 2e^{2u_2} \bar t_3 \approx 4.710",  # right: an independent line
        r"\bar u_2 = 4.9",  # wrong on its own
    ])  # fmt: skip
    first, second, third, fourth = report.lines
    assert report.first_wrong == 0
    assert first.kind == "wrong" and first.should_be == pytest.approx(17.402, abs=1e-3)
    assert second.kind == "wrong" and second.follows_from == 1
    assert third.ok
    assert fourth.kind == "wrong" and fourth.follows_from is None
    assert "follows from line 1" in str(report)


def test_lines_after_a_wrong_formula_follow_from_it():
    report = check([
        r"\bar t_3 = e^{t_3}",  # missing the contribution through t5
        r"\bar t_1 = \bar t_3",  # right given line 1
        r"\frac{\partial f}{\partial u_1} = e^{u_1} \bar t_1",  # right given line 2
        r"\bar u_2 = e^{2u_2} \bar t_3",  # wrong by a factor, on top
    ])  # fmt: skip
    kinds = [v.kind for v in report.lines]
    assert kinds == ["wrong"] * 4
    assert [v.follows_from for v in report.lines[:3]] == [None, 1, 2]
    assert report.lines[3].follows_from is None  # wrong even with the right t̄3


def test_a_corrected_line_replaces_the_wrong_one():
    report = check(
        [r"\bar t_3 = e^{t_3}", r"\bar t_3 = e^{t_3} + t_5(1 - t_5)", r"\bar t_1 = \bar t_3"]
    )
    assert [v.kind for v in report.lines] == ["wrong", "right", "right"]
    report = check([r"t_3 = e^{u_1} + e^{u_2}", r"t_3 = t_1 + t_2", r"t_4 = e^{t_3}"])
    assert [v.kind for v in report.lines] == ["wrong", "right", "right"]


def test_values_follow_from_a_wrong_definition():
    report = check(
        [r"t_3 = e^{u_1} + e^{u_2}", r"t_4 = e^{e^{u_1} + e^{u_2}}", r"t_5 = \sigma(t_3)"]
    )
    assert [v.kind for v in report.lines] == ["wrong"] * 3
    assert [v.follows_from for v in report.lines] == [None, 1, 1]
    assert str(report.lines[0].should_be) == "t1 + t2"


def test_a_wrong_term_in_a_value():
    (v,) = check([r"t_3 = e^{u_1} + e^{u_2}"]).lines
    assert v.kind == "wrong" and v.slip == "wrong term"
    assert "the term t2 is wrong: exp(u2)" in v.reason


def test_a_missing_term_in_a_value():
    (v,) = check([r"t_3 = e^{u_1}"]).lines
    assert v.kind == "wrong" and v.slip == "missing term" and "t2" in v.reason


# ---------------------------------------------------------------- the matrix network


def test_the_matrix_network_and_a_forgotten_transpose():
    lines = [r"z = \mathbf{W} x + b", r"\bar{\mathbf{W}} = \bar z x^\top", r"\bar W = x \bar z",
             r"\bar x = W^\top \bar z", r"\bar x = \bar z W", r"\bar b = \bar z"]  # fmt: skip
    report = sg.check_derivation(NET, lines, shapes=SHAPES, rng=0)
    kinds = [v.kind for v in report.lines]
    assert kinds == ["right", "right", "wrong", "right", "wrong", "right"]
    assert report.lines[2].slip == report.lines[4].slip == "forgotten transpose"
    assert "tbar_2*x.T is right" in report.lines[2].reason
    assert report.first_wrong == 2


def test_a_wrong_matrix_adjoint_is_shown_against_numpy():
    lines = [r"\bar W = -\bar t_2 x^\top"]
    report = sg.check_derivation(NET, lines, at=NET_AT, shapes=SHAPES, rng=0)
    (v,) = report.lines
    assert v.kind == "wrong" and v.slip == "sign"
    at, claimed, right = v.counterexample
    np.testing.assert_allclose(at["W"], NET_AT["W"])  # the point given comes first
    np.testing.assert_allclose(right, central(NET_AT, "W"), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(claimed, -right)


# ---------------------------------------------------------------- names of one's own


def test_a_derivation_in_the_students_own_names():
    lines = [r"a = e^{u_1}", r"b = a + e^{2 u_2}", r"y = e^{b} + \sigma(b)",
             r"\bar b = e^{b} + \sigma(b)(1 - \sigma(b))", r"\bar a = \bar b",
             r"\frac{\partial y}{\partial u_1} = e^{u_1} \bar a \approx 47.30"]  # fmt: skip
    report = check(lines)
    assert report.ok, str(report)
    assert "your a is t1" in report.lines[0].reason
    assert "your b is t3" in report.lines[1].reason
    assert report.lines[3].about.startswith("t̄3")


def test_a_wrong_own_name_is_read_as_its_node_and_the_next_lines_follow():
    report = check([r"a = e^{2u_1}", r"b = a + e^{2u_2}", r"\bar a = 2"])
    first, second, _ = report.lines
    assert first.kind == "wrong" and "read as t1" in first.reason
    assert second.kind == "wrong" and second.follows_from == 1


def test_an_abbreviation_is_expanded_where_it_is_used():
    report = check([r"s = \sigma(t_3)(1 - \sigma(t_3))", r"\bar t_3 = e^{t_3} + s"])
    assert [v.kind for v in report.lines] == ["right", "right"]
    assert "a name of your own" in report.lines[0].reason


def test_steps_numbered_otherwise_are_the_graphs_by_value():
    report = check(
        [
            r"t_4 = \sigma(t_3)",
            r"t_5 = e^{t_3}",
            r"\bar t_5 = 1",
            r"\bar t_3 = e^{t_3} + \bar t_4 t_4 (1 - t_4)",
        ]
    )
    assert report.ok, str(report)
    assert "the graph's t5" in report.lines[0].reason


# ---------------------------------------------------------------- forward mode, partials


def test_tangents_seeded_by_the_lines():
    lines = [r"\dot u_1 = 1", r"\dot u_2 = 0", r"\dot t_1 = e^{u_1}", r"\dot t_3 = \dot t_1",
             r"\dot t_4 = -e^{t_3} \dot t_3", r"\dot f = \dot t_4 + \dot t_5"]  # fmt: skip
    report = check(lines)
    assert [v.kind for v in report.lines][:4] == ["right"] * 4
    assert report.lines[4].slip == "sign"
    assert report.lines[5].follows_from == 5


def test_local_partials():
    report = check(
        [r"\partial t_4 / \partial t_3 = e^{t_3}", r"\frac{\partial t_5}{\partial t_3} = t_5"]
    )
    assert [v.kind for v in report.lines] == ["right", "wrong"]
    assert str(report.lines[1].should_be) == "t5*(1 - t5)"


# ---------------------------------------------------------------- text forms


def test_markdown_reads_its_math_and_skips_the_prose():
    text = (
        "# Homework 3\n\nThe inner sum:\n\n$$t_3 = e^{u_1} + e^{2u_2}$$\n\n"
        "then $\\bar t_2 = \\bar t_3$.\n"
    )
    report = check(text)
    assert [(v.line_no, v.ok) for v in report.lines] == [(5, True), (7, True)]


def test_plain_lines_in_formula_syntax():
    report = check(["t3 = t1 + t2", "tbar_3 = exp(t3) + t5*(1 - t5)", "df/du1 = t1*tbar_3"])
    assert report.ok, str(report)


def test_a_latex_source_and_a_document_with_its_preamble():
    src = r"e^{e^{u_1} + e^{2u_2}} + \sigma\left(e^{u_1} + e^{2u_2}\right)"
    document = (
        "\\documentclass{article}\n\\begin{document}\nLet $u_1 = 1$ and $u_2 = -1$; then\n"
        + BOARD
        + "which is what we wanted.\n\\end{document}\n"
    )
    report = sg.check_derivation(src, document, at=AT, rng=0)
    assert report.ok, str(report)
    assert len(report.lines) == 16 and report.lines[0].line_no == 3
    (u1,) = sg.check_derivation(src, ["u_1 = 1"], rng=0).lines
    assert u1.kind == "not_understood" and "at=" in u1.reason


def test_a_number_without_the_point_is_not_understood():
    (v,) = check([r"\bar t_3 = 17.40"], at=None).lines
    assert v.kind == "not_understood" and "at=" in v.reason


def test_lines_that_are_not_understood_say_why():
    report = check([r"t_1 \le e^{u_1}", r"\bar q = 1", r"e^{u_1} + 1 = t_1", r"t_1 = e^{"])
    assert [v.kind for v in report.lines] == ["not_understood"] * 4
    assert "q is neither a node" in report.lines[1].reason
    assert "not one name" in report.lines[2].reason
    assert not report.ok and report.first_wrong is None


HOSTILE = {
    "huge": "t_1 = " + "x + " * 200_000 + "x",
    "nested": "t_1 = " + "(" * 5000 + "u_1" + ")" * 5000,
    "nested fractions": "t_1 = " + r"\frac{1}{" * 3000 + "u_1" + "}" * 3000,
    "input": r"t_1 = \input{/etc/passwd}",
    "def": r"\def\x{e^{u_1}} t_1 = \x",
    "csname": r"t_1 = \csname exp\endcsname(u_1)",
    "braces": "t_1 = " + "{" * 100_000,
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_latex_is_refused_not_run(case):
    report = check([HOSTILE[case]])
    (v,) = report.lines
    assert v.kind == "not_understood" and v.reason
    assert len(str(report)) < 2000  # the report shows a huge line shortened
    if case in ("input", "def", "csname"):
        assert "is not allowed" in v.reason
        assert "\\" + case not in report.to_latex()  # escaped, never a command for TeX


def test_a_vector_function_needs_the_output_and_an_empty_derivation_is_refused():
    with pytest.raises(sg.GraphError, match='seed="f1"'):
        sg.check_derivation("[x*y, x + y]", [r"\bar x = y"])
    report = sg.check_derivation("[x*y, x + y]", [r"\bar x = 1", r"\bar y = 1"], seed="f2")
    assert report.ok
    with pytest.raises(sg.ParseError, match="no lines"):
        check("% only a comment\n\n")


def test_a_derivation_too_long_is_refused():
    with pytest.raises(sg.ParseError, match="too long"):
        check(["t_1 = e^{u_1}"] * 501)
    with pytest.raises(sg.ParseError, match="not a str"):
        check([1, 2])


# ---------------------------------------------------------------- reports


def test_reports_as_json_html_and_latex():
    report = check([r"t_1 = e^{u_1}", r"\bar u_2 = e^{2u_2} \bar t_3"])
    data = json.loads(report.to_json())
    assert data["ok"] is False and data["first_wrong"] == 1
    assert data["lines"][1]["slip"] == "factor 0.5"
    assert data["lines"][1]["counterexample"]["right"] == pytest.approx(4.7102, abs=1e-4)
    page = report._repr_html_()
    assert page.count("<tr>") == 3 and "✓" in page and "✗" in page
    tex = report.to_latex()
    assert tex.count(r"\checkmark") == 1 and tex.count(r"\times$]") == 1
    assert "should be: $\\displaystyle 2 t_{2} \\bar{t}_{3}$" in tex


def test_the_latex_report_compiles(tmp_path):
    exe = program("pdflatex")
    lines = [*BOARD.splitlines(), r"\bar u_2 = e^{2u_2}\bar t_3", r"t_1 = \input{x}", "a & b % c"]
    report = check("\n".join(lines))
    (tmp_path / "doc.tex").write_text(report.to_latex(standalone=True), encoding="utf-8")
    done = subprocess.run([exe, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:]
    assert (tmp_path / "doc.pdf").exists()


# ---------------------------------------------------------------- the command line


def run(argv, capsys, code):
    assert main(argv) == code
    return capsys.readouterr()


def test_cli_checks_a_tex_file_with_align(tmp_path, capsys):
    path = tmp_path / "board.tex"
    path.write_text(BOARD, encoding="utf-8")
    out = run(["check", F, "--derivation", str(path), "--at", "u1=1,u2=-1"], capsys, 0).out
    assert out.startswith("all 14 lines are right")
    path.write_text(BOARD.replace(r"2 e^{2u_2} \bar t_2", r"e^{2u_2} \bar t_2"), encoding="utf-8")
    out = run(["check", F, "--derivation", str(path), "--at", "u1=1,u2=-1", "--json"], capsys, 1)
    data = json.loads(out.out)
    wrong = data["lines"][data["first_wrong"]]
    assert (wrong["line_no"], wrong["slip"]) == (15, "factor 0.5")


def test_cli_reads_the_derivation_from_stdin(capsys, monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("t1 = exp(u1)\ndf/du1 = t1*tbar_3\n"))
    out = run(["check", F, "--derivation", "-"], capsys, 0).out
    assert "all 2 lines are right" in out


def test_cli_latex_formula_and_a_markdown_derivation(tmp_path, capsys):
    path = tmp_path / "homework.md"
    path.write_text("We start with\n\n$$t_1 = e^{u_1}$$\n\nand $\\bar u_2 = t_1$.\n", "utf-8")
    argv = ["check", r"e^{u_1} u_2", "--latex", "--derivation", str(path), "--json"]
    data = json.loads(run(argv, capsys, 0).out)
    assert [(v["line_no"], v["kind"]) for v in data["lines"]] == [(3, "right"), (5, "right")]


def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    err = run(["check", F, "--derivation", str(tmp_path / "missing.tex")], capsys, 2).err
    assert err.count("\n") == 1 and "cannot read" in err
    path = tmp_path / "d.txt"
    path.write_text("t1 = exp(u1)\n", encoding="utf-8")
    err = run(["check", F, "--derivation", str(path), "--claim", "u1=1"], capsys, 2).err
    assert "not both" in err and err.count("\n") == 1
