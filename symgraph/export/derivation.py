r"""A checked derivation as a teacher hands it back: LaTeX and HTML, and a table in Jupyter.

:func:`to_latex` writes the report of :func:`symgraph.check_derivation` as a list, each
line marked ``\checkmark`` or ``\times`` with the correction beside it (``pdflatex``
with ``amsmath`` and ``amssymb``); :func:`to_html` as a table. Both are attached to
:class:`~symgraph.verify.derivation_report.DerivationReport` from here (``to_latex``,
``to_html``, ``_repr_html_``), as the other displays are. A line the reader understood
is typeset from what it read, never from its text, so nothing a person wrote reaches TeX;
the others are shown as escaped text.

>>> import symgraph as sg
>>> report = sg.check_derivation("x**2", [r"\frac{\partial f}{\partial x} = x"])
>>> print(report.to_latex())  # doctest: +NORMALIZE_WHITESPACE
\noindent 1 of 1 lines wrong; the first wrong line is line 1
\begin{itemize}
\item[$\times$] line 1: $\displaystyle \frac{\partial f}{\partial x} = x$ --- wrong: factor 0.5\\
  should be: $\displaystyle 2 x$\\
  {\small off by a constant factor 0.5}
\end{itemize}
"""

from __future__ import annotations

import html
import re

from sympy import Basic, Derivative

from ..verify.derivation_report import _WORDS, DerivationReport, LineVerdict, _short, _shown
from .printer import number, tex

_TEX_SPECIAL = {c: "\\" + c for c in "#$%&_{}"}
_TEX_SPECIAL.update({"\\": r"\textbackslash{}", "^": r"\^{}", "~": r"\~{}"})
_TEX_SYMBOLS = (("∂", r"$\partial$"), ("×", r"$\times$"), ("·", r"$\cdot$"),
                ("ᵀ", r"$^\top$"), ("→", r"$\to$"), ("∘", r"$\circ$"))  # fmt: skip


def _tex_text(s: str) -> str:
    """Text for TeX: its special characters escaped, t̄3 and ṫ3 in math, the rest ASCII."""
    s = "".join(_TEX_SPECIAL.get(c, c) for c in s)
    s = re.sub(r"([A-Za-z])\u0304", r"$\\bar{\1}$", s)
    s = re.sub(r"([A-Za-z])\u0307", r"$\\dot{\1}$", s)
    for old, new in _TEX_SYMBOLS:
        s = s.replace(old, new)
    return re.sub(r"[^\x00-\x7f]", "?", s)


def _tex_value(value) -> str:
    if isinstance(value, Derivative):  # a partial as the board writes it: ∂f/∂x
        (x, _), f = value.variable_count[0], value.expr
        return rf"\frac{{\partial {tex(f)}}}{{\partial {tex(x)}}}"
    return tex(value) if isinstance(value, Basic) else number(value)


def _latex_item(v: LineVerdict) -> str:
    mark = r"$\checkmark$" if v.ok else r"$\times$"
    words = _tex_text(_WORDS[v.kind] + (f": {v.slip}" if v.slip else ""))
    if v.follows_from is not None:
        words += f" (follows from line {v.follows_from})"
    if v.read:
        shown = "$\\displaystyle " + " = ".join(map(_tex_value, v.read)) + "$"
    else:
        shown = rf"\texttt{{{_tex_text(_short(v.text))}}}"
    out = f"\\item[{mark}] line {v.line_no}: {shown} --- {words}"
    if not v.ok and v.should_be is not None:
        out += f"\\\\\n  should be: $\\displaystyle {_tex_value(v.should_be)}$"
    if v.reason:
        out += f"\\\\\n  {{\\small {_tex_text(v.reason)}}}"
    return out


def to_latex(report: DerivationReport, standalone: bool = False) -> str:
    r"""The report as a LaTeX list: ``\checkmark`` or ``\times``, the line, the correction;
    ``standalone``: a whole document for ``pdflatex``."""
    items = [_latex_item(v) for v in report.lines]
    body = "\\begin{itemize}\n" + "\n".join(items) + "\n\\end{itemize}\n"
    body = f"\\noindent {_tex_text(report._head())}\n" + body
    if not standalone:
        return body
    return (
        "\\documentclass{article}\n\\usepackage[utf8]{inputenc}\n"
        "\\usepackage{amsmath,amssymb}\n\\begin{document}\n" + body + "\\end{document}\n"
    )


def _html_row(v: LineVerdict) -> str:
    mark, color = ("✓", "green") if v.ok else ("✗", "#b00")
    verdict = _WORDS[v.kind] + (f": {v.slip}" if v.slip else "")
    if v.follows_from is not None:
        verdict += f" (follows from line {v.follows_from})"
    fix = "" if v.ok or v.should_be is None else f"{v.about} = {_shown(v.should_be)}"
    cells = [html.escape(c) for c in (str(v.line_no), _short(v.text), verdict, fix)]
    cells[2] += f"<br><small>{html.escape(v.reason)}</small>" * bool(v.reason)
    return f'<tr><td style="color:{color}">{mark}</td>' + "".join(
        f"<td>{c}</td>" for c in cells
    ) + "</tr>"  # fmt: skip


def to_html(report: DerivationReport) -> str:
    """The report as an HTML table: mark, line number, the line, verdict, correction."""
    head = "<tr><th></th><th>line</th><th>as written</th><th>verdict</th><th>should be</th></tr>"
    rows = "".join(_html_row(v) for v in report.lines)
    summary = f"<p>{html.escape(report._head())}</p>"
    return summary + f'<table class="symgraph-derivation">{head}{rows}</table>'


DerivationReport.to_latex = to_latex
DerivationReport.to_html = to_html
DerivationReport._repr_html_ = to_html
