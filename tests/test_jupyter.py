"""Every result object reads well as text and shows LaTeX and its picture together in a
notebook (one mimebundle), and degrades to text without Graphviz.

The ``dot`` program is required under CI (``CI`` set): there a missing program fails the
tests that draw, instead of skipping them (as in tests/test_export.py).
"""

from __future__ import annotations

import os
import re
import shutil

import numpy as np
import pytest
import sympy

import symgraph as sg
from symgraph.export import jupyter

AT = {"x": 1, "y": 2}
SOURCE = "x*y + sin(x)"
RICH = {"text/html", "image/svg+xml", "text/latex", "text/plain"}


def _dot() -> None:
    if shutil.which("dot") is None:
        message = "the 'dot' program is not installed"
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail(message + " (required under CI)")
        pytest.skip(message)


@pytest.fixture
def no_graphviz(monkeypatch):
    """Graphviz absent: ``shutil.which("dot")`` finds nothing (the displays' own test)."""
    real = shutil.which
    monkeypatch.setattr(
        shutil, "which", lambda name, *a, **k: None if name == "dot" else real(name)
    )


def _pictured():
    g = sg.graph(SOURCE)
    return {
        "graph": g,
        "forward": g.forward("x"),
        "reverse": g.reverse(),
        "values": g.evaluate(AT),
        "forward evaluation": g.forward("x").evaluate(AT),
        "reverse evaluation": g.reverse().evaluate(AT),
    }


# ---------------------------------------------------------------- reprs


def test_reprs_are_readable_not_dataclass_dumps():
    g = sg.graph(SOURCE)
    fd = sg.finite_difference(SOURCE, at=AT)
    texts = {
        "graph": repr(g),
        "reverse": repr(g.reverse()),
        "forward": repr(g.forward("x")),
        "values": repr(g.evaluate(AT)),
        "reverse evaluation": repr(g.reverse().evaluate(AT)),
        "forward evaluation": repr(g.forward("x").evaluate(AT)),
        "finite difference": repr(fd),
        "its sweep": repr(fd.sweep()),
        "check": repr(sg.check(SOURCE, {"x": "y + cos(x)"})),
        "claim": repr(sg.check(SOURCE, {"x": "y + cos(x)"}).results[0]),
    }
    for name, text in texts.items():
        assert not re.search(r"\w+\((\w+)=", text), f"{name}: {text[:80]}"  # no Field=...
    assert texts["graph"].splitlines() == [
        "<graph f(x, y): 3 steps>",
        "t1 = x*y",
        "t2 = sin(x)",
        "f = t1 + t2",
    ]
    assert texts["reverse"].startswith("<reverse sweep of f(x, y): 3 steps>\nfbar = 1")
    assert texts["values"] == "<evaluation at x = 1, y = 2: f = 2.84147>"
    assert texts["reverse evaluation"] == (
        "<reverse evaluation at x = 1, y = 2: f = 2.84147; ∂f/∂x = 2.5403, ∂f/∂y = 1>"
    )
    assert texts["forward evaluation"].endswith("; ∂f/∂x = 2.5403>")
    assert texts["finite difference"] == str(fd) and texts["check"].startswith("the claim is")


def test_a_large_graph_has_a_short_repr():
    g = sg.graph(" + ".join(f"sin(x{i})" for i in range(30)))
    lines = repr(g).splitlines()
    assert lines[0] == "<graph f(x0, x1, x2, …, x29, 30 inputs): 31 steps>"
    assert len(lines) == 1 + jupyter.REPR_LINES + 1 and lines[13] == "… (7 more lines)"
    assert lines[-1] == str(g).splitlines()[-1]


def test_an_evaluation_prints_the_point_values_numbers_and_labelled_derivatives():
    x, y = sympy.symbols("x y", real=True)
    ev = sg.graph(SOURCE).reverse().evaluate(AT)
    lines = str(ev).splitlines()
    assert lines[0] == "at x = 1, y = 2"
    assert lines[1].split()[:4] == ["values:", "t1", "=", "2,"]
    assert lines[2].startswith("adjoints:") and "x̄ = 2.5403" in lines[2]
    expected = sympy.diff(x * y + sympy.sin(x), x).subs({x: 1, y: 2})  # the oracle
    assert lines[3] == f"gradient:   ∂f/∂x = {float(expected):.6g}, ∂f/∂y = 1"


def test_matrix_evaluations_read_on_one_line_and_by_shape():
    g = sg.graph("sum(W*x)", shapes={"W": (2, 3), "x": (3, 1)})
    ev = g.reverse().evaluate({"W": np.ones((2, 3)), "x": [1, 2, 3]})
    assert repr(ev) == (
        "<reverse evaluation at W = 2×3 matrix, x = [1., 2., 3.]: f = 12; "
        "∂f/∂W = 2×3 matrix, ∂f/∂x = [2., 2., 2.]>"
    )
    assert "∂f/∂W = [[1., 2., 3.], [1., 2., 3.]]" in str(ev)  # Wᵀ-free oracle: x in each row


def test_a_kink_is_listed_in_the_text():
    with pytest.warns(sg.KinkWarning):
        ev = sg.graph("max(x, y)").reverse().evaluate({"x": 1, "y": 1})
    assert str(ev).splitlines()[-1].startswith("kink: f = Max(x, y) at a tie of max")


# ---------------------------------------------------------------- displays


@pytest.mark.parametrize("name", list(_pictured()))
def test_display_shows_latex_and_picture_together(name):
    _dot()
    obj = _pictured()[name]
    bundle = obj._repr_mimebundle_()
    assert set(bundle) >= RICH, sorted(bundle)
    page = bundle["text/html"]
    assert "<svg" in page and "<?xml" not in page  # the picture inline, in this page
    assert page.index("<svg") < page.index("$$")  # the LaTeX (MathJax) below it
    assert bundle["text/latex"].startswith("$$") and bundle["image/svg+xml"].lstrip()[:5] in (
        "<?xml",
        "<svg ",
        "<!DOC",
    )
    assert bundle["text/plain"] == (
        str(obj) if "evaluation" in name or name == "values" else repr(obj)
    )


@pytest.mark.parametrize("name", list(_pictured()))
def test_display_without_graphviz_is_latex_and_text(name, no_graphviz):
    obj = _pictured()[name]
    bundle = obj._repr_mimebundle_()
    assert set(bundle) == {"text/html", "text/latex", "text/plain"}
    assert "<svg" not in bundle["text/html"] and "<pre>" in bundle["text/html"]
    assert obj._repr_svg_() is None if hasattr(obj, "_repr_svg_") else True


def test_evaluation_pictures_carry_the_numbers():
    _dot()
    ev = sg.graph(SOURCE).reverse().evaluate(AT)
    assert "2.5403" in ev._repr_mimebundle_()["image/svg+xml"]
    assert "2.5403" in ev._repr_mimebundle_()["text/latex"]


def test_an_evaluation_with_an_undefined_partial_still_displays(no_graphviz):
    with pytest.warns(RuntimeWarning):
        ev = sg.graph("x**y").reverse().evaluate({"x": 0, "y": 2})
    text = ev._repr_mimebundle_()["text/plain"]
    assert "∂f/∂y = undefined" in text and "log of 0" in text


def test_finite_differences_show_a_table():
    fd = sg.finite_difference(SOURCE, at=AT)
    bundle = fd._repr_mimebundle_()
    assert set(bundle) == {"text/html", "text/plain"} and bundle["text/plain"] == str(fd)
    assert bundle["text/html"].count("<tr>") == 3 and "∂f/∂y" in bundle["text/html"]
    sweep = fd.sweep()
    page = sweep._repr_mimebundle_()["text/html"]
    assert page.count("<tr>") == 1 + len(sweep.hs) + 2  # header, one row per h, order, floor


def test_check_reports_show_their_table():
    report = sg.check(SOURCE, {"x": "y", "y": "x"})
    bundle = report._repr_mimebundle_()
    assert bundle == {"text/markdown": report._repr_markdown_(), "text/plain": str(report)}
    claim = report.results[0]._repr_mimebundle_()
    assert claim["text/plain"] == str(report.results[0])


def test_a_jacobian_stays_a_sympy_matrix_and_says_its_mode():
    g = sg.graph(["x*y", "sin(x)"])
    J = g.jacobian()
    x, y = g.inputs
    oracle = sympy.Matrix([[y, x], [sympy.cos(x), 0]])  # by hand
    assert isinstance(J, sympy.Matrix) and oracle == J and 2 * oracle == (J + J)
    assert repr(J) == repr(oracle)
    bundle = J._repr_mimebundle_()
    assert bundle["text/latex"] == f"$$J = {sympy.latex(oracle)}$$"
    assert J.mode_choice.reason in bundle["text/plain"]
    assert "reverse mode" in bundle["text/html"]
    assert (J + J).mode_choice is None  # a matrix computed from it made no choice


def test_html_escapes_what_it_shows():
    page = jupyter.page(r"$$a < b \\ c & d$$", None, "x < y")
    assert "&lt;" in page and "&amp;" in page and "< y" not in page
