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
import sympy
from sympy import Expr, Symbol

from .. import ops
from ..evaluation.evaluate import SweepEvaluation
from ..graph import Graph, Step
from ..lazynp import np as numpy
from ..printing import text as readable
from ..sweep import SWEEPS, Forward, Mode, Reverse, Sweep
from .latex import evaluate_quietly
from .trees import Budget, Functions, JSONFormatError, decode, encode, need

FORMAT = "symgraph/1"
#: Largest number of graph nodes a document may hold.
MAX_NODES = 10_000
#: Largest work of recomputing a stored sweep (see :func:`_cost`).
MAX_SWEEP_COST = 100_000
#: Longest document, in characters.
MAX_CHARS = 50_000_000
#: What a document holds: a graph, or a sweep of one of the modes.
_KINDS = ("graph", *(m.word for m in Mode))
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
        view.nodes[s.name.name].update(expr=encode(s.expr), text=readable(s.expr))
        for p in s.parents:
            partial = g.edges[(s.name, p)].partial  # none for a matrix edge
            view.add_edge(p.name, s.name.name, partial=None if partial is None else encode(partial))
    return _node_link(view)


def _pairs(table: Mapping) -> list:
    return [[k.name, encode(v)] for k, v in table.items()]


def sweep_data(sweep: Forward | Reverse) -> dict:
    """Seed, tangents or adjoints (board form), their terms, and the closed forms."""
    mode = sweep.mode
    return {
        "seed": _pairs(sweep.seed),
        mode.carried: _pairs(sweep.carried),
        "terms": [
            [n.name, [[m.name, encode(d)] for m, d in pairs]] for n, pairs in sweep.terms.items()
        ],
        mode.results: _pairs(sweep.results),
        **({"directions": _numbers(sweep.directions)} if sweep.directions else {}),
    }


def _numbers(table: Mapping) -> dict[str, float]:
    return {k.name: _plain(v) for k, v in table.items()}


def _plain(value) -> float | list:
    """A number for JSON: a float, or an array as nested lists."""
    array = numpy.asarray(value, dtype=float)  # a direction may be given as nested lists
    return array.tolist() if array.ndim else float(array)


def evaluation_data(ev) -> dict:
    """The numbers at a point (values, tangents/adjoints, results) and the kinks."""
    out = {"kink_convention": ev.kink_convention}
    mode = ev.mode if isinstance(ev, SweepEvaluation) else None
    names = ("values", mode.carried, mode.results) if mode else ("values", "outputs")
    out.update((name, _numbers(getattr(ev, name))) for name in names)
    out["kinks"] = [
        {
            "step": k.step.name.name,
            "at": _numbers(k.at),
            "partials": _numbers(k.partials),
            "jump": k.jump,
            "kind": k.kind,
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
        A :class:`~symgraph.graph.Graph`, :class:`~symgraph.sweep.Forward` or
        :class:`~symgraph.sweep.Reverse`.
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
    kind = "graph" if isinstance(obj, Graph) else obj.mode.word if isinstance(obj, Sweep) else None
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


def _entries(value: Any, path: str) -> list[tuple[str, Any, str]]:
    """A list of ``[name, value]`` pairs, each with its value's path."""
    pairs = need(value, list, path)
    for i, p in enumerate(pairs):
        if not (isinstance(p, list) and len(p) == 2 and isinstance(p[0], str)):
            raise JSONFormatError(f"{path}[{i}] must be a [name, value] pair, not {p!r}")
    return [(name, v, f"{path}[{i}][1]") for i, (name, v) in enumerate(pairs)]


def _step(node: dict, symbol: Symbol, known: dict[str, Symbol], ctx, path: str) -> Step:
    names = need(node.get("parents"), list, f"{path}.parents")
    missing = [p for p in names if not isinstance(p, str) or p not in known]
    if missing:
        raise JSONFormatError(f"{path}: step {symbol} uses {missing}, not defined before it")
    expr, parents = ctx.decode(node.get("expr"), f"{path}.expr"), tuple(known[p] for p in names)
    if not isinstance(expr, Expr | sympy.MatrixExpr) or any(
        known.get(getattr(f, "name", None)) != f for f in expr.free_symbols
    ):
        raise JSONFormatError(f"{path}.expr: {expr} is not an expression in earlier nodes")
    if expr.free_symbols != set(parents) or len(set(parents)) != len(parents):
        raise JSONFormatError(f"{path}: parents {names} do not match {expr}")
    return Step(symbol, expr, parents)


class _Reader:
    """Decoding with one node budget for the whole document, and the caller's functions."""

    def __init__(self, functions: Functions | None):
        self.functions, self.budget = functions, Budget()

    def decode(self, tree: Any, path: str):
        return decode(tree, self.functions, path=path, budget=self.budget)


def read_graph(data: Any, ctx: _Reader, path: str = "graph") -> Graph:
    """A :class:`~symgraph.graph.Graph` from :func:`graph_data`'s node-link form, checked."""
    data = need(data, dict, path)
    attrs = need(data.get("graph"), dict, f"{path}.graph")
    known: dict[str, Symbol] = {}
    inputs, steps = [], []
    nodes = need(data.get("nodes"), list, f"{path}.nodes")
    if len(nodes) > MAX_NODES:
        raise JSONFormatError(f"{path}.nodes: more than {MAX_NODES} nodes")
    for i, node in enumerate(nodes):
        where = f"{path}.nodes[{i}]"
        node = need(node, dict, where)
        name = need(node.get("id"), str, f"{where}.id")
        symbol = ctx.decode(node.get("symbol"), f"{where}.symbol")
        if (
            not isinstance(symbol, Symbol | sympy.MatrixSymbol)
            or symbol.name != name
            or name in known
        ):
            raise JSONFormatError(f"{where}: its symbol is not a new symbol named {name!r}")
        if node.get("kind") == "input" and not steps:
            inputs.append(symbol)
        else:
            steps.append(_step(node, symbol, known, ctx, where))
        known[name] = symbol
    outputs = need(attrs.get("outputs"), list, f"{path}.graph.outputs")
    outputs = [known.get(o) if isinstance(o, str) else None for o in outputs]
    if attrs.get("inputs") != [x.name for x in inputs] or not {s.name for s in steps} >= {*outputs}:
        raise JSONFormatError(f"{path}.graph: the inputs and outputs do not match its nodes")
    try:
        return Graph(tuple(inputs), tuple(steps), tuple(outputs), ops.snapshot())
    except (ValueError, TypeError) as exc:  # the graph's own checks
        raise JSONFormatError(f"{path}: not a graph symgraph can build: {exc}") from None


def read_sweep(g: Graph, data: dict, mode: Mode, ctx: _Reader):
    """The sweep of ``g`` from the document's seed, recomputed: its stored tangents or
    adjoints and terms must be exactly the recomputed ones, else JSONFormatError."""
    key = mode.carried
    cost = sum(_cost(s) for s in g.steps)
    if cost > MAX_SWEEP_COST:
        raise JSONFormatError(
            f"graph: recomputing its sweep would take too long ({cost} > {MAX_SWEEP_COST} "
            "units); load it as a graph (kind 'graph') and sweep a smaller part"
        )
    node = _node(g)
    seed = {node(n, p): ctx.decode(e, p) for n, e, p in _entries(data.get("seed"), "seed")}
    # the stored tables first: their size is bounded before any work is done
    table = {node(n, p): (ctx.decode(e, p), p) for n, e, p in _entries(data.get(key), key)}
    terms = {}
    for n, pairs, p in _entries(data.get("terms"), "terms"):
        terms[node(n, p)] = [(node(m, q), ctx.decode(d, q)) for m, d, q in _entries(pairs, p)]
    stored = {n: (tuple(t), f"terms[{n}]") for n, t in terms.items()}
    given = need(data.get("directions", {}), dict, "directions")  # matrix seeds' numbers
    try:
        directions = {node(n, "directions"): numpy.array(v, dtype=float) for n, v in given.items()}
        for x, v in directions.items():
            if v.shape != tuple(getattr(x, "shape", ())) or not numpy.all(numpy.isfinite(v)):
                raise JSONFormatError(f"directions.{x}: finite numbers of the shape of {x}")
        # the numbers of the matrix seeds (directions Ẋ, output weights ō) seed it too
        seed = {x: directions.get(x, v) for x, v in seed.items()}
        sweep = SWEEPS[mode](g, seed)
    except JSONFormatError:
        raise
    except (ValueError, TypeError) as exc:  # not a seed of this graph; a ragged array
        raise JSONFormatError(f"seed: cannot seed the {mode.word} sweep: {exc}") from None
    _same(sweep.carried, table, key)
    _same({n: tuple(t) for n, t in sweep.terms.items()}, stored, "terms")
    return sweep


#: Classes whose local partials grow with the square of their arguments (a product's
#: partial is the product of the other n - 1 factors).
_QUADRATIC = (sympy.Mul, sympy.Max, sympy.Min, sympy.MatMul, sympy.HadamardProduct)


def _cost(step: Step) -> int:
    """A step's share of a sweep's work: one a parent, squared for a product or a max
    (300 factors, cost 90,000, take about 4 s)."""
    n = len(step.parents)
    return 1 + (n * n if isinstance(step.expr, _QUADRATIC) else n)


def _node(g: Graph):
    def node(name: str, path: str) -> Symbol:
        try:
            return g.symbol(name)
        except ValueError:
            raise JSONFormatError(f"{path}: {name!r} is not a node of the graph") from None

    return node


def _same(recomputed: Mapping, stored: Mapping, key: str) -> None:
    """Refuse a document whose stored sweep is not the one its graph and seed give."""
    missing = [str(n) for n in recomputed if n not in stored]
    if missing or len(stored) != len(recomputed):
        raise JSONFormatError(f"{key}: must cover every node of the graph exactly once")
    for n, (value, path) in stored.items():
        if value != recomputed[n]:
            raise JSONFormatError(
                f"{path}: the stored {key} of {n} is {value}, but the graph and the seed "
                f"give {recomputed[n]}; symgraph does not take a sweep as given"
            )


def from_json(text: str | bytes, functions: Functions | None = None) -> Graph | Forward | Reverse:
    """Read :func:`to_json`'s output back: an equal Graph, Forward or Reverse.

    Nothing in the text is evaluated: expressions are rebuilt from the whitelist of
    :mod:`symgraph.safety` (pass your own ``sympy.Function`` subclasses as
    ``functions={"name": cls}``); names must be identifiers the parser accepts, symbols
    real, and the document's size is bounded (``MAX_NODES`` graph nodes, and the limits
    of :func:`~symgraph.export.trees.decode`). Nothing the document says is trusted: a
    sweep is recomputed from the graph and the seed, and a document whose stored
    tangents, adjoints or terms differ from the recomputed ones is refused. The numbers
    of an ``"evaluation"`` are not read back; ``.evaluate(at)`` remakes them.

    Raises
    ------
    JSONFormatError
        For text that is not JSON, another format or version, an inconsistent graph, or
        anything outside the whitelist; the message names the node by its path in the
        document (``graph.nodes[3].expr[2]``).

    Examples
    --------
    >>> from_json('{"format": "symgraph/9"}')
    Traceback (most recent call last):
    symgraph.export.trees.JSONFormatError: unknown format 'symgraph/9': symgraph reads 'symgraph/1'
    """
    if not isinstance(text, str | bytes | bytearray):
        raise JSONFormatError(f"from_json reads text, not {type(text).__name__}")
    if len(text) > MAX_CHARS:
        raise JSONFormatError(f"a document of more than {MAX_CHARS} characters")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise JSONFormatError(f"not JSON: {exc}") from None
    data = need(data, dict, "a symgraph document")
    if data.get("format") != FORMAT:
        raise JSONFormatError(f"unknown format {data.get('format')!r}: symgraph reads {FORMAT!r}")
    kind = data.get("kind")
    if kind not in _KINDS:
        raise JSONFormatError(f"kind must be one of {', '.join(_KINDS)}, not {kind!r}")
    ctx = _Reader(functions)
    try:
        g = read_graph(data.get("graph"), ctx)
        return g if kind == "graph" else read_sweep(g, data, Mode(kind), ctx)
    except RecursionError:
        raise JSONFormatError("expressions nested too deeply") from None
