"""Exports of graphs and sweeps: LaTeX of every step, Graphviz pictures, JSON.

>>> import symgraph as sg
>>> rv = sg.graph("(x + y)*(y + 1)").reverse()
>>> sg.from_json(sg.to_json(rv)).adjoints["y"]
tbar_1 + tbar_2
"""

from . import derivation, jupyter  # noqa: F401  (they register displays on the core classes)
from .dot import RenderError, render, to_dot
from .json import JSONFormatError, from_json, to_json
from .latex import to_latex

__all__ = [
    "JSONFormatError",
    "RenderError",
    "from_json",
    "render",
    "to_dot",
    "to_json",
    "to_latex",
]
