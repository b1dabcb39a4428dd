"""Forward mode: tangents ``ṫ_k = Σ_p ∂t_k/∂p · ṗ``, one sweep per input direction.

>>> from symgraph import graph
>>> fw = graph("(x + y)*(y + 1)").forward("y")
>>> for name, expr in fw.steps:
...     print(name, "=", expr)
xdot = 0
ydot = 1
tdot_1 = 1
tdot_2 = 1
fdot = t1 + t2
>>> fw.derivative["f"]
x + 2*y + 1
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from sympy import Basic, Expr, S, Symbol, sympify

from . import naming
from .evaluate import evaluate_forward
from .graph import Graph, GraphError
from .rules import total
from .simplify import resolve, tidy


@dataclass(frozen=True, eq=False)
class Forward:
    """The tangent of every node for one seed direction, in board form.

    ``tangents[t]`` is the right-hand side of ``ṫ = Σ ∂t/∂p · ṗ`` written with the
    step names and the parents' tangent symbols (numbers folded in); ``terms[t]``
    lists its ``(parent, ∂t/∂p)`` pairs.
    """

    graph: Graph
    seed: Mapping[Symbol, Expr]
    tangents: Mapping[Symbol, Expr]
    terms: Mapping[Symbol, tuple[tuple[Symbol, Expr], ...]]
    directions: Mapping[Symbol, object] = field(default_factory=dict)

    @property
    def steps(self) -> list[tuple[Symbol, Expr]]:
        """The tangent program ``[(tdot_k, expr), ...]`` in evaluation order."""
        return [(naming.dot(n), self.tangents[n]) for n in self.graph.order]

    def in_steps(self, node) -> Expr:
        """The tangent of ``node`` in step names only (tangent symbols substituted)."""
        return self._resolved[self.graph.symbol(node)]

    @cached_property
    def _resolved(self) -> dict[Symbol, Expr]:
        dots = {naming.dot(n): n for n in self.graph.order}
        return naming.NameDict(resolve(self.tangents, dots))

    def closed_form(self, node) -> Expr:
        """The tangent of ``node`` in the inputs, tidied cheaply.

        Raises :class:`~symgraph.graph.ClosedFormTooLarge` beyond the size budget.
        """
        node = self.graph.symbol(node)
        return tidy(
            self.graph.in_inputs(self.in_steps(node), f"the closed form of {naming.dot(node)}")
        )

    @cached_property
    def derivative(self) -> dict[Symbol, Expr]:
        """Directional derivative of every output, in closed form (within the budget)."""
        g = self.graph
        g.check_total((self.in_steps(o) for o in g.outputs), "the closed-form derivative")
        return naming.NameDict({o: self.closed_form(o) for o in g.outputs})

    def as_program(self) -> list[tuple[Symbol, Expr]]:
        """Straight-line program computing the values, then the tangents."""
        return [(s.name, s.expr) for s in self.graph.steps] + self.steps

    def evaluate(self, at: Mapping, kink: str = "split", kink_tol: float = 0.0):
        """Numbers at a point; see :func:`symgraph.evaluate.evaluate_forward` (``kink_tol``: how
        close counts as a tie; 0, the default, means exactly equal)."""
        return evaluate_forward(self, at, kink, kink_tol)


def _seed(g: Graph, wrt) -> tuple[dict[Symbol, Expr], dict]:
    """Seed tangents of the inputs, and numeric directions given for matrix inputs."""
    given = dict(wrt.items()) if isinstance(wrt, Mapping) else {wrt: S.One}
    given = {g.symbol(k): v for k, v in given.items()}
    not_inputs = [str(k) for k in given if k not in g.inputs]
    if not_inputs:
        raise GraphError(f"forward mode is seeded at inputs, not at {', '.join(not_inputs)}")
    seed, directions = {}, {}
    for x in g.inputs:
        v = given.get(x, S.Zero)
        if getattr(x, "shape", None) is None:
            seed[x] = sympify(float(v) if isinstance(v, np.ndarray) else v)
        elif isinstance(v, Basic) and v == 0:
            seed[x] = S.Zero
        else:  # a matrix direction: named Ẋ, its numbers (if given) kept for evaluation
            seed[x] = naming.dot(x)
            if not isinstance(v, Basic):
                directions[x] = v
    return seed, directions


def forward(g: Graph, wrt) -> Forward:
    """Propagate tangents from an input (``"x"``) or a direction (``{"x": 1, "y": 2}``)."""
    seed, directions = _seed(g, wrt)
    tangents: dict[Symbol, Expr] = dict(seed)
    terms: dict[Symbol, tuple] = {x: () for x in g.inputs}
    dots = {naming.dot(n) for n in g.order}

    def dot(p: Symbol) -> Expr:  # a number or another tangent is folded in, else named ṗ
        return tangents[p] if tangents[p].is_Number or tangents[p] in dots else naming.dot(p)

    def contribution(s: Symbol, p: Symbol) -> Expr:  # ∂s/∂p ṗ, or its matrix push
        if (s, p) in g.partials:
            return g.partials[(s, p)] * dot(p)
        return g.pushforwards[(s, p)].xreplace({naming.dot(p): dot(p)})

    for s in g.steps:
        live = [p for p in s.parents if tangents[p] != 0]
        edges = [(s.name, p) for p in live]
        terms[s.name] = tuple(
            (p, g.partials.get(e, g.pushforwards.get(e))) for p, e in zip(live, edges, strict=True)
        )
        tangents[s.name] = total(contribution(s.name, p) for p in live)
    return Forward(g, seed, naming.NameDict(tangents), terms, directions)


# g.forward(wrt): the stage attaches its own method, so graph.py imports no stage
Graph.forward = forward
