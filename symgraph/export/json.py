"""JSON of graphs and sweeps, read back without ever evaluating text.

Expressions are written as trees ``[class name, *arguments]`` (``["Add", ["Symbol",
"x"], ["Integer", 1]]``) and rebuilt only through a whitelist of SymPy classes, with
``evaluate=False`` so that they come back exactly as written. The graph is NetworkX's
node-link form (``networkx.node_link_graph(data["graph"], edges="edges")`` reads it);
a sweep adds its seed, its tangents or adjoints and their terms, and at a point the
numbers and kinks. ``"format": "symgraph/1"`` tags the layout.

>>> from symgraph import graph
>>> g = graph("exp(exp(u1) + exp(2*u2)) + sigmoid(exp(u1) + exp(2*u2))")
>>> back = from_json(to_json(g))
>>> back.steps == g.steps, back.inputs == g.inputs, back.outputs == g.outputs
(True, True, True)
>>> sorted(json.loads(to_json(g))["graph"]["nodes"][3])
['expr', 'id', 'kind', 'op', 'parents', 'symbol', 'text']
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import networkx as nx
import numpy
import sympy
from sympy import Expr, Symbol

from ..forward import Forward
from ..graph import Graph, Step
from ..naming import NameDict
from ..reverse import Reverse
from .latex import evaluate_quietly
from .trees import Functions, JSONFormatError, decode, encode, need

FORMAT = "symgraph/1"
_KINDS = {Graph: "graph", Forward: "forward", Reverse: "reverse"}
__all__ = ["FORMAT", "JSONFormatError", "decode", "encode", "from_json", "to_json"]


# ---------------------------------------------------------------- graphs and sweeps


def _node_link(view: nx.DiGraph) -> dict:
    try:
        return nx.node_link_data(view, edges="edges")
    except TypeError:  # networkx < 3.4 names the key with link=
        return nx.node_link_data(view, link="edges")


def graph_data(g: Graph) -> dict:
    """The graph in NetworkX's node-link form; nodes in order, with exprs as trees."""
    view = nx.DiGraph(inputs=[x.name for x in g.inputs], outputs=[o.name for o in g.outputs])
    for x in g.inputs:
        view.add_node(x.name, kind="input", symbol=encode(x))
    for s in g.steps:
        kind = "output" if s.name in g.outputs else "step"
        parents = [p.name for p in s.parents]
        view.add_node(s.name.name, kind=kind, op=s.op, symbol=encode(s.name), parents=parents)
        view.nodes[s.name.name].update(expr=encode(s.expr), text=str(s.expr))
        for p in s.parents:
            partial = g.partials.get((s.name, p))  # none for a matrix edge
            view.add_edge(p.name, s.name.name, partial=None if partial is None else encode(partial))
    return _node_link(view)


def _pairs(table: Mapping) -> list:
    return [[k.name, encode(v)] for k, v in table.items()]


def sweep_data(sweep: Forward | Reverse) -> dict:
    """Seed, tangents or adjoints (board form), their terms, and the closed forms."""
    forward = isinstance(sweep, Forward)
    table = sweep.tangents if forward else sweep.adjoints
    results = sweep.derivative if forward else sweep.gradient
    return {
        "seed": _pairs(sweep.seed),
        "tangents" if forward else "adjoints": _pairs(table),
        "terms": [
            [n.name, [[m.name, encode(d)] for m, d in pairs]] for n, pairs in sweep.terms.items()
        ],
        "derivative" if forward else "gradient": _pairs(results),
        **({"directions": _numbers(sweep.directions)} if getattr(sweep, "directions", {}) else {}),
    }


def _numbers(table: Mapping) -> dict[str, float]:
    return {k.name: _plain(v) for k, v in table.items()}


def _plain(value) -> float | list:
    """A number for JSON: a float, or an array as nested lists."""
    return value.tolist() if getattr(value, "ndim", 0) else float(value)


def evaluation_data(ev) -> dict:
    """The numbers at a point (values, tangents/adjoints, results) and the kinks."""
    out = {"kink_convention": ev.kink_convention}
    for name in ("values", "tangents", "derivative", "adjoints", "gradient", "outputs"):
        if hasattr(ev, name):
            out[name] = _numbers(getattr(ev, name))
    out["kinks"] = [
        {
            "step": k.step.name.name,
            "at": _numbers(k.at),
            "partials": _numbers(k.partials),
            "jump": k.jump,
            "text": str(k),
        }
        for k in ev.kinks
    ]
    return out


def to_json(
    obj: Graph | Forward | Reverse,
    at: Mapping | None = None,
    kink: str = "split",
    *,
    indent: int | None = None,
) -> str:
    """JSON of a graph or a sweep (and, given ``at``, its numbers there).

    Parameters
    ----------
    obj
        A :class:`~symgraph.graph.Graph`, :class:`~symgraph.forward.Forward` or
        :class:`~symgraph.reverse.Reverse`.
    at
        A point: adds ``"evaluation"`` with every number and the kinks met.
    kink
        The kink convention at the point.
    indent
        Passed to :func:`json.dumps`.

    Examples
    --------
    >>> import json
    >>> from symgraph import graph
    >>> data = json.loads(to_json(graph("x*y").reverse(), at={"x": 2, "y": 3}))
    >>> data["format"], data["kind"], data["evaluation"]["gradient"]
    ('symgraph/1', 'reverse', {'x': 3.0, 'y': 2.0})
    """
    kind = _KINDS.get(type(obj))
    if kind is None:
        raise TypeError(f"to_json takes a Graph, Forward or Reverse, not {type(obj).__name__}")
    g = obj if isinstance(obj, Graph) else obj.graph
    data = {"format": FORMAT, "kind": kind, "graph": graph_data(g)}
    if kind != "graph":
        data.update(sweep_data(obj))
    if at is not None:
        data["evaluation"] = evaluation_data(evaluate_quietly(obj, at, kink))
    return json.dumps(data, indent=indent, ensure_ascii=False)


# ---------------------------------------------------------------- reading


def _entries(value: Any, what: str) -> list[tuple[str, Any]]:
    """A list of ``[name, value]`` pairs."""
    pairs = need(value, list, what)
    if not all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) for p in pairs):
        raise JSONFormatError(f"{what} must be a list of [name, value] pairs")
    return [(name, v) for name, v in pairs]


def _step(node: dict, symbol: Symbol, known: dict[str, Symbol], functions) -> Step:
    names = need(node.get("parents"), list, f"the parents of {symbol}")
    missing = [p for p in names if p not in known]
    if missing:
        raise JSONFormatError(f"step {symbol} uses {missing}, which are not defined before it")
    expr, parents = decode(node.get("expr"), functions), tuple(known[p] for p in names)
    if not isinstance(expr, Expr) or expr.free_symbols - set(known.values()):
        raise JSONFormatError(f"step {symbol}: {expr} is not an expression in earlier nodes")
    if expr.free_symbols != set(parents):
        raise JSONFormatError(f"step {symbol}: parents {names} do not match {expr}")
    return Step(symbol, expr, parents)


def read_graph(data: Any, functions: Functions | None = None) -> Graph:
    """A :class:`~symgraph.graph.Graph` from :func:`graph_data`'s node-link form, checked."""
    data = need(data, dict, "the graph")
    attrs = need(data.get("graph"), dict, "the graph's attributes")
    known: dict[str, Symbol] = {}
    inputs, steps = [], []
    for node in need(data.get("nodes"), list, "the graph's nodes"):
        node = need(node, dict, "a node")
        name = need(node.get("id"), str, "a node's id")
        symbol = decode(node.get("symbol"))
        if (
            not isinstance(symbol, Symbol | sympy.MatrixSymbol)
            or symbol.name != name
            or name in known
        ):
            raise JSONFormatError(f"node {name!r}: its symbol is not a new symbol of that name")
        if node.get("kind") == "input" and not steps:
            inputs.append(symbol)
        else:
            steps.append(_step(node, symbol, known, functions))
        known[name] = symbol
    outputs = [known.get(o) for o in need(attrs.get("outputs"), list, "the outputs")]
    if attrs.get("inputs") != [x.name for x in inputs] or not {s.name for s in steps} >= {*outputs}:
        raise JSONFormatError("the graph's inputs and outputs do not match its nodes")
    return Graph(tuple(inputs), tuple(steps), tuple(outputs))


def read_sweep(g: Graph, data: dict, kind: str, functions: Functions | None = None):
    """A :class:`~symgraph.forward.Forward` or :class:`~symgraph.reverse.Reverse` over ``g``."""
    key = "tangents" if kind == "forward" else "adjoints"
    try:
        node = g.symbol
        seed = {node(n): decode(e, functions) for n, e in _entries(data.get("seed"), "the seed")}
        table = {node(n): decode(e, functions) for n, e in _entries(data.get(key), key)}
        terms = {
            node(n): tuple((node(m), decode(d, functions)) for m, d in _entries(pairs, "terms"))
            for n, pairs in _entries(data.get("terms"), "the terms")
        }
        given = need(data.get("directions", {}), dict, "the directions")  # matrix directions
        directions = {node(n): numpy.array(v, dtype=float) for n, v in given.items()}
    except ValueError as exc:  # GraphError: a name that is not a node; a ragged array
        raise JSONFormatError(str(exc)) from None
    if set(table) != set(g.order) or set(terms) != set(g.order):
        raise JSONFormatError(f"the {key} and terms must cover every node of the graph")
    if kind == "reverse":
        return Reverse(g, seed, NameDict(table), terms)
    return Forward(g, seed, NameDict(table), terms, *([directions] if directions else []))


def from_json(text: str | bytes, functions: Functions | None = None) -> Graph | Forward | Reverse:
    """Read :func:`to_json`'s output back: an equal Graph, Forward or Reverse.

    Nothing in the text is evaluated: expressions are rebuilt from a whitelist of SymPy
    classes (pass your own ``sympy.Function`` subclasses as ``functions={"name": cls}``).
    The numbers of an ``"evaluation"`` are not read back; ``.evaluate(at)`` remakes them.

    Raises
    ------
    JSONFormatError
        For text that is not JSON, another format or version, or an inconsistent graph.

    Examples
    --------
    >>> from_json('{"format": "symgraph/9"}')
    Traceback (most recent call last):
    symgraph.export.trees.JSONFormatError: unknown format 'symgraph/9': symgraph reads 'symgraph/1'
    """
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise JSONFormatError(f"not JSON: {exc}") from None
    data = need(data, dict, "a symgraph document")
    if data.get("format") != FORMAT:
        raise JSONFormatError(f"unknown format {data.get('format')!r}: symgraph reads {FORMAT!r}")
    kind = data.get("kind")
    if kind not in _KINDS.values():
        raise JSONFormatError(f"kind must be one of {', '.join(_KINDS.values())}, not {kind!r}")
    try:
        g = read_graph(data.get("graph"), functions)
        return g if kind == "graph" else read_sweep(g, data, kind, functions)
    except RecursionError:
        raise JSONFormatError("expressions nested too deeply") from None
