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

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

import networkx as nx
import sympy
from sympy import Basic, Expr, Lambda, Symbol
from sympy.matrices.expressions import (
    Identity,
    MatrixSymbol,
    OneMatrix,
    ZeroMatrix,
)

from . import naming, ops
from .errors import SymgraphError
from .ops import local_partial, pullback, pushforward
from .parse.domain import replaced
from .simplify import CLOSED_FORM_MAX_NODES, CLOSED_FORMS_MAX_TOTAL, tree_size


class GraphError(SymgraphError):
    """A request that does not fit the graph (an unknown node name, a bad seed)."""


class ClosedFormTooLarge(GraphError):
    """A closed form in the inputs would exceed :data:`~symgraph.simplify.CLOSED_FORM_MAX_NODES`."""


def too_large(what: str, limit: int = CLOSED_FORM_MAX_NODES) -> ClosedFormTooLarge:
    """The error for a closed form beyond the budget, pointing to the step form."""
    return ClosedFormTooLarge(
        f"{what} would have more than {limit} nodes written out in the "
        "inputs (the expansion repeats shared subexpressions); use the step form instead: "
        "g.steps, rv.adjoints or rv.as_program() (fw.tangents for forward mode), and "
        "rv.evaluate(at) for numbers"
    )


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

    def __post_init__(self) -> None:
        # the rule table in force when the graph is built: later registrations never
        # change this graph's partials (its Hessian stays symmetric)
        object.__setattr__(self, "rule_table", ops.snapshot())

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

    @cached_property
    def partials(self) -> dict[tuple[Symbol, Symbol], Expr]:
        """Local partial ``∂child/∂parent`` of every scalar edge, in step names.

        A partial that recomputes a step's expression names that step instead
        (``∂cos(a)/∂a = -t4`` where ``t4 = sin(a)``): the graph's sharing reaches the
        derivatives too, and the gradient program does not compute ``sin(a)`` twice.
        """
        named: dict[Basic, Symbol] = {}
        for s in self.steps:
            if not _is_leaf(s.expr) and not isinstance(s.name, MatrixSymbol):
                named.setdefault(s.expr, s.name)
        with ops.using(self.rule_table):
            return {edge: d.xreplace(named) for s in self.steps for edge, d in _scalar_partials(s)}

    @cached_property
    def pullbacks(self) -> dict[tuple[Symbol, Symbol], Expr]:
        """Adjoint contribution of every matrix edge, written with the child's ``tbar``."""
        with ops.using(self.rule_table):
            return self._matrix_edges(lambda s, p: pullback(s.expr, p, naming.bar(s.name)))

    @cached_property
    def pushforwards(self) -> dict[tuple[Symbol, Symbol], Expr]:
        """Tangent contribution of every matrix edge, written with the parent's ``tdot``."""
        with ops.using(self.rule_table):
            return self._matrix_edges(lambda s, p: pushforward(s.expr, {p: naming.dot(p)}))

    def _matrix_edges(self, linear) -> dict[tuple[Symbol, Symbol], Expr]:
        return {
            (s.name, p): linear(s, p).xreplace({s.expr: s.name})
            for s in self.steps
            for p in s.parents
            if is_matrix_edge(s, p)
        }

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
                edge = (s.name, p)
                if edge in self.partials:
                    view.add_edge(p, s.name, partial=self.partials[edge])
                else:
                    view.add_edge(p, s.name, pullback=self.pullbacks[edge])
        return view

    @cached_property
    def sizes(self) -> dict[Symbol, int]:
        """Tree size of every node's expansion in the inputs (capped, see ``tree_size``).

        Found from the steps alone, in one pass: an expansion that doubles at every line is
        measured without being built.
        """
        sizes: dict[Basic, int] = dict.fromkeys(self.inputs, 1)
        for s in self.steps:
            sizes[s.name] = tree_size(s.expr, weights={p: sizes[p] for p in s.parents})
        return sizes

    def expand(self, node: str | Symbol) -> Expr:
        """The node's expression in terms of the inputs.

        Raises :class:`ClosedFormTooLarge` beyond ``CLOSED_FORM_MAX_NODES`` nodes.
        """
        target = self.symbol(node)
        if self.sizes[target] > CLOSED_FORM_MAX_NODES:
            raise too_large(f"the expression of {target}")
        closed = self._closed
        if target not in closed:
            # only the ancestors not yet expanded, in order: expanding every node one
            # by one stays linear in the graph (a scan of all steps each time was not)
            missing, stack = {target}, [target]
            while stack:
                for p in self.step[stack.pop()].parents:
                    if p not in closed and p not in missing:
                        missing.add(p)
                        stack.append(p)
            for name in sorted(missing, key=self.order.__getitem__):
                s = self.step[name]
                # rebuilt without re-evaluation: xreplace's assumption queries are
                # exponential in a deep expansion (to_latex of sinh(…)**2 8 deep: 47 s)
                closed[name] = replaced(s.expr, {p: closed[p] for p in s.parents})
        return closed[target]

    def in_inputs(self, expr: Basic, what: str = "the expression") -> Basic:
        """``expr``, written in step names, rewritten in the inputs (within the budget)."""
        if tree_size(expr, weights=self.sizes) > CLOSED_FORM_MAX_NODES:
            raise too_large(what)
        return replaced(expr, {s: self.expand(s) for s in expr.free_symbols if s in self.step})

    def check_total(self, exprs: Iterable[Basic], what: str) -> None:
        """Refuse closed forms (in step names) that together exceed
        :data:`~symgraph.simplify.CLOSED_FORMS_MAX_TOTAL` nodes in the inputs."""
        total = 0
        for e in exprs:
            total += tree_size(e, CLOSED_FORMS_MAX_TOTAL, weights=self.sizes)
            if total > CLOSED_FORMS_MAX_TOTAL:
                raise too_large(what, CLOSED_FORMS_MAX_TOTAL)

    @cached_property
    def _closed(self) -> dict[Basic, Expr]:
        return {x: x for x in self.inputs}

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
    # g.forward, g.reverse (sweep.py), g.gradient, g.jacobian, g.hessian
    # (derivatives.py), g.evaluate (evaluate.py); the Jupyter displays come from
    # export/jupyter.py. ``import symgraph`` imports them all.


# ---------------------------------------------------------------- helpers


def _scalar_partials(s: Step):
    """``((s, p), ∂s/∂p)`` for each scalar parent ``p`` of the step.

    A sum is linear, so only its terms holding ``p`` are differentiated; they are found in
    one pass, and a sum of n terms costs O(n) rather than O(n) for each of its n parents.
    """
    parents = [p for p in s.parents if not is_matrix_edge(s, p)]
    if s.expr.is_Add and len(s.expr.args) > 2:
        holding: dict[Basic, list[Basic]] = {p: [] for p in parents}
        for a in s.expr.args:
            for p in a.free_symbols & holding.keys():
                holding[p].append(a)
        parts = {p: sympy.Add(*terms) for p, terms in holding.items()}
    else:
        parts = dict.fromkeys(parents, s.expr)
    for p in parents:
        yield (s.name, p), local_partial(parts[p], p)


def is_matrix_edge(step: Step, parent: Basic) -> bool:
    """An edge where the child or the parent is a matrix (it carries a linear map)."""
    return isinstance(step.name, MatrixSymbol) or isinstance(parent, MatrixSymbol)


def _is_leaf(e: Basic) -> bool:
    """Symbols, numbers, matrix symbols and constants, and function bodies (``Lambda``)."""
    return e.is_Atom or isinstance(e, MatrixSymbol | Identity | ZeroMatrix | OneMatrix | Lambda)
