"""The derivative along each edge of a graph: one linear map, pushed or pulled.

An edge ``child ← parent`` carries the linear map ``ṗ ↦ ċ`` of the child's step: its
**push** is the tangent contribution to the child, written with the parent's ``ṗ``; its
**pull** is the adjoint contribution to the parent, written with the child's ``c̄``. A
scalar edge is the special case of a 1×1 map: multiplication by the local partial
``∂child/∂parent`` (``push = partial·ṗ``, ``pull = c̄·partial``). The graph's edges are
computed once, with the graph's rule table, and attached as ``g.edges`` (every edge) and
``g.partials`` (the scalar edges' partials).

>>> from symgraph import graph
>>> g = graph("sin(x)*y")
>>> edge = g.edges[(g.symbol("f"), g.symbol("t1"))]
>>> edge.partial, edge.push, edge.pull
(y, tdot_1*y, fbar*y)
>>> g.partials[(g.symbol("t1"), g.symbol("x"))]
cos(x)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import nullcontext
from types import MappingProxyType
from typing import NamedTuple

import sympy
from sympy import Basic, Expr, Symbol
from sympy.matrices.expressions import MatrixSymbol

from . import naming, ops
from .canonical import product, reciprocal
from .graph import Graph, Step, _is_leaf, attach_cached, is_matrix_edge

Key = tuple[Basic, Basic]


class Edge(NamedTuple):
    """The edge ``child ← parent``: the child step's linear map in the parent's direction.

    ``partial`` is ``∂child/∂parent`` for a scalar edge (None for a matrix edge, where the
    child or the parent is a matrix); ``push`` and ``pull`` are the map in each mode,
    written with ``ṗ`` and ``c̄`` (for a scalar edge, made from the partial when asked).

    Examples
    --------
    >>> from sympy import Symbol
    >>> a, b = Symbol("a"), Symbol("b")
    >>> e = Edge(b, a, partial=2 * a)
    >>> e.push, e.pull, e.pushed(3), e.pulled(Symbol("w"))
    (2*a*adot, 2*a*bbar, 6*a, 2*a*w)
    """

    child: Basic
    parent: Basic
    partial: Expr | None = None
    #: A matrix edge's maps (None for a scalar edge, whose maps are its partial's).
    matrix_push: Expr | None = None
    matrix_pull: Expr | None = None

    @property
    def push(self) -> Expr:
        """The tangent contribution to the child, written with the parent's ``ṗ``."""
        if self.partial is None:
            return self.matrix_push
        return self.partial * naming.dot(self.parent)

    @property
    def pull(self) -> Expr:
        """The adjoint contribution to the parent, written with the child's ``c̄``."""
        if self.partial is None:
            return self.matrix_pull
        return naming.bar(self.child) * self.partial

    def pushed(self, tangent: Expr) -> Expr:
        """The push with ``ṗ`` replaced by ``tangent`` (a number, a symbol, an expression)."""
        if self.partial is None:
            return self.matrix_push.xreplace({naming.dot(self.parent): tangent})
        return product(self.partial, tangent)  # the special case, without a substitution

    def pulled(self, adjoint: Expr) -> Expr:
        """The pull with ``c̄`` replaced by ``adjoint``."""
        if self.partial is None:
            return self.matrix_pull.xreplace({naming.bar(self.child): adjoint})
        return product(self.partial, adjoint)


def edges(g: Graph) -> Mapping[Key, Edge]:
    """Every edge of ``g`` by ``(child, parent)``, in step order, with the graph's rules.

    A partial that recomputes a step's expression names that step instead
    (``∂cos(a)/∂a = -t4`` where ``t4 = sin(a)``): the graph's sharing reaches the
    derivatives too, and the gradient program does not compute ``sin(a)`` twice.
    """
    named: dict[Basic, Symbol] = {}
    for s in g.steps:
        if not _is_leaf(s.expr) and not isinstance(s.name, MatrixSymbol):
            named.setdefault(s.expr, s.name)
    found: dict[Key, Edge] = {}
    rules = nullcontext() if g.rule_table is None else ops.using(g.rule_table)
    with rules:
        for s in g.steps:
            scalar = {p: _quotient(s, p, _named(d, named)) for p, d in _scalar_partials(s)}
            for p in s.parents:  # in the step's order, its scalar and matrix edges mixed
                d = scalar.get(p)
                found[s.name, p] = _matrix_edge(s, p) if d is None else Edge(s.name, p, d)
    return MappingProxyType(found)


def _named(d: Expr, named: Mapping[Basic, Symbol]) -> Expr:
    """``d`` with the steps' expressions in it named (an atom is never a step's)."""
    return d if d.is_Atom else d.xreplace(named)


def _quotient(s: Step, p: Basic, d: Expr) -> Expr:
    """``∂(a/b)/∂b = -t/b`` for a step ``t = a/b``, reusing the step's own value as
    ``∂(1/b)/∂b = -t²`` does: one division where ``-a/b²`` costs a power and a division
    (the MLP's ``v/(1 + exp(-h))``; CasADi's reverse mode does the same). It is the
    partial ``d`` itself whenever ``b`` is in the step only as its ``1/b`` factor."""
    e = s.expr
    if not e.is_Mul:
        return d
    over = [a for a in e.args if a.is_Pow and a.exp == -1 and a.base == p]
    if len(over) != 1 or any(p in a.free_symbols for a in e.args if a is not over[0]):
        return d
    return product(-1, s.name, reciprocal(p))


def _matrix_edge(s: Step, p: Basic) -> Edge:
    """A matrix edge's push and pull, the step's own expression named by the step."""
    name = {s.expr: s.name}
    push = ops.pushforward(s.expr, {p: naming.dot(p)}).xreplace(name)
    pull = ops.pullback(s.expr, p, naming.bar(s.name)).xreplace(name)
    return Edge(s.name, p, matrix_push=push, matrix_pull=pull)


def partials(g: Graph) -> Mapping[Key, Expr]:
    """Local partial ``∂child/∂parent`` of every scalar edge, in step names."""
    return {k: e.partial for k, e in g.edges.items() if e.partial is not None}


def _scalar_partials(s: Step) -> Iterator[tuple[Basic, Expr]]:
    """``(p, ∂s/∂p)`` for each scalar parent ``p`` of the step.

    A sum is linear, so only its terms holding ``p`` are differentiated; they are found in
    one pass, and a sum of n terms costs O(n) rather than O(n) for each of its n parents.
    """
    parents = [p for p in s.parents if not is_matrix_edge(s, p)]
    if s.expr.is_Add and len(s.expr.args) > 2:
        holding: dict[Basic, list[Basic]] = {p: [] for p in parents}
        for a in s.expr.args:
            for p in a.free_symbols & holding.keys():
                holding[p].append(a)
        parts = {p: t[0] if len(t) == 1 else sympy.Add(*t) for p, t in holding.items()}
    else:
        parts = dict.fromkeys(parents, s.expr)
    for p in parents:
        yield p, ops.local_partial(parts[p], p)


# g.edges, g.partials: attached here, computed once per graph, so graph.py imports no rules
attach_cached("edges", edges)
attach_cached("partials", partials)
