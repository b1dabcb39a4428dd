"""What every command shares: its result, and the graph and point its arguments give."""

from __future__ import annotations

from typing import NamedTuple

import symgraph as sg

from ..parse import Program
from .io import UsageError, shapes, source
from .points import fit, point


class Result(NamedTuple):
    """What a command found: ``data`` for ``--json``, ``text`` for people.

    ``document`` text (LaTeX, DOT) gets its notes on stderr, keeping the document clean.
    """

    data: dict
    text: str
    document: bool = False


def _graph(args) -> sg.Graph:
    """The graph of EXPR: a formula, a list of formulas, or a program (``--outputs``: the
    program lines that are its outputs, else its last line)."""
    given, text = shapes(args.shapes), source(args.expr)
    outputs = getattr(args, "outputs", None)
    if getattr(args, "latex", False):
        return sg.graph(text, shapes=given, latex=True)
    if outputs is not None:
        return _program(text, given, outputs)
    return sg.graph(text, shapes=given) if given else sg.graph(text)


def _program(text: str, given, outputs: str) -> sg.Graph:
    """A program whose outputs are the lines named in ``--outputs f1,f2`` (a rebound name
    is its final version, ``c_2`` names that version)."""
    if not isinstance(sg.parse(text, given), Program):
        raise UsageError(
            "--outputs names lines of a program (one name = expr a line); for a formula of "
            'several outputs write a list, e.g. "[x*y, sin(x)]"'
        )
    names = [n.strip() for n in outputs.split(",")]
    return sg.graph(text, shapes=given, outputs=names) if given else sg.graph(text, outputs=names)


def _values(text: str | None, g: sg.Graph, option: str = "--at"):
    """Values of the inputs in their shapes (a flat list fills a column or a row)."""
    found = {x.name: getattr(x, "shape", None) for x in g.inputs}
    found = {n: s and (int(s[0]), int(s[1])) for n, s in found.items()}
    return fit(point(text, option), found, option)


def _point(args, g: sg.Graph):
    """``--at`` as values of the inputs' shapes."""
    return _values(args.at, g)
