"""Pictures of the graph: Graphviz DOT text, and SVG/PNG through the ``dot`` program.

One node per input and step with its operation and expression, and at a point its
value and tangent or adjoint; edges carry the local partial ``∂child/∂parent`` (and
its value). A shared node (used by several steps) has a double border, and its
adjoint says it is a sum over its children; outputs are filled blue, kinks red.
Node ids follow the graph's order (``n0``, ``n1``, ...), so the text is deterministic.

>>> from symgraph import graph
>>> text = to_dot(graph("(x + y)*(y + 1)").reverse(), at={"x": 1, "y": 2})
>>> node_y = next(line for line in text.splitlines() if line.startswith("  n1 "))
>>> for part in node_y.split("<BR/>"):
...     print(part)
  n1 [label=<<B>y</B>
<FONT POINT-SIZE="10">input, shared by 2 steps</FONT>
value 2
ybar = tbar_1 + tbar_2
= 6 (sum over 2 children)>, shape=ellipse, style=filled, fillcolor="#f1f5f9", peripheries=2];
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

import sympy
from sympy import MatrixSymbol, Symbol

from .. import naming
from ..edges import Edge
from ..errors import SymgraphError
from ..evaluation import interpret
from ..evaluation.evaluate import CONVENTIONS, EvaluationError
from ..graph import Graph, _is_leaf
from ..printing import operation, picture, text
from ..sweep import Forward, Mode, Reverse, Sweep
from .latex import evaluate_quietly

FORMATS = ("svg", "png", "pdf")
_INSTALL = (
    "the Graphviz 'dot' program is not installed; install Graphviz to render pictures "
    "(Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz; "
    "conda: conda install graphviz; others: https://graphviz.org/download/), "
    "or render the text of to_dot() elsewhere"
)
_STYLE = {
    "input": 'shape=ellipse, style=filled, fillcolor="#f1f5f9"',
    "step": 'shape=box, style="rounded"',
    "output": 'shape=box, style="rounded,filled,bold", fillcolor="#dbeafe"',
    "kink": 'shape=box, style="rounded,filled", color="#b91c1c", fillcolor="#fee2e2"',
}


class RenderError(SymgraphError):
    """A picture that cannot be made: Graphviz missing, a bad format, or ``dot`` failing."""


def html(text: str) -> str:
    """Escape text for a Graphviz HTML-like label.

    >>> html('a<b & "c"')
    'a&lt;b &amp; &quot;c&quot;'
    """
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def short(text: object, limit: int = 80) -> str:
    """``str(text)``, cut to ``limit`` characters with an ellipsis (labels stay drawable).

    >>> short("t1 + t2 + t3", limit=8)
    't1 + t2…'
    """
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _num(value, digits: int) -> str:
    """``3``, ``17.402``; an array row by row, ``[1, 2; 3, 4]``."""
    if getattr(value, "ndim", 0):
        rows = sympy.Matrix(value).tolist()
        return "[" + "; ".join(", ".join(_num(v, digits) for v in row) for row in rows) + "]"
    v = float(value)
    return str(int(v)) if v.is_integer() and abs(v) < 1e15 else f"{v:.{digits}g}"


def _partial_value(g: Graph, ev, child: Symbol, parent: Symbol) -> float | None:
    """∂child/∂parent at the point: the kink convention's where there is one."""
    for k in ev.kinks:
        if k.step.name == child:
            return k.partials.get(parent)
    partial = g.partials.get((child, parent))
    if partial is None:  # a matrix edge: no scalar partial to show
        return None
    try:
        return interpret.value(partial, ev.values)
    except EvaluationError:  # no real number there (or a node not evaluated)
        return None


#: What a node's label says of its sharing: an adjoint is summed over the children.
_SHARED = {Mode.FORWARD: "", Mode.REVERSE: "sum over {} children"}


def _derivative(obj, ev, node: Symbol, digits: int) -> list[str]:
    """The tangent or adjoint line(s) of a node's label."""
    g, mode = obj.graph, obj.mode
    board = obj.carried[node]
    out = [f"{mode.accent(node)} = {short(text(board))}"]
    fan_out = len(g.children[node])
    shared = _SHARED[mode].format(fan_out) if fan_out > 1 else ""
    if ev is not None and not board.is_Number:
        number = "= " + _num(ev.carried[node], digits)
        out.append(f"{number} ({shared})" if shared else number)
    elif shared:
        out.append(shared)
    return out


def _node(obj, g: Graph, node: Symbol, ev, kinks: Mapping, digits: int) -> tuple[str, str]:
    """The label lines (HTML) and the style of one node."""
    step = g.step.get(node)
    kind = "input" if step is None else "output" if node in g.outputs else "step"
    head = f"<B>{html(str(node))}</B>" + (f" = {html(short(text(step.expr)))}" if step else "")
    fan_out = len(g.children[node])
    about = ("input" if step is None else _operation(step)) + (
        f", shared by {fan_out} steps" if fan_out > 1 else ""
    )
    about = ("output: " if kind == "output" else "") + about
    shape = getattr(node, "shape", None)
    about += f", {shape[0]}×{shape[1]}" if shape is not None else ""
    lines = [head, f'<FONT POINT-SIZE="10">{html(about)}</FONT>']
    if ev is not None:
        lines.append(f"value {_num(ev.values[node], digits)}")
    if isinstance(obj, Sweep):
        lines += [html(x) for x in _derivative(obj, ev, node, digits)]
    if node in kinks:
        kink = kinks[node]
        what = f"{kink.kind}: {CONVENTIONS[kink.convention]}"
        lines.append(f'<FONT COLOR="#b91c1c">{html(what)}</FONT>')
    style = _STYLE["kink" if node in kinks else kind] + (", peripheries=2" if fan_out > 1 else "")
    return "<BR/>".join(lines), style


def _operation(step) -> str:
    """A step's operation as a reader names it (``matrix product``, ``sigmoid entrywise``)."""
    return step.op if _is_leaf(step.expr) else operation(step.expr)


class _Map(NamedTuple):
    """How a picture writes a matrix edge's map in one direction: ``t̄ ↦ Wᵀ t̄``."""

    name: str  # the map's variable: t̄ (the child's adjoint) or ṫ (the parent's tangent)
    of: str  # what it stands for, for the title
    variable: object  # edge -> the symbol the edge's map is written with
    written: object  # edge -> the map's expression


#: A matrix edge is labelled with its pull (a graph, a reverse sweep) or its push.
_MAPS = {
    Mode.REVERSE: _Map(
        "t̄", "pull: t̄ the child's adjoint", lambda e: naming.bar(e.child), Edge.pull.fget
    ),
    Mode.FORWARD: _Map(
        "ṫ", "push: ṫ the parent's tangent", lambda e: naming.dot(e.parent), Edge.push.fget
    ),
}


def _map_of(obj) -> _Map:
    return _MAPS[Mode.REVERSE if isinstance(obj, Graph) else obj.mode]


def _title(obj, at: Mapping | None) -> str:
    g = obj if isinstance(obj, Graph) else obj.graph
    kind = "computation graph" if isinstance(obj, Graph) else f"{obj.mode.word} mode"
    where = ", ".join(f"{k} = {_point_value(v)}" for k, v in (at or {}).items())
    out = kind + (f" at {where}" if where else "") + "; edges: local partials ∂child/∂parent"
    if any(e.partial is None for e in g.edges.values()):
        out += f", matrix edges their {_map_of(obj).of}"
    return html(out)


def _point_value(v) -> str:
    """A number of the point; an array by its shape (its numbers are in the nodes)."""
    return "a " + "×".join(map(str, v.shape)) + " array" if getattr(v, "ndim", 0) else _num(v, 12)


def to_dot(
    obj: Graph | Forward | Reverse,
    at: Mapping | None = None,
    kink: str = "split",
    *,
    digits: int = 5,
) -> str:
    """Graphviz DOT text of a graph or a sweep, optionally with the numbers at a point.

    Parameters
    ----------
    obj
        A :class:`~symgraph.graph.Graph`, :class:`~symgraph.sweep.Forward` or
        :class:`~symgraph.sweep.Reverse`; a sweep adds each node's tangent or adjoint.
    at
        A point ``{input: number}``: values, tangents/adjoints and edge partials there.
    kink
        The kink convention at the point; kinked steps are drawn red.
    digits
        Significant digits of the numbers.

    Examples
    --------
    >>> from symgraph import graph
    >>> text = to_dot(graph("u1*u2 + max(u1, u2)"), at={"u1": 1, "u2": 1})
    >>> "a tie of max: derivatives split evenly" in text, text.count("->")
    (True, 6)
    """
    if not isinstance(obj, Graph | Sweep):
        raise TypeError(f"to_dot takes a Graph, Forward or Reverse, not {type(obj).__name__}")
    g = obj if isinstance(obj, Graph) else obj.graph
    ev = evaluate_quietly(obj, at, kink)
    kinks = {k.step.name: k for k in ev.kinks} if ev is not None else {}
    ids = {n: f"n{i}" for i, n in enumerate(g.order)}
    out = [
        "digraph symgraph {",
        f'  graph [rankdir=LR, labelloc=t, fontname="Helvetica", label=<{_title(obj, at)}>];',
        '  node [fontname="Helvetica", fontsize=12];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ]
    for node in g.order:
        label, style = _node(obj, g, node, ev, kinks, digits)
        out.append(f"  {ids[node]} [label=<{label}>, {style}];")
    for s in g.steps:
        for p in s.parents:
            label = _edge(g, ev, s.name, p, digits, _map_of(obj))
            out.append(f"  {ids[p]} -> {ids[s.name]} [label=<{label}>];")
    return "\n".join([*out, "}"]) + "\n"


def _edge(g: Graph, ev, child: Symbol, parent: Symbol, digits: int, way: _Map) -> str:
    edge = g.edges[(child, parent)]
    partial = edge.partial
    if partial is None:  # a matrix edge: its linear map, t̄ ↦ t̄ xᵀ
        return html(short(f"{way.name} ↦ {linear_map(edge, way)}"))
    label = html(short(text(partial)))
    constant = partial.is_Number
    value = _partial_value(g, ev, child, parent) if ev is not None and not constant else None
    return label + (f"<BR/>= {_num(value, digits)}" if value is not None else "")


def linear_map(edge: Edge, way: _Map) -> str:
    """A matrix edge's map in a picture's notation, its variable called ``t̄`` or ``ṫ``."""
    variable = way.variable(edge)
    shape = getattr(variable, "shape", None)
    placeholder = MatrixSymbol(way.name, *shape) if shape else Symbol(way.name)
    return picture(way.written(edge).xreplace({variable: placeholder}))


def render(
    source: str | Graph | Forward | Reverse, path: str | Path | None = None, format: str = "svg"
) -> str | bytes:
    """Draw DOT text (or a graph or sweep) with Graphviz's ``dot`` program.

    Returns the path written, or without ``path`` the picture itself (SVG text, or
    bytes for PNG and PDF). Raises :class:`RenderError` (a ``ValueError``) if Graphviz
    is not installed, saying how to install it, or if ``dot`` rejects the input.

    >>> from symgraph import graph
    >>> svg = render(graph("x*y")) if shutil.which("dot") else "<svg"
    >>> svg.lstrip().startswith(("<?xml", "<svg", "<!DOCTYPE"))
    True
    """
    if format not in FORMATS:
        raise RenderError(f"format must be one of {', '.join(FORMATS)}, not {format!r}")
    text = source if isinstance(source, str) else to_dot(source)
    program = shutil.which("dot")
    if program is None:
        raise RenderError(_INSTALL)
    command = [program, f"-T{format}"] + ([f"-o{path}"] if path is not None else [])
    try:
        done = subprocess.run(command, input=text.encode(), capture_output=True, timeout=60)
    except subprocess.TimeoutExpired:
        raise RenderError("Graphviz 'dot' took longer than 60 s") from None
    if done.returncode != 0:
        first = (done.stderr.decode(errors="replace").strip().splitlines() or ["failed"])[0]
        raise RenderError(f"Graphviz 'dot' failed: {first}")
    if path is not None:
        return str(path)
    return done.stdout.decode() if format == "svg" else done.stdout
