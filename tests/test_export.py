"""Exports: LaTeX of every step, Graphviz pictures, JSON round trips.

Golden files live in tests/golden/; regenerate them after an intended change with
``SYMGRAPH_UPDATE_GOLDEN=1 pytest tests/test_export.py`` and review the diff.
The ``pdflatex`` and ``dot`` programs are required under CI (``CI`` set): there a
missing program fails the test instead of skipping it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import networkx as nx
import pytest
import sympy
from hypothesis import HealthCheck, given, settings

import symgraph as sg
from symgraph.export import dot as dot_module
from symgraph.export import latex as latex_module
from symgraph.export import typeset
from symgraph.export.json import decode, encode

from .conftest import expressions

GOLDEN = Path(__file__).parent / "golden"
F1 = "exp(exp(u1) + exp(2*u2)) + sigmoid(exp(u1) + exp(2*u2))"
AT1 = {"u1": 1, "u2": -1}
ODD = [sympy.Symbol(n, real=True) for n in ("a&b", "c<d>", 'q"t', "100%", "α1", "x_y", "#{~}")]


def program(name: str) -> str:
    """The path of a required external program; skip without it, but fail under CI."""
    path = shutil.which(name)
    if path is None:
        message = f"the {name!r} program is not installed"
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail(message + " (required under CI)")
        pytest.skip(message)
    return path


def golden(name: str, text: str) -> None:
    path, text = GOLDEN / name, text if text.endswith("\n") else text + "\n"
    if os.environ.get("SYMGRAPH_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"differs from {path}"


def pdflatex(tex: str, tmp_path: Path) -> Path:
    """Compile a document with a real pdflatex; the PDF, or a failure showing the error."""
    exe = program("pdflatex")
    (tmp_path / "doc.tex").write_text(tex, encoding="utf-8")
    command = [exe, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"]
    done = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, errors="replace", timeout=60
    )
    errors = [line for line in done.stdout.splitlines() if line.startswith("!")]
    assert done.returncode == 0, f"pdflatex failed: {errors or done.stdout[-2000:]}"
    return tmp_path / "doc.pdf"


def wrap(fragment: str) -> str:
    return "\\documentclass{article}\n\\usepackage{amsmath,amssymb}\n\\begin{document}\n" + (
        fragment + "\n\\end{document}\n"
    )


# ---------------------------------------------------------------- golden strings

CASES = {
    "running_reverse": (lambda: sg.graph("(x + y)*(y + 1)").reverse(), {"x": 1, "y": 2}),
    "lecture_reverse": (lambda: sg.graph(F1).reverse(), AT1),
    "lecture_forward": (lambda: sg.graph(F1).forward("u1"), AT1),
    "max_kink_graph": (lambda: sg.graph("u1*u2 + max(u1, u2)"), {"u1": 1, "u2": 1}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_latex_golden(case):
    make, at = CASES[case]
    golden(f"{case}.tex", sg.to_latex(make(), at=at))


@pytest.mark.parametrize("case", sorted(CASES))
def test_dot_golden(case):
    make, at = CASES[case]
    golden(f"{case}.dot", sg.to_dot(make(), at=at))


def test_symbolic_latex_of_the_running_example_golden():
    golden("running_graph.tex", sg.to_latex(sg.graph("(x + y)*(y + 1)")))


# ---------------------------------------------------------------- LaTeX


def test_adjoint_writes_the_sum_over_children_term_by_term():
    out = sg.to_latex(sg.graph(F1).reverse(), at=AT1)
    line = next(x for x in out.splitlines() if x.startswith(r"\bar{t}_{3} &="))
    assert (
        r"\bar{t}_{3} &= \bar{t}_{4} \frac{\partial t_{4}}{\partial t_{3}}"
        r" + \bar{t}_{5} \frac{\partial t_{5}}{\partial t_{3}}"
        r" = \bar{t}_{4} t_{4} + \bar{t}_{5} t_{5} \left(1 - t_{5}\right)"
    ) in line
    assert line.endswith("&& = 17.402 \\\\")
    assert r"\bar{u}_{2} &= \bar{t}_{2} \frac{\partial t_{2}}{\partial u_{2}}" in out
    assert r"\frac{\partial f}{\partial u_{1}}" in out and "= 47.303" in out


def test_tangent_trace_has_the_local_partials_and_numbers():
    out = sg.to_latex(sg.graph(F1).forward("u2"), at=AT1)
    assert r"\dot{t}_{2} &= \frac{\partial t_{2}}{\partial u_{2}} \dot{u}_{2}" in out
    assert r"= 2 t_{2} \dot{u}_{2} = 2 t_{2} && = 0.27067" in out
    assert r"\frac{\partial f}{\partial u_{2}}" in out and "= 4.7102" in out


def test_symbolic_latex_has_no_numbers_and_a_direction_is_named():
    fw = sg.graph("x*y").forward({"x": 1, "y": 2})
    out = sg.to_latex(fw)
    assert "&&" not in out and "Directional derivative" in out and r"\dot{f} &=" in out
    rv = sg.graph(["x*y", "x + y"]).reverse({"f1": 1, "f2": 0.5})
    assert "Vector-Jacobian product" in sg.to_latex(rv)


def test_kinks_are_listed_with_their_convention():
    g = sg.graph("u1*u2 + max(u1, u2)")
    for kink, words in [("split", "derivatives split evenly"), ("first", "first piece")]:
        out = sg.to_latex(g.reverse(), at={"u1": 1, "u2": 1}, kink=kink)
        assert rf"Kinks at this point (convention {kink}: {words}" in out
        assert r"= 1 \quad \text{(kink)}" in out and r"\text{a tie of max: } u_{1} = 1" in out
    assert "Kinks" not in sg.to_latex(g.reverse(), at={"u1": 1, "u2": 2})


def test_notebook_form_and_repr_latex():
    rv = sg.graph(F1).reverse()
    out = rv._repr_latex_()
    assert out.startswith("$$\\begin{aligned}") and out.endswith("\\end{aligned}$$")
    assert "intertext" not in out and r"&\textbf{Adjoint trace (reverse mode)} \\" in out
    assert sg.graph("x*y")._repr_latex_().startswith("$$")
    assert sg.graph("x*y").forward("x")._repr_latex_().startswith("$$")


def test_odd_names_are_escaped_for_latex():
    out = sg.to_latex(sg.graph(sum(ODD[:4]) * ODD[4] + ODD[5] * ODD[6]).reverse())
    for piece in [r"\mathrm{a\&b}", r"\mathrm{100\%}", r"\alpha_{1}", r"\mathrm{\#\{\sim \}}"]:
        assert piece in out
    assert r"\mathrm{U{+}2113}" in latex_module.tex(sympy.Symbol("ℓ"))


def test_shape_hook():
    class Shaped:
        shape = (3, 2)

    assert latex_module._shape(Shaped()) == r" \in \mathbb{R}^{3 \times 2}"
    Shaped.shape = (1, 1)
    assert latex_module._shape(Shaped()) == "" == latex_module._shape(sympy.Symbol("x"))


def test_long_lines_are_broken():
    terms = " + ".join(f"sin(x*y + {k})*exp(x - {k})" for k in range(1, 12))
    out = sg.to_latex(sg.graph(terms).forward("x"))
    assert r"&\quad +" in out
    rows = typeset.layout(latex_module.sections(sg.graph(terms).forward("x"))[-1])[0]
    assert all(typeset.width(line) <= typeset.WIDTH + 10 for r in rows for line in r)


def test_standalone_documents_compile(tmp_path):
    g = sg.graph(F1)
    doc = sg.to_latex(g.reverse(), at=AT1, standalone=True)
    assert doc.startswith("\\documentclass") and "\\allowdisplaybreaks" in doc
    parts = [
        doc,
        sg.to_latex(
            sg.graph("u1*u2 + max(u1, u2) + where(u1 > 0, u1, -u1)").forward("u1"),
            at={"u1": 1, "u2": 1},
            standalone=True,
        ),
        sg.to_latex(sg.graph(sum(ODD[:4]) * ODD[4] + ODD[5] * ODD[6]).reverse(), standalone=True),
    ]
    long = " + ".join(f"tanh(x*y + {k})*exp(x - {k})/(1 + y^2)" for k in range(1, 10))
    parts.append(sg.to_latex(sg.graph(long).reverse(), at={"x": 0.5, "y": 1}, standalone=True))
    for i, tex in enumerate(parts):
        (tmp_path / str(i)).mkdir()
        assert pdflatex(tex, tmp_path / str(i)).exists()


def test_fragment_and_notebook_forms_compile(tmp_path):
    rv = sg.graph("u1*u2 + max(u1, u2)").reverse()
    body = sg.to_latex(rv, at={"u1": 1, "u2": 1}) + "\n\n" + rv._repr_latex_()
    assert pdflatex(wrap(body), tmp_path).exists()


def test_to_latex_rejects_other_objects():
    with pytest.raises(TypeError, match="Graph, Forward, Reverse or SymPy expression"):
        sg.to_latex("x*y")


def test_to_latex_of_a_result_by_itself_is_its_formula(tmp_path):
    g = sg.graph("sum(softplus(-hadamard(y, X*w)))", shapes={"X": (4, 2), "w": (2, 1), "y": (4, 1)})
    hessian = g.hessian(wrt="w")
    out = sg.to_latex(hessian)
    assert out.startswith("X^{\\top} \\operatorname{diag}") and out.endswith("X"), out
    assert "DiagMatrix" not in out and "\\sigma'" in out
    document = sg.to_latex(hessian, standalone=True)
    assert "A 2-by-2 matrix" in document and document.rstrip().endswith("\\end{document}")


# ---------------------------------------------------------------- DOT


def test_dot_marks_shared_outputs_and_kinks():
    text = sg.to_dot(sg.graph(F1).reverse(), at=AT1)
    t3 = next(line for line in text.splitlines() if "<B>t₃</B>" in line)
    assert "peripheries=2" in t3 and "sum over 2 children" in t3 and "shared by 2 steps" in t3
    f = next(line for line in text.splitlines() if "<B>f</B>" in line)
    assert "output: add" in f and "#dbeafe" in f
    assert "n4 -> n5 [label=<t₄<BR/>= 17.35>];" in text
    kinked = sg.to_dot(sg.graph("u1*u2 + max(u1, u2)").reverse(), at={"u1": 1, "u2": 1})
    t2 = next(line for line in kinked.splitlines() if "<B>t₂</B>" in line)
    assert "#b91c1c" in t2 and "a tie of max: derivatives split evenly" in t2
    assert "= max(u₁, u₂)" in t2 and "Max" not in kinked
    assert "n0 -> n3 [label=<Heaviside(u₁ - u₂)<BR/>= 0.5>];" in kinked


def test_dot_is_deterministic_and_escapes_odd_names():
    g = sg.graph(sum(ODD[:4]) * ODD[4] + ODD[5] * ODD[6])
    text = sg.to_dot(g.reverse())
    assert text == sg.to_dot(sg.graph(sum(ODD[:4]) * ODD[4] + ODD[5] * ODD[6]).reverse())
    assert "a&amp;b" in text and "c&lt;d&gt;" in text and "q&quot;t" in text
    assert "<B>a&b</B>" not in text


def test_render_svg_and_png_with_dot(tmp_path):
    program("dot")
    g = sg.graph(sum(ODD[:4]) * ODD[4] + ODD[5] * ODD[6])
    svg = sg.render(sg.to_dot(g.reverse(), at={x: 1 for x in g.inputs}))
    assert "<svg" in svg and "a&amp;b" in svg
    out = sg.render(sg.graph(F1).reverse(), tmp_path / "f.png", format="png")
    assert Path(out).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sg.graph("x*y")._repr_svg_().lstrip().startswith("<?xml")
    with pytest.raises(sg.RenderError, match="Graphviz 'dot' failed"):
        sg.render("digraph { a -> }")


def test_render_without_graphviz_says_how_to_install(monkeypatch):
    monkeypatch.setattr(dot_module.shutil, "which", lambda name: None)
    with pytest.raises(sg.RenderError, match="apt-get install graphviz") as info:
        sg.render(sg.graph("x*y"))
    assert isinstance(info.value, ValueError)
    assert sg.graph("x*y")._repr_svg_() is None
    with pytest.raises(sg.RenderError, match="format must be one of svg, png, pdf"):
        sg.render("digraph {}", format="gif")


# ---------------------------------------------------------------- JSON


def same_graph(a: sg.Graph, b: sg.Graph) -> bool:
    return (a.inputs, a.steps, a.outputs) == (b.inputs, b.steps, b.outputs) and all(
        x.assumptions0 == y.assumptions0 for x, y in zip(a.order, b.order, strict=True)
    )


def same_sweep(a, b) -> bool:
    table = "tangents" if isinstance(a, sg.Forward) else "adjoints"
    return (
        type(a) is type(b)
        and same_graph(a.graph, b.graph)
        and list(a.seed.items()) == list(b.seed.items())
        and list(getattr(a, table).items()) == list(getattr(b, table).items())
        and list(a.terms.items()) == list(b.terms.items())
    )


SOURCES = [
    "(x + y)*(y + 1)",
    F1,
    "t1 = exp(u1)\nt2 = exp(2*u2)\nt3 = t1 + t2\nf = exp(t3) + sigmoid(t3)",
    "u1*u2 + max(u1, u2)",
    "where(x > 0, x, -x) + abs(y)*relu(x) + heaviside(x - 1) + 0.1*x + pi*e^y + min(x, y, 2)"
    " + sign(y) + softplus(x)/3 + log(x, 2) + piecewise((x, x < -1), (x^2, x <= 1), (1, True))",
    ["x*y", "x + y", "sin(x)"],
]


@pytest.mark.parametrize("source", SOURCES)
def test_json_round_trips(source):
    g = sg.graph(source)
    assert same_graph(sg.from_json(sg.to_json(g)), g)
    sweeps = [g.forward(g.inputs[0]), g.forward({x: k + 1 for k, x in enumerate(g.inputs)})]
    sweeps += [g.reverse()] if len(g.outputs) == 1 else [g.reverse("f2"), g.reverse({"f1": 2})]
    for sweep in sweeps:
        back = sg.from_json(sg.to_json(sweep, at={x: 0.7 for x in g.inputs}))
        assert same_sweep(back, sweep)
        assert back.steps == sweep.steps


def test_json_keeps_floats_and_refuses_what_symgraph_does_not_write():
    # issue 9: a document may not make a symbol positive, nor name it with code
    x, y = sympy.symbols("x y", real=True)
    g = sg.graph(sympy.Float("0.1") * x + sympy.Float("1.25", 40) * y**2)
    assert same_graph(sg.from_json(sg.to_json(g)), g)
    odd = [sympy.Symbol("p", positive=True), sympy.Symbol("__import__('os').system('x')")]
    for symbol in (*odd, *ODD[:4], ODD[6]):
        with pytest.raises(sg.JSONFormatError, match=r"graph\.nodes\[0\]\.symbol"):
            sg.from_json(sg.to_json(sg.graph(symbol * x)))


def test_json_has_format_graph_and_numbers():
    rv = sg.graph("u1*u2 + max(u1, u2)").reverse()
    data = json.loads(sg.to_json(rv, at={"u1": 1, "u2": 1}))
    assert (data["format"], data["kind"]) == ("symgraph/1", "reverse")
    assert data["graph"]["graph"] == {"inputs": ["u1", "u2"], "outputs": ["f"]}
    assert [n["id"] for n in data["graph"]["nodes"]] == ["u1", "u2", "t1", "t2", "f"]
    ev = data["evaluation"]
    assert ev["gradient"] == {"u1": 1.5, "u2": 1.5} and ev["kink_convention"] == "split"
    assert ev["kinks"][0]["step"] == "t2" and ev["kinks"][0]["partials"] == {"u1": 0.5, "u2": 0.5}
    assert "derivatives split evenly" in ev["kinks"][0]["text"]
    view = nx.node_link_graph(data["graph"], edges="edges")
    assert sorted(view.predecessors("t2")) == ["u1", "u2"]
    assert sg.to_json(rv) == sg.to_json(rv)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not JSON"),
        ("[1]", "must be dict"),
        ('{"format": "symgraph/2", "kind": "graph"}', "unknown format 'symgraph/2'"),
        ('{"format": "symgraph/1", "kind": "nope"}', "kind must be one of"),
    ],
)
def test_from_json_rejects_other_documents(text, message):
    with pytest.raises(sg.JSONFormatError, match=message):
        sg.from_json(text)


def test_from_json_never_evaluates_text():
    data = json.loads(sg.to_json(sg.graph("exp(x) + y")))
    evil = [
        ["eval", ["Str", "__import__('os').system('false')"]],
        ["Function", "os.system", ["Symbol", "x"]],
        ["Symbol", "x", {"__class__": True}],
        ["Float", "__import__('os')", 53],
        "exp(x)",
        ["Integer", "1"],
        ["Rational", 1, 0],
    ]
    for tree in evil:
        data["graph"]["nodes"][2]["expr"] = tree
        with pytest.raises(sg.JSONFormatError):
            sg.from_json(json.dumps(data))


def test_from_json_checks_the_graph():
    data = json.loads(sg.to_json(sg.graph("exp(x) + y")))
    data["graph"]["nodes"][2]["parents"] = ["y"]  # t1 = exp(x) claims parent y
    with pytest.raises(sg.JSONFormatError, match="parents"):
        sg.from_json(json.dumps(data))
    data = json.loads(sg.to_json(sg.graph("exp(x) + y")))
    data["graph"]["graph"]["outputs"] = ["nope"]
    with pytest.raises(sg.JSONFormatError, match="outputs"):
        sg.from_json(json.dumps(data))


def test_own_functions_need_to_be_named_on_reading():
    class swish(sympy.Function):
        def fdiff(self, argindex=1):
            return sympy.Integer(1)

    x = sympy.Symbol("x", real=True)
    text = sg.to_json(sg.graph(swish(x) + x))
    with pytest.raises(sg.JSONFormatError, match="unknown expression class 'swish'"):
        sg.from_json(text)
    assert sg.from_json(text, functions={"swish": swish}).steps == sg.graph(swish(x) + x).steps
    with pytest.raises(sg.JSONFormatError, match="unknown function 'g'"):  # issue 9
        decode(encode(sympy.Function("g")(x)))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions())
def test_json_round_trips_random_expressions(expr):
    g = sg.graph(expr)
    assert same_graph(sg.from_json(sg.to_json(g)), g)
    rv = g.reverse()
    assert same_sweep(sg.from_json(sg.to_json(rv)), rv)


def test_matrix_steps_show_their_shapes_and_round_trip(tmp_path):
    import numpy as np

    from symgraph.functions import msum, sigmoid

    W, x, b = (sympy.MatrixSymbol(n, *s) for n, s in [("W", (3, 2)), ("x", (2, 1)), ("b", (3, 1))])
    g = sg.graph(msum((W * x + b).applyfunc(sigmoid)))
    at = {"W": np.full((3, 2), 0.5), "x": np.ones((2, 1)), "b": np.zeros((3, 1))}
    rv = g.reverse()
    out = sg.to_latex(rv, at=at)
    assert r"t_{1} &= W x && \in \mathbb{R}^{3 \times 1} && = \begin{bmatrix}1" in out
    assert r"W &= \begin{bmatrix}0.5 & 0.5" in out and r"&& \in \mathbb{R}^{3 \times 2} \\" in out
    assert r"\bar{W} &= \bar{t}_{1} x^{\top}" in out
    assert pdflatex(sg.to_latex(rv, at=at, standalone=True), tmp_path).exists()
    assert "t̄ ↦ t̄ xᵀ" in sg.to_dot(rv, at=at)
    assert same_sweep(sg.from_json(sg.to_json(rv, at=at)), rv)
