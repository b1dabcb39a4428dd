"""The computation graph: a hash-consed Wengert list of steps ``t1 ... tn``.

Each distinct subexpression becomes one step, numbered in topological order; a
shared subexpression is one step with several children. Numeric coefficients,
negation and division fold into the step that uses them, so steps read like the
lines a person writes (``t5 = t4 - t3``, ``t2 = exp(2*u2)``).

>>> from symgraph import graph
>>> g = graph("(x + y)*(y + 1)")
>>> print(g)
t1 = x + y
t2 = y + 1
f = t1*t2
>>> g.inputs, g.outputs
((x, y), (f,))
>>> g.expand("f")
(x + y)*(y + 1)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

import networkx as nx
from sympy import Basic, Expr, Lambda, Symbol
from sympy.matrices.expressions import (
    Identity,
    MatrixSymbol,
    OneMatrix,
    ZeroMatrix,
)

from . import naming
from .errors import SymgraphError


class GraphError(SymgraphError):
    """A request that does not fit the graph (an unknown node name, a bad seed)."""


@dataclass(frozen=True)
class Step:
    """One line of the Wengert list: ``name = expr``, where ``expr`` uses ``parents``."""

    name: Symbol
    expr: Expr
    parents: tuple[Symbol, ...]

    @property
    def op(self) -> str:
        """The operation's name: ``Add``, ``Mul``, ``exp``, ``sigmoid``, ``Max``, ..."""
        return "identity" if _is_leaf(self.expr) else type(self.expr).__name__

    @property
    def shape(self) -> tuple[int, int] | None:
        """``(m, n)`` for a matrix step, None for a scalar."""
        return getattr(self.name, "shape", None)

    def __str__(self) -> str:
        return f"{self.name} = {self.expr}"


@dataclass(frozen=True, eq=False)
class Graph:
    """A computation graph: ``inputs``, ``steps`` (in topological order), ``outputs``."""

    inputs: tuple[Symbol, ...]
    steps: tuple[Step, ...]
    outputs: tuple[Symbol, ...]
    #: The rule table the graph's partials are computed with: the builders pass the one
    #: in force when the graph is built (``ops.snapshot()``), so later registrations never
    #: change this graph's partials (its Hessian stays symmetric). None: the table in
    #: force when they are computed.
    rule_table: Mapping | None = field(default=None, repr=False)

    def __str__(self) -> str:
        return "\n".join(map(str, self.steps))

    @cached_property
    def step(self) -> dict[Symbol, Step]:
        """Step by its name (a symbol, or its name as a string)."""
        return naming.NameDict({s.name: s for s in self.steps})

    @cached_property
    def order(self) -> dict[Symbol, int]:
        """Position of every node: inputs first, then steps."""
        nodes = (*self.inputs, *(s.name for s in self.steps))
        return {n: i for i, n in enumerate(nodes)}

    @cached_property
    def children(self) -> dict[Symbol, tuple[Symbol, ...]]:
        """The steps that use each node, in order."""
        kids: dict[Symbol, list[Symbol]] = {n: [] for n in self.order}
        for s in self.steps:
            for p in s.parents:
                kids[p].append(s.name)
        return naming.NameDict({n: tuple(k) for n, k in kids.items()})

    def symbol(self, key: str | Basic) -> Symbol:
        """The node called ``key`` (a name or a symbol); a clear error if there is none."""
        names = self._names
        found = names.get(key if isinstance(key, str) else getattr(key, "name", None))
        if found is None:
            known = ", ".join(names)
            raise GraphError(f"no node named {key!r} in this graph; its nodes are {known}")
        return found

    @cached_property
    def _names(self) -> dict[str, Symbol]:
        return {n.name: n for n in self.order}

    @cached_property
    def nx(self) -> nx.DiGraph:
        """A ``networkx.DiGraph`` view; nodes carry expr, op and kind, edges the partial."""
        view = nx.DiGraph()
        for x in self.inputs:
            view.add_node(x, expr=x, op="input", kind="input")
        for s in self.steps:
            kind = "output" if s.name in self.outputs else "step"
            view.add_node(s.name, expr=s.expr, op=s.op, kind=kind)
            for p in s.parents:
                edge = self.edges[(s.name, p)]
                if edge.partial is not None:
                    view.add_edge(p, s.name, partial=edge.partial)
                else:
                    view.add_edge(p, s.name, pullback=edge.pull)
        return view

    def ancestors(self, node: Symbol) -> set[Symbol]:
        """``node`` and every node it depends on."""
        seen, stack = {node}, [node]
        while stack:
            s = self.step.get(stack.pop())
            for p in s.parents if s else ():
                if p not in seen:
                    seen.add(p)
                    stack.append(p)
        return seen

    # The stages attach their own methods, so this module imports none of them:
    # g.edges and g.partials (edges.py, the differentiation of each edge), g.sizes,
    # g.expand, g.in_inputs and g.check_total (closed.py), g.forward, g.reverse
    # (sweep.py), g.gradient, g.jacobian, g.hessian (derivatives.py), g.evaluate
    # (evaluate.py); the Jupyter displays come from export/jupyter.py. ``import
    # symgraph`` imports them all.


# ---------------------------------------------------------------- helpers


def attach_cached(name: str, compute: Callable[[Graph], object]) -> None:
    """Give :class:`Graph` the cached property ``g.<name>`` = ``compute(g)``: how a stage
    adds what it derives from a graph (computed once per graph) without graph.py
    importing it."""
    prop = cached_property(compute)
    prop.__set_name__(Graph, name)
    setattr(Graph, name, prop)


def is_matrix_edge(step: Step, parent: Basic) -> bool:
    """An edge where the child or the parent is a matrix (it carries a linear map)."""
    return isinstance(step.name, MatrixSymbol) or isinstance(parent, MatrixSymbol)


def _is_leaf(e: Basic) -> bool:
    """Symbols, numbers, matrix symbols and constants, and function bodies (``Lambda``)."""
    return e.is_Atom or isinstance(e, MatrixSymbol | Identity | ZeroMatrix | OneMatrix | Lambda)
