"""What every command shares: its result, and the graph and point its arguments give."""

from __future__ import annotations

from typing import NamedTuple

import symgraph as sg

from .io import fit, point, shapes, source


class Result(NamedTuple):
    """What a command found: ``data`` for ``--json``, ``text`` for people.

    ``document`` text (LaTeX, DOT) gets its notes on stderr, keeping the document clean.
    """

    data: dict
    text: str
    document: bool = False


def _graph(args) -> sg.Graph:
    given, text = shapes(args.shapes), source(args.expr)
    return sg.graph(text, shapes=given) if given else sg.graph(text)


def _point(args, g: sg.Graph):
    """``--at`` as values of the inputs' shapes (a flat list fills a column or a row)."""
    found = {x.name: getattr(x, "shape", None) for x in g.inputs}
    found = {n: s and (int(s[0]), int(s[1])) for n, s in found.items()}
    return fit(point(args.at), found)
