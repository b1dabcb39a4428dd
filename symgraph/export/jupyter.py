"""Jupyter displays of every result, registered on the core classes from here.

The core does not import the exports: this module attaches the displays to
:class:`~symgraph.graph.Graph`, the sweeps (:class:`~symgraph.sweep.Sweep`: Forward and
Reverse), their evaluations, finite differences, check reports and Jacobians, and
``import symgraph`` imports it. ``_repr_mimebundle_`` gives a frontend every format at
once: ``text/html`` shows the LaTeX (typeset by MathJax) *and* the picture together,
``text/latex`` and ``image/svg+xml`` each alone, ``text/plain`` the readable text. Without
Graphviz there is no picture, and the HTML shows the text instead (no error).

>>> import symgraph as sg
>>> bundle = sg.graph("x*y")._repr_mimebundle_()
>>> sorted(bundle)[-3:], bundle["text/latex"].startswith("$$")
(['text/html', 'text/latex', 'text/plain'], True)
>>> print(bundle["text/plain"])
<graph f(x, y): 1 step>
f = x*y
"""

from __future__ import annotations

import html
import shutil
from collections.abc import Callable

import sympy

from ..derivatives import Jacobian
from ..errors import SymgraphError
from ..evaluation.evaluate import GraphEvaluation, SweepEvaluation
from ..graph import Graph
from ..sweep import Sweep
from ..verify.finite import FiniteDifference, FiniteDifferenceSweep
from ..verify.verdicts import CheckReport, ClaimResult
from .dot import RenderError, render, to_dot
from .latex import to_latex

#: A frontend shows the first format it knows of a bundle; these keys, in this order.
FORMATS = ("text/html", "image/svg+xml", "text/latex", "text/markdown", "text/plain")


def _repr_latex_(self) -> str:
    """Every step in Jupyter's MathJax; see :func:`symgraph.export.latex.to_latex`."""
    return to_latex(self, notebook_style=True)


def picture(dot: Callable[[], str]) -> str | None:
    """The SVG of the DOT text ``dot()`` makes, or None without Graphviz (or if it fails)."""
    if shutil.which("dot") is None:
        return None
    try:
        return render(dot())
    except (RenderError, SymgraphError):
        return None


def _repr_svg_(self) -> str | None:
    """A picture of the graph in Jupyter (None, so no picture, without Graphviz)."""
    return picture(lambda: to_dot(self))


def page(latex: str | None, svg: str | None, text: str, extra: str = "") -> str:
    """HTML of the picture (scrolled sideways if wider than the page) above the LaTeX;
    the text in its place without a picture."""
    parts = [f'<div style="max-width:100%;overflow-x:auto">{_inline(svg)}</div>'] if svg else []
    parts += [f"<div>{html.escape(latex, quote=False)}</div>"] if latex else []
    parts += [extra] if extra else []
    parts += [] if svg or extra else [f"<pre>{html.escape(text)}</pre>"]
    return '<div class="symgraph">' + "".join(parts) + "</div>"


def _inline(svg: str) -> str:
    """An SVG file's text without its XML prologue and doctype, to sit inside HTML."""
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


def bundle(latex: str | None, svg: str | None, text: str, **more: str) -> dict:
    """A mimebundle: each format present once, HTML showing them together."""
    data = {
        "text/html": page(latex, svg, text, more.pop("html", "")),
        "image/svg+xml": svg,
        "text/latex": latex,
        **{f"text/{k}": v for k, v in more.items()},
        "text/plain": text,
    }
    return {k: v for k, v in data.items() if v}


def _quietly(make: Callable[[], str]) -> str | None:
    try:
        return make()
    except SymgraphError:  # a point where the LaTeX has no number: the text says why
        return None


# ---------------------------------------------------------------- graphs and sweeps


def _graph_of(obj) -> Graph:
    return obj if isinstance(obj, Graph) else obj.graph


#: A repr lists this many lines of steps at most (a large graph: its first and last ones).
REPR_LINES = 24


def _repr_(self) -> str:
    """``<reverse sweep of f(x, y): 3 steps>`` and the steps, one a line."""
    g = _graph_of(self)
    kind = "graph" if self is g else f"{self.mode.word} sweep of"
    outputs = ", ".join(map(str, g.outputs))
    names = [str(x) for x in g.inputs]
    if len(names) > 8:
        names = [*names[:3], "…", names[-1], f"{len(names)} inputs"]
    head = f"<{kind} {outputs}({', '.join(names)}): "
    n, lines = len(g.steps), str(self).splitlines()
    if len(lines) > REPR_LINES:
        half = REPR_LINES // 2
        lines = [*lines[:half], f"… ({len(lines) - 2 * half} more lines)", *lines[-half:]]
    return "\n".join([head + f"{n} step{'s' * (n != 1)}>", *lines])


def _graph_bundle(self, include=None, exclude=None) -> dict:
    svg = picture(lambda: to_dot(self))
    return bundle(_quietly(lambda: to_latex(self, notebook_style=True)), svg, repr(self))


for _cls in (Graph, Sweep):
    _cls._repr_latex_ = _repr_latex_
    _cls._repr_svg_ = _repr_svg_
    _cls._repr_mimebundle_ = _graph_bundle
    _cls.__repr__ = _repr_  # not a dataclass dump: what a person reads


# ---------------------------------------------------------------- evaluations


def _point(ev) -> dict:
    obj = ev.graph if isinstance(ev, GraphEvaluation) else ev.sweep
    return {x: ev.values[x] for x in _graph_of(obj).inputs}


def _evaluation_bundle(self, include=None, exclude=None) -> dict:
    """The steps with their numbers at the point, in LaTeX and in the picture."""
    obj = self.graph if isinstance(self, GraphEvaluation) else self.sweep
    if obj is None:  # built by hand, without its graph: the text alone
        return {"text/plain": str(self)}
    at, kink = _point(self), self.kink_convention
    latex = _quietly(lambda: to_latex(obj, at=at, kink=kink, notebook_style=True))
    svg = picture(lambda: to_dot(obj, at=at, kink=kink))
    text = str(self)
    return bundle(latex, svg, text, html=f"<pre>{html.escape(text)}</pre>")


for _cls in (GraphEvaluation, SweepEvaluation):
    _cls._repr_mimebundle_ = _evaluation_bundle


# ---------------------------------------------------------------- numbers and verdicts


def table(header, rows) -> str:
    """An HTML table (cells escaped): the one table-maker of the displays."""
    cells = lambda tag, row: "".join(f"<{tag}>{html.escape(str(c))}</{tag}>" for c in row)  # noqa: E731
    body = "".join(f"<tr>{cells('td', r)}</tr>" for r in rows)
    return f"<table><tr>{cells('th', header)}</tr>{body}</table>"


def _fd_table(fd: FiniteDifference) -> str:
    header = ("", "estimate", "exact", "error", "relative error")
    rows = [
        (f"∂{fd.output}/∂{n}", _num(fd.estimates[n]), _num(fd.exact[n]), *_errors(fd, n))
        for n in fd.estimates
    ]
    return f"<p>{html.escape(str(fd).splitlines()[0])}</p>" + table(header, rows)


def _sweep_table(s: FiniteDifferenceSweep) -> str:
    names = [f"∂{s.output}/∂{n}" for n in s.exact]
    rows = [(f"{h:.0e}", *(f"{e[i]:.2e}" for e in s.errors.values())) for i, h in enumerate(s.hs)]
    order = [("order", *(_order(s.order[n]) for n in s.exact))]
    floor = [("floor", *(f"{s.floor[n][1]:.1e} at h = {s.floor[n][0]:.0e}" for n in s.exact))]
    head = f"<p>{html.escape(str(s).splitlines()[0])}</p>"
    return head + table(("h", *names), rows + order + floor)


def _errors(fd: FiniteDifference, n) -> tuple[str, str]:
    rel = fd.rel_error[n]  # NaN where the exact value is 0: no relative error
    return f"{fd.abs_error[n]:.3g}", "—" if rel != rel else f"{rel:.3g}"


def _order(p) -> str:
    return "not measurable" if p is None else f"h^{p:.2f}"


def _num(v) -> str:
    return f"{v:.6g}" if isinstance(v, float) else " ".join(str(v).split())


def _fd_bundle(self, include=None, exclude=None) -> dict:
    """A finite difference's table, or a sweep of them (errors by step ``h``)."""
    made = _fd_table if isinstance(self, FiniteDifference) else _sweep_table
    return bundle(None, None, str(self), html=made(self))


def _check_bundle(self, include=None, exclude=None) -> dict:
    """A report's table of verdicts (Markdown: a frontend renders it), and its text."""
    markdown = self._repr_markdown_() if isinstance(self, CheckReport) else str(self)
    return {"text/markdown": markdown, "text/plain": str(self)}


FiniteDifference._repr_mimebundle_ = _fd_bundle
FiniteDifferenceSweep._repr_mimebundle_ = _fd_bundle
CheckReport._repr_mimebundle_ = _check_bundle
ClaimResult._repr_mimebundle_ = _check_bundle


# ---------------------------------------------------------------- Jacobians


def jacobian_bundle(matrix: sympy.MatrixBase, include=None, exclude=None) -> dict:
    """A Jacobian's display: the matrix in LaTeX with the mode chosen and why."""
    choice = getattr(matrix, "mode_choice", None)
    said = f"{choice.mode} mode: {choice.reason}" if choice is not None else ""
    latex = f"$$J = {sympy.latex(matrix)}$$"
    text = sympy.pretty(matrix) + (f"\n{said}" if said else "")
    extra = f"<p>{html.escape(said)}</p>" if said else ""
    return bundle(latex, None, text, html=extra)


Jacobian._repr_mimebundle_ = jacobian_bundle
