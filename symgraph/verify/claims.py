r"""A person's claims as :func:`symgraph.verify.check.check` reads them.

A formula is parsed in the graph's shapes: its matrix inputs, its matrix steps (``t2``)
and their adjoints (``tbar_2``, a matrix of ``t2``'s shape) are matrices there, so
``tbar_2*x.T`` is the 3×2 matrix it says. A formula whose shapes do not fit together
(``x*tbar_2`` with x 2×1 and tbar_2 3×1) is not a typing error but a wrong derivation:
it becomes a :class:`Misfit`, judged wrong with the parser's words. Numbers for a matrix
are nested lists or an array.

>>> from symgraph import graph
>>> g = graph("sum(W*x)", shapes={"W": (3, 2), "x": (2, 1)})
>>> shapes = claim_shapes(g)
>>> shapes["W"], shapes["tbar_1"]
((3, 2), (3, 1))
>>> parse_claim("W", "tbar_1*x.T", shapes).shape
(3, 2)
>>> parse_claim("W", r"\bar t_1 x^\top", shapes).shape
(3, 2)
>>> print(parse_claim("W", "x*tbar_1", shapes).message)
cannot multiply x (2×1) by tbar_1 (3×1): the inner dimensions 1 and 3 differ (x*tbar_1.T would fit)
"""

from __future__ import annotations

import numbers
import re
from typing import NamedTuple

import sympy
from sympy import Basic

from .. import naming
from ..graph import Graph, GraphError
from ..lazynp import np as numpy
from ..parse import ParseError, parse_expr_text
from ..parse.latex import latex_text

#: Text the formula parser always refuses, so a claim holding it is read as LaTeX.
_LATEX = re.compile(r"[\\{}]")
#: How a parser message names a shape: ``3×2``.
_A_SHAPE = re.compile(r"\d+×\d+")


class Misfit(NamedTuple):
    """A claimed formula whose shapes do not fit together, and what the parser said."""

    text: str
    message: str

    def __str__(self) -> str:
        return self.text


def claim_shapes(g: Graph) -> dict[str, tuple[int, int]]:
    """The names a claim may use that are matrices: nodes, and adjoints of matrix nodes."""
    shapes = {}
    for n in g.order:
        for s in (n, naming.bar(n)):
            if getattr(s, "shape", None):
                shapes[s.name] = tuple(map(int, s.shape))
    return shapes


def parse_claim(key, raw, shapes: dict):
    r"""The claim for ``key``: an expression, a :class:`Misfit`, or an array of numbers.

    A formula with a backslash or a brace (``e^{u_1}\bar t_3``) is LaTeX: the formula
    parser refuses both, so no formula is read another way.
    """
    if isinstance(raw, str):
        try:  # LaTeX as formula text, which matrix_check's transposes read too
            raw = latex_text(raw, shapes) if _LATEX.search(raw) else raw
            return parse_expr_text(raw, shapes or None)
        except ParseError as e:
            if shapes and _A_SHAPE.search(e.message):  # the shapes of a matrix claim
                hint = f" ({e.hint})" if e.hint else ""
                return Misfit(raw, e.message + hint)
            message = f"the claim for {key}: {e.message}"
            raise ParseError(message, e.line, e.column, e.hint, e.text) from None
    if isinstance(raw, numbers.Real) and not isinstance(raw, bool):
        return sympy.Integer(raw) if isinstance(raw, numbers.Integral) else sympy.Float(raw)
    if isinstance(raw, Basic):
        return raw
    if shapes and isinstance(raw, list | tuple | numpy.ndarray):  # numbers for a matrix
        try:
            a = numpy.asarray(raw, dtype=float)
        except (TypeError, ValueError):
            a = None
        if a is not None and a.ndim <= 2 and a.size and numpy.isfinite(a).all():
            return a
        raise GraphError(f"the claim for {key}: numbers must be finite, in rows, e.g. [[1, 2]]")
    kind = type(raw).__name__
    raise GraphError(
        f"the claim for {key} must be a formula, an expression or a number, not {kind}"
    )
