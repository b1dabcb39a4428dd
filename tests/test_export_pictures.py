"""Pictures a teacher projects and LaTeX that never overflows.

Typeset names in the DOT labels (t̄₁, ṫ₃), spaces that survive SVG, the picture's format
from the file's extension, PNGs at a projector's resolution, wide graphs drawn to fit; a
sweep's text and picture showing the chain rule as the LaTeX does (each form checked
against the interpreter's numbers); deep networks' derivations compiled with ``pdflatex``
without an overfull line.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

import numpy as np
import pytest
import sympy

import symgraph as sg
from symgraph.cli import main
from symgraph.evaluation import interpret
from symgraph.export import latex as latex_module
from symgraph.export import typeset
from symgraph.export.labels import label, name

from .test_export import AT1, F1, pdflatex, program


def deep(layers: int) -> str:
    """``tanh(w8*tanh(w7*...tanh(w1*x)...))``: a scalar network of ``layers`` layers."""
    f = "x"
    for k in range(1, layers + 1):
        f = f"tanh(w{k}*{f})"
    return f


DEEP_AT = {"x": 0.5, **{f"w{k}": 0.9 for k in range(1, 9)}}


def rows(dot_text: str, node: str) -> list[str]:
    """The rows of one node's label, its no-break spaces as spaces."""
    line = next(x for x in dot_text.splitlines() if x.startswith(f"  {node} "))
    return [r.replace("&#160;", " ") for r in re.findall("<TD>(.*?)</TD>", line)]


# ---------------------------------------------------------------- labels


def test_names_are_typeset_as_on_the_board():
    assert [name(n) for n in ("tbar_1", "tdot_3", "u1", "W_21", "fbar")] == [
        "t\u0304₁",
        "ṫ₃",
        "u₁",
        "W₂₁",
        "f\u0304",
    ]
    assert label(sympy.Symbol("t5") * (1 - sympy.Symbol("t5"))) == "t₅ (1 - t₅)"
    assert label(sympy.Max(*sympy.symbols("u1 u2"))) == "max(u₁, u₂)"


def test_the_lecture_picture_has_typeset_names_and_the_right_values():
    text = sg.to_dot(sg.graph(F1).reverse(), at=AT1)
    assert "tbar" not in text and "_1" not in text  # no ASCII name left to collide
    assert rows(text, "n2") == [
        '<FONT POINT-SIZE="10" COLOR="#475569">exp</FONT>',
        "<B>t₁</B> = exp(u₁)",
        "= 2.7183",
        "t̄₁ = t̄₃",
        "= 17.402",
    ]
    assert rows(text, "n0")[-3:] == ["ū₁ = t̄₁ t₁", "= t₁ t̄₃", "= 47.303"]
    assert "= 17.402 <FONT" in rows(text, "n4")[-1] and "sum over 2 children" in text
    assert "seed f̄ = 1, at u₁ = 1, u₂ = -1" in text


def test_the_forward_picture_shows_the_step_through_the_shared_node():
    text = sg.to_dot(sg.graph(F1).forward("u1"), at=AT1)
    assert rows(text, "n5")[-3:] == ["ṫ₄ = t₄ ṫ₃", "= t₄ ṫ₁", "= 47.163"]
    assert rows(text, "n6")[-3:] == ["ṫ₅ = t₅ (1 - t₅) ṫ₃", "= t₅ ṫ₁ (1 - t₅)", "= 0.14006"]


def test_no_space_is_left_beside_a_tag():
    text = sg.to_dot(sg.graph(F1).reverse(), at=AT1)
    assert "</B>&#160;= t₄ + t₅" in text
    cells = re.findall("<TD>(.*?)</TD>", text)
    assert cells and not any(re.search(r"> | <", c) for c in cells)


def test_the_svg_keeps_the_space_after_a_bold_name():
    program("dot")
    svg = sg.render(sg.graph(F1).reverse())
    pieces = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert "\xa0= t₄ + t₅" in pieces  # a no-break space, which SVG does not drop
    assert not any(p.startswith(" ") for p in pieces)


# ---------------------------------------------------------------- text and LaTeX agree


def _forms_at_the_point(sweep, point) -> dict:
    """Every form of every line of the sweep's text, as numbers: each parsed by SymPy
    with the step and accent names, evaluated with the interpreter's values."""
    ev = sweep.evaluate(point)
    names = {str(n): n for n in sweep.graph.order}
    names.update({str(sweep.mode.accent(n)): sweep.mode.accent(n) for n in sweep.graph.order})
    known = {**ev.values, **{sweep.mode.accent(n): v for n, v in ev.carried.items()}}
    out = {}
    for line in sweep.lines():
        head, *forms = line.split(" = ")
        parsed = [
            sympy.parse_expr(f, local_dict={**names, "sigmoid": sg.functions.sigmoid})
            for f in forms
        ]
        out[head] = ([float(interpret.value(p, known)) for p in parsed], known[names[head]])
    return out


@pytest.mark.parametrize("source", [F1, "(x + y)*(y + 1)", "sin(x*y) + x/y - exp(-x)"])
@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_every_form_of_the_text_is_the_number_the_sweep_computes(source, mode):
    g = sg.graph(source)
    point = {x: 0.7 + i for i, x in enumerate(g.inputs)}
    sweep = g.forward(g.inputs[0]) if mode == "forward" else g.reverse()
    for head, (numbers, value) in _forms_at_the_point(sweep, point).items():
        assert numbers == pytest.approx([value] * len(numbers)), head


def test_forward_text_shows_the_steps_the_latex_shows():
    fw = sg.graph(F1).forward("u1")
    text = fw.lines()
    assert "tdot_4 = t4*tdot_3 = t4*tdot_1" in text
    assert "tdot_1 = t1*udot_1 = t1" in text and "tdot_3 = tdot_1" in text
    tangent = latex_module.sections(fw)[1]
    for row, line in zip(tangent.rows, text, strict=True):
        # the LaTeX writes the partials named first, then the same forms as the text
        named = 1 if any(r"\partial" in t for _, t in row.parts[0]) else 0
        assert len(row.parts) - named == line.count(" = "), (row, line)
    rv = sg.graph(F1).reverse()
    assert "ubar_1 = tbar_1*t1 = t1*tbar_3" in rv.lines()
    tanh = sg.graph("tanh(w*x)").reverse().lines()  # a partial keeps its own sign
    assert "tbar_1 = fbar*(1 - f**2) = 1 - f**2" in tanh, tanh
    assert "tbar_1 = -fbar*f = -f" in sg.graph("exp(-x*y)").reverse().lines()
    assert "fdot = xdot - ydot = 0" in sg.graph("x - y").forward({"x": 1, "y": 1}).lines()


# ---------------------------------------------------------------- render


def _png_size(data: bytes) -> tuple[int, int]:
    return struct.unpack(">II", data[16:24])


def test_render_takes_its_format_from_the_extension(tmp_path):
    program("dot")
    g = sg.graph("x*y + sin(x)")
    magic = {"png": b"\x89PNG", "pdf": b"%PDF", "svg": b"<?xml"}
    for fmt, start in magic.items():
        path = sg.render(g, tmp_path / f"g.{fmt.upper() if fmt == 'pdf' else fmt}")
        assert Path(path).read_bytes().startswith(start), fmt
    sg.render(g, tmp_path / "picture.png", format="svg")  # format= wins
    assert (tmp_path / "picture.png").read_bytes().startswith(b"<?xml")
    with pytest.raises(sg.RenderError, match=r"cannot tell the picture's format from .*g\.gif"):
        sg.render(g, tmp_path / "g.gif")
    with pytest.raises(sg.RenderError, match="format must be one of svg, png, pdf"):
        sg.render(g, tmp_path / "g.png", format="jpeg")
    with pytest.raises(sg.RenderError, match="cannot write the picture to"):
        sg.render(g, tmp_path / "no such folder" / "g.png")


def test_png_resolution(tmp_path):
    program("dot")
    g = sg.graph("x*y")
    default = _png_size(sg.render(g, format="png"))
    sharp = _png_size(sg.render(g, format="png", dpi=300))
    assert sharp[0] == pytest.approx(2 * default[0], rel=0.05)  # 150 dpi by default
    for bad in (0, -1, True, "high", 5000):
        with pytest.raises(sg.RenderError, match="dpi must be"):
            sg.render(g, format="png", dpi=bad)


def test_a_wide_svg_scales_to_fit():
    program("dot")
    svg = sg.render(sg.graph(F1).reverse())
    assert 'style="max-width: 100%; height: auto"' in svg and "viewBox=" in svg


def test_deep_graphs_are_drawn_top_to_bottom():
    assert "rankdir=LR" in sg.to_dot(sg.graph(F1).reverse(), at=AT1)
    deep_text = sg.to_dot(sg.graph(deep(8)).reverse(), at=DEEP_AT)
    assert "rankdir=TB" in deep_text
    assert "rankdir=LR" in sg.to_dot(sg.graph(deep(8)), rankdir="LR")
    with pytest.raises(sg.RenderError, match="rankdir must be one of LR, TB, RL, BT"):
        sg.to_dot(sg.graph("x*y"), rankdir="LR]; x [label=evil")


def test_the_command_line_takes_dpi(tmp_path, capsys):
    program("dot")
    path = tmp_path / "g.png"
    assert main(["graph", "x*y", "--png", str(path), "--dpi", "300"]) == 0
    high = _png_size(path.read_bytes())
    assert main(["graph", "x*y", "--png", str(path)]) == 0
    assert high[0] == pytest.approx(2 * _png_size(path.read_bytes())[0], rel=0.05)
    capsys.readouterr()


# ---------------------------------------------------------------- LaTeX that fits


def overfull(tex: str, tmp_path: Path) -> list[float]:
    """The widths (pt) by which the compiled document's boxes overflow."""
    pdf = pdflatex(tex, tmp_path)
    log = pdf.with_suffix(".log").read_text(errors="replace")
    return [float(w) for w in re.findall(r"Overfull \\hbox \((\d+(?:\.\d+)?)pt too wide", log)]


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_a_deep_networks_derivation_has_no_overfull_line(mode, tmp_path):
    g = sg.graph(deep(8))
    sweep = g.reverse() if mode == "reverse" else g.forward("x")
    tex = sg.to_latex(sweep, at=DEEP_AT, standalone=True)
    assert "landscape" not in tex  # it fits on the page as it is
    assert [w for w in overfull(tex, tmp_path) if w > 10] == []


def test_a_deep_matrix_networks_derivation_has_no_overfull_line(tmp_path):
    f = "x"
    for k in range(1, 9):
        f = f"tanh(W{k}*{f})"
    shapes = {"x": (2, 1), **{f"W{k}": (2, 2) for k in range(1, 9)}}
    g = sg.graph(f"sum({f})", shapes=shapes)
    rng = np.random.default_rng(1)
    at = {n: rng.normal(size=s).round(2) for n, s in shapes.items()}
    tex = sg.to_latex(g.reverse(), at=at, standalone=True)
    assert "named as in the traces" in tex
    assert [w for w in overfull(tex, tmp_path) if w > 10] == []


def test_long_products_break_between_factors_and_wide_parts_are_named():
    rv = sg.graph(deep(8)).reverse()
    gradient = latex_module.closed_forms(rv)
    assert "named as in the primal trace" in gradient.title
    laid, widest = typeset.layout(gradient)
    assert any(line.startswith(r"&\quad \cdot ") for row in laid for line in row)
    assert widest <= typeset.WIDTH  # every column together within a line
    # the named closed form is still the derivative: t14 (1 - f²) is ∂f/∂w8
    named, _ = latex_module.in_steps_where_wide(rv.graph, rv.gradient)
    w8 = rv.graph.symbol("w8")
    expanded = named[w8].subs({s.name: rv.graph.expand(s.name) for s in rv.graph.steps[::-1]})
    exact = sympy.diff(rv.graph.expand(rv.graph.outputs[0]), w8)
    assert sympy.simplify(expanded - exact) == 0


def test_the_document_states_the_function_the_mode_and_the_point():
    tex = sg.to_latex(
        sg.graph("(x + y)*(y + 1)").forward("y"), at={"x": 1, "y": 2}, standalone=True
    )
    assert (
        "\\subsection*{The function}" in tex
        and r"f &= \left(x + y\right) \left(y + 1\right)" in tex
    )
    assert r"A function of $x$, $y$." in tex
    assert r"Forward mode, seeded with $\dot{y} = 1$ (every other input's tangent 0)." in tex
    assert r"At the point $x = 1$, $y = 2$." in tex
    reverse = sg.to_latex(sg.graph(F1).reverse(), standalone=True)
    assert r"Reverse mode, seeded with $\bar{f} = 1$." in reverse and "At the point" not in reverse
    graph_only = sg.to_latex(sg.graph("x*y"), standalone=True)
    assert "mode" not in graph_only.split("\\subsection*")[0].split("\\section*")[1]
