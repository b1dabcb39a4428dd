"""Closed forms: a node, or an expression in step names, written out in the inputs.

Writing a graph out in its inputs repeats every shared subexpression, so an expansion
can double at every line. Its size is measured from the steps alone, without building
it (``g.sizes``), and a closed form beyond the budget of :mod:`symgraph.simplify` is
refused with :class:`ClosedFormTooLarge`, which points to the step form instead. The
functions here are attached to :class:`~symgraph.graph.Graph` as ``g.sizes``,
``g.expand(node)``, ``g.in_inputs(expr)`` and ``g.check_total(exprs, what)``.

>>> from symgraph import graph
>>> g = graph("exp(x)*exp(x)*y")
>>> g.expand("f"), g.sizes[g.symbol("f")]
(y*exp(2*x), 6)
"""

from __future__ import annotations

from collections.abc import Iterable

from sympy import Basic, Expr, Symbol

from .graph import Graph, GraphError, attach_cached
from .parse.domain import replaced
from .simplify import CLOSED_FORM_MAX_NODES, CLOSED_FORMS_MAX_TOTAL, tree_size


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


def sizes(g: Graph) -> dict[Basic, int]:
    """Tree size of every node's expansion in the inputs (capped, see ``tree_size``).

    Found from the steps alone, in one pass: an expansion that doubles at every line is
    measured without being built.
    """
    found: dict[Basic, int] = dict.fromkeys(g.inputs, 1)
    for s in g.steps:
        found[s.name] = tree_size(s.expr, weights={p: found[p] for p in s.parents})
    return found


def expand(g: Graph, node: str | Symbol) -> Expr:
    """The node's expression in terms of the inputs.

    Raises :class:`ClosedFormTooLarge` beyond ``CLOSED_FORM_MAX_NODES`` nodes.
    """
    target = g.symbol(node)
    if g.sizes[target] > CLOSED_FORM_MAX_NODES:
        raise too_large(f"the expression of {target}")
    closed = g._closed
    if target not in closed:
        # only the ancestors not yet expanded, in order: expanding every node one
        # by one stays linear in the graph (a scan of all steps each time was not)
        missing, stack = {target}, [target]
        while stack:
            for p in g.step[stack.pop()].parents:
                if p not in closed and p not in missing:
                    missing.add(p)
                    stack.append(p)
        for name in sorted(missing, key=g.order.__getitem__):
            s = g.step[name]
            # rebuilt without re-evaluation: xreplace's assumption queries are
            # exponential in a deep expansion (to_latex of sinh(…)**2 8 deep: 47 s)
            closed[name] = replaced(s.expr, {p: closed[p] for p in s.parents})
    return closed[target]


def in_inputs(g: Graph, expr: Basic, what: str = "the expression") -> Basic:
    """``expr``, written in step names, rewritten in the inputs (within the budget)."""
    if tree_size(expr, weights=g.sizes) > CLOSED_FORM_MAX_NODES:
        raise too_large(what)
    return replaced(expr, {s: g.expand(s) for s in expr.free_symbols if s in g.step})


def check_total(g: Graph, exprs: Iterable[Basic], what: str) -> None:
    """Refuse closed forms (in step names) that together exceed
    :data:`~symgraph.simplify.CLOSED_FORMS_MAX_TOTAL` nodes in the inputs."""
    total = 0
    for e in exprs:
        total += tree_size(e, CLOSED_FORMS_MAX_TOTAL, weights=g.sizes)
        if total > CLOSED_FORMS_MAX_TOTAL:
            raise too_large(what, CLOSED_FORMS_MAX_TOTAL)


def _expanded(g: Graph) -> dict[Basic, Expr]:
    """The closed forms found so far, by node (the inputs are their own)."""
    return {x: x for x in g.inputs}


# g.sizes, g.expand(node), g.in_inputs(expr), g.check_total(exprs, what): attached here,
# as the stages attach theirs, so graph.py imports no simplification
attach_cached("sizes", sizes)
attach_cached("_closed", _expanded)
Graph.expand = expand
Graph.in_inputs = in_inputs
Graph.check_total = check_total
