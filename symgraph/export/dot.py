"""Pictures of the graph: Graphviz DOT text, and SVG/PNG/PDF through the ``dot`` program.

One node per input and step: its operation, its expression with the names typeset as a
board writes them (t₃ = t₁ + t₂, t̄₃, ṫ₃; :mod:`symgraph.export.labels`), and at a point its
value; below a rule, a sweep's tangent or adjoint written out as the LaTeX writes it (the
sum over the neighbours term by term, then the board form) and its number. Edges carry the
local partial ``∂child/∂parent`` (and its value). A shared node (used by several steps) has
a double border, and its adjoint says it is a sum over its children; outputs are filled
blue, kinks red. Node ids follow the graph's order (``n0``, ``n1``, ...), so the text is
deterministic; a graph too long to draw left to right is drawn top to bottom.

>>> from symgraph import graph
>>> text = to_dot(graph("(x + y)*(y + 1)").reverse(), at={"x": 1, "y": 2})
>>> node_y = next(line for line in text.splitlines() if line.startswith("  n1 "))
>>> for row in re.findall("<TD>(.*?)</TD>", node_y):
...     print(row)
<FONT POINT-SIZE="10" COLOR="#475569">input, shared by 2 steps</FONT>
<B>y</B>
= 2
ȳ = t̄₁ + t̄₂
= 6&#160;<FONT POINT-SIZE="10" COLOR="#475569">(sum over 2 children)</FONT>
"""

from __future__ import annotations

import re
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
from ..printing import operation, written
from ..sweep import Forward, Mode, Reverse, Sweep
from .labels import LABELS, html, label, name
from .latex import evaluate_quietly

FORMATS = ("svg", "png", "pdf")
_INSTALL = (
    "the Graphviz 'dot' program is not installed; install Graphviz to render pictures "
    "(Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz; "
    "conda: conda install graphviz; others: https://graphviz.org/download/), "
    "or render the text of to_dot() elsewhere"
)
_STYLE = {
    "input": 'shape=box, style="rounded,filled", fillcolor="#f1f5f9"',
    "step": 'shape=box, style="rounded"',
    "output": 'shape=box, style="rounded,filled,bold", fillcolor="#dbeafe"',
    "kink": 'shape=box, style="rounded,filled", color="#b91c1c", fillcolor="#fee2e2"',
}


class RenderError(SymgraphError):
    """A picture that cannot be made: Graphviz missing, a bad format, or ``dot`` failing."""


def short(text: object, limit: int = 80) -> str:
    """``str(text)``, cut to ``limit`` characters with an ellipsis (labels stay drawable).

    >>> short("t1 + t2 + t3", limit=8)
    't1 + t2…'
    """
    text = str(text)
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rstrip()
    return cut + "\x02" * (cut.count("\x01") - cut.count("\x02")) + "…"  # a subscript closed


def _num(value, digits: int) -> str:
    """``3``, ``17.402``; an array row by row, ``[1, 2; 3, 4]``."""
    if getattr(value, "ndim", 0):
        rows = sympy.Matrix(value).tolist()
        return "[" + "; ".join(", ".join(_num(v, digits) for v in row) for row in rows) + "]"
    v = float(value)
    if v != v:  # NaN: a partial with no number at this point
        return "undefined"
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
_GREY = '<FONT POINT-SIZE="10" COLOR="#475569">{}</FONT>'
#: A space next to a tag: SVG drops a text piece's leading and trailing spaces, so a
#: picture would read ``t₃= t₁ + t₂``; a no-break space stays.
_EDGE_SPACE = re.compile(r"(?<=>) | (?=<)")


def _derivative(obj, ev, node: Symbol, digits: int) -> list[str]:
    """The tangent or adjoint rows of a node's label: the forms the LaTeX writes (the sum
    over the neighbours, then the board form), one a row, then the number."""
    g, mode = obj.graph, obj.mode
    first, *more = (html(short(f)) for f in written(obj, node, LABELS))
    out = [f"{html(name(str(mode.accent(node))))} = {first}", *(f"= {f}" for f in more)]
    fan_out = len(g.children[node])
    shared = _SHARED[mode].format(fan_out) if fan_out > 1 else ""
    if ev is not None and not obj.carried[node].is_Number:
        number = "= " + _num(ev.carried[node], digits)
        out.append(f"{number} {_GREY.format(f'({shared})')}" if shared else number)
    elif shared:
        out.append(_GREY.format(shared))
    return out


def _node(obj, g: Graph, node: Symbol, ev, kinks: Mapping, digits: int) -> tuple[str, str]:
    """The label (an HTML table, a row a line) and the style of one node."""
    step = g.step.get(node)
    kind = "input" if step is None else "output" if node in g.outputs else "step"
    fan_out = len(g.children[node])
    about = ("input" if step is None else _operation(step)) + (
        f", shared by {fan_out} steps" if fan_out > 1 else ""
    )
    about = ("output: " if kind == "output" else "") + about
    shape = getattr(node, "shape", None)
    about += f", {shape[0]}×{shape[1]}" if shape is not None else ""
    head = f"<B>{html(name(str(node)))}</B>"
    head += f" = {html(short(label(step.expr)))}" if step else ""
    rows = [_GREY.format(html(about)), head]
    if ev is not None:
        rows.append(f"= {_num(ev.values[node], digits)}")
    sweep = _derivative(obj, ev, node, digits) if isinstance(obj, Sweep) else []
    if node in kinks:
        kink = kinks[node]
        what = f"{kink.kind}: {CONVENTIONS[kink.convention]}"
        sweep.append(f'<FONT COLOR="#b91c1c">{html(what)}</FONT>')
    style = _STYLE["kink" if node in kinks else kind] + (", peripheries=2" if fan_out > 1 else "")
    return _table(rows, sweep), style


def _table(rows: list[str], below: list[str]) -> str:
    """Rows of a label as a table, the sweep's below a rule: each row its own line, with
    room between them (a subscript never touches the line below)."""
    cells = ["<TR><TD>" + _EDGE_SPACE.sub("&#160;", r) + "</TD></TR>" for r in rows + below]
    if below:  # the rule, and room under it for an accent (t̄) on the row below
        cells[len(rows) - 1] += '<HR/><TR><TD HEIGHT="2" CELLPADDING="0"></TD></TR>'
    return '<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2">' + (
        "".join(cells) + "</TABLE>"
    )


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
    kind = "computation graph" if isinstance(obj, Graph) else f"{obj.mode.word} mode, {_seed(obj)}"
    where = ", ".join(f"{name(str(k))} = {_point_value(v)}" for k, v in (at or {}).items())
    edges = "edges: local partials ∂child/∂parent"
    if any(e.partial is None for e in g.edges.values()):
        edges += f", matrix edges their {_map_of(obj).of}"
    # two lines: a title as wide as the picture's widest rank, not wider
    return html(kind + (f", at {where}" if where else "")) + "<BR/>" + _GREY.format(html(edges))


def _seed(sweep: Sweep) -> str:
    """``seed u̇₁ = 1``; a matrix direction by its name, ``seed Ẇ``."""
    parts = []
    for n, v in sweep.seed.items():
        accent = sweep.mode.accent(n)
        if v != 0:
            parts.append(name(str(accent)) + ("" if v == accent else f" = {label(v)}"))
    return "seed " + (", ".join(parts) or "0")


def _point_value(v) -> str:
    """A number of the point; an array by its shape (its numbers are in the nodes)."""
    return "a " + "×".join(map(str, v.shape)) + " array" if getattr(v, "ndim", 0) else _num(v, 12)


def to_dot(
    obj: Graph | Forward | Reverse,
    at: Mapping | None = None,
    kink: str = "split",
    *,
    digits: int = 5,
    rankdir: str | None = None,
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
    rankdir
        Graphviz's rank direction, ``"LR"`` or ``"TB"``; by default left to right
        unless that would be too wide to read (about 1,100 pt), then top to bottom.

    Examples
    --------
    >>> from symgraph import graph
    >>> text = to_dot(graph("u1*u2 + max(u1, u2)"), at={"u1": 1, "u2": 1})
    >>> "a tie of max: derivatives split evenly" in text, text.count("->"), "rankdir=LR" in text
    (True, 6, True)
    """
    if not isinstance(obj, Graph | Sweep):
        raise TypeError(f"to_dot takes a Graph, Forward or Reverse, not {type(obj).__name__}")
    g = obj if isinstance(obj, Graph) else obj.graph
    ev = evaluate_quietly(obj, at, kink)
    kinks = {k.step.name: k for k in ev.kinks} if ev is not None else {}
    ids = {n: f"n{i}" for i, n in enumerate(g.order)}
    nodes = {n: _node(obj, g, n, ev, kinks, digits) for n in g.order}
    if rankdir not in RANKDIRS:
        raise RenderError(f"rankdir must be one of {', '.join(RANKDIRS[1:])}, not {rankdir!r}")
    direction = rankdir or layout_direction(g, {n: label for n, (label, _) in nodes.items()})
    out = [
        "digraph symgraph {",
        f'  graph [rankdir={direction}, labelloc=t, fontname="Helvetica", '
        f"nodesep=0.3, ranksep=0.45, label=<{_title(obj, at)}>];",
        '  node [fontname="Helvetica", fontsize=12];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ]
    out += [f"  {ids[n]} [label=<{label}>, {style}];" for n, (label, style) in nodes.items()]
    for s in g.steps:
        for p in s.parents:
            label = _edge(g, ev, s.name, p, digits, _map_of(obj))
            out.append(f"  {ids[p]} -> {ids[s.name]} [label=<{label}>];")
    return "\n".join([*out, "}"]) + "\n"


#: Graphviz's rank directions (None: chosen by the graph's width).
RANKDIRS = (None, "LR", "TB", "RL", "BT")
#: Wider than this (in points, roughly), a left-to-right picture is drawn top to bottom.
WIDE = 1100
_TAG = re.compile(r"<[^>]*>|&[#\w]+;")


def layout_direction(g: Graph, labels: Mapping[Symbol, str]) -> str:
    """``"LR"``, or ``"TB"`` where left to right would be wider than :data:`WIDE` and top
    to bottom narrower: a deep graph (a network of many layers) reads down the page.

    The width is guessed from the labels: about 6.5 pt a character of the longest row.
    """
    depth: dict[Symbol, int] = {}
    for n in g.order:
        depth[n] = 1 + max((depth[p] for p in g.step[n].parents), default=-1) if n in g.step else 0
    ranks: dict[int, list[float]] = {}
    for n, d in depth.items():
        ranks.setdefault(d, []).append(_width(labels[n]))
    across = sum(max(w) for w in ranks.values()) + 32 * (len(ranks) - 1)
    down = max(sum(w) + 22 * (len(w) - 1) for w in ranks.values())
    return "LR" if across <= WIDE or down >= across else "TB"


def _width(label: str) -> float:
    """A label's rough width in points: its longest row, a tag or an entity one letter."""
    return 6.5 * max(len(_TAG.sub("x", row)) for row in label.split("</TR>")) + 24


def _edge(g: Graph, ev, child: Symbol, parent: Symbol, digits: int, way: _Map) -> str:
    edge = g.edges[(child, parent)]
    partial = edge.partial
    if partial is None:  # a matrix edge: its linear map, t̄ ↦ t̄ xᵀ
        return html(short(f"{way.name} ↦ {linear_map(edge, way)}"))
    text = html(short(label(partial)))
    constant = partial.is_Number
    value = _partial_value(g, ev, child, parent) if ev is not None and not constant else None
    return text + (f"<BR/>= {_num(value, digits)}" if value is not None else "")


def linear_map(edge: Edge, way: _Map) -> str:
    """A matrix edge's map in a picture's notation, its variable called ``t̄`` or ``ṫ``."""
    variable = way.variable(edge)
    shape = getattr(variable, "shape", None)
    placeholder = MatrixSymbol(way.name, *shape) if shape else Symbol(way.name)
    return label(way.written(edge).xreplace({variable: placeholder}))


#: The resolution of a PNG by default: sharp on a projector (Graphviz's own is 96).
DPI = 150
_SVG_SIZE = re.compile(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"')


def render(
    source: str | Graph | Forward | Reverse,
    path: str | Path | None = None,
    format: str | None = None,
    *,
    dpi: float = DPI,
) -> str | bytes:
    """Draw DOT text (or a graph or sweep) with Graphviz's ``dot`` program.

    Returns the path written, or without ``path`` the picture itself (SVG text, or
    bytes for PNG and PDF). The format is ``format`` if given, else the file's
    extension (``.svg``, ``.png``, ``.pdf``), else SVG. A PNG has ``dpi`` dots per inch
    (150 by default: sharp on a projector); an SVG scales down to fit the page or
    notebook it is shown in. Raises :class:`RenderError` (a ``ValueError``) if Graphviz
    is not installed, saying how to install it, for an unknown format or extension, or
    if ``dot`` rejects the input.

    >>> from symgraph import graph
    >>> svg = render(graph("x*y")) if shutil.which("dot") else "<svg"
    >>> svg.lstrip().startswith(("<?xml", "<svg", "<!DOCTYPE"))
    True
    """
    format = _format(path, format)
    if isinstance(dpi, bool) or not (isinstance(dpi, int | float) and 0 < dpi <= 2400):
        raise RenderError(f"dpi must be a number of dots per inch up to 2400, not {dpi!r}")
    text = source if isinstance(source, str) else to_dot(source)
    program = shutil.which("dot")
    if program is None:
        raise RenderError(_INSTALL)
    command = [program, f"-T{format}"] + ([f"-Gdpi={dpi:g}"] if format == "png" else [])
    try:
        done = subprocess.run(command, input=text.encode(), capture_output=True, timeout=60)
    except subprocess.TimeoutExpired:
        raise RenderError("Graphviz 'dot' took longer than 60 s") from None
    if done.returncode != 0:
        first = (done.stderr.decode(errors="replace").strip().splitlines() or ["failed"])[0]
        raise RenderError(f"Graphviz 'dot' failed: {first}")
    picture = _scalable(done.stdout.decode()) if format == "svg" else done.stdout
    if path is None:
        return picture
    try:
        Path(path).write_bytes(picture.encode() if format == "svg" else picture)
    except OSError as exc:
        raise RenderError(f"cannot write the picture to {str(path)!r}: {exc.strerror}") from None
    return str(path)


def _format(path: str | Path | None, format: str | None) -> str:
    """The format asked for, or the one the file's extension names."""
    if format is None and path is not None:
        suffix = Path(path).suffix.lower().removeprefix(".")
        if suffix not in FORMATS:
            raise RenderError(
                f"cannot tell the picture's format from {str(path)!r}: name the file "
                f'{", ".join("." + f for f in FORMATS)}, or pass format="png" (or svg, pdf)'
            )
        return suffix
    format = "svg" if format is None else format
    if format not in FORMATS:
        raise RenderError(f"format must be one of {', '.join(FORMATS)}, not {format!r}")
    return format


def _scalable(svg: str) -> str:
    """The SVG at its own size, but never wider than where it is shown: a notebook or a
    page scales a wide picture down (Graphviz writes a fixed width, cut off there)."""
    return _SVG_SIZE.sub(
        lambda m: f'<svg width="{m[1]}pt" height="{m[2]}pt" style="max-width: 100%; height: auto"',
        svg,
        count=1,
    )
