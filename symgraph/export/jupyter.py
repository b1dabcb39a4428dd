"""Jupyter displays of graphs and sweeps, registered on the core classes from here.

The core does not import the exports: this module attaches ``_repr_latex_`` (every step
in MathJax) and ``_repr_svg_`` (the picture) to :class:`~symgraph.graph.Graph`,
the sweeps (:class:`~symgraph.sweep.Sweep`: Forward and Reverse), and
``import symgraph`` imports it, so a notebook shows them as before.

>>> import symgraph as sg
>>> sg.graph("x*y")._repr_latex_().startswith("$$")
True
"""

from __future__ import annotations

import shutil

from ..graph import Graph
from ..sweep import Sweep
from .dot import RenderError, render
from .latex import to_latex


def _repr_latex_(self) -> str:
    """Every step in Jupyter's MathJax; see :func:`symgraph.export.latex.to_latex`."""
    return to_latex(self, notebook_style=True)


def _repr_svg_(self) -> str | None:
    """A picture of the graph in Jupyter (None, so no picture, without Graphviz)."""
    if shutil.which("dot") is None:
        return None
    try:
        return render(self)
    except RenderError:
        return None


for _cls in (Graph, Sweep):
    _cls._repr_latex_ = _repr_latex_
    _cls._repr_svg_ = _repr_svg_
