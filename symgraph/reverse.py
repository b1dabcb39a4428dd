"""Reverse mode: adjoints ``ā = Σ_children t̄_k · ∂t_k/∂a``, one sweep per output.

Values first, then derivatives flow back from the output; each node gets one
adjoint step, summed over all the nodes that use it.

>>> from symgraph import graph
>>> rv = graph("(x + y)*(y + 1)").reverse()
>>> for name, expr in rv.steps:
...     print(name, "=", expr)
fbar = 1
tbar_2 = t1
tbar_1 = t2
ybar = tbar_1 + tbar_2
xbar = tbar_1
>>> rv.gradient
{x: y + 1, y: x + 2*y + 1}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from sympy import Expr, S, Symbol, sympify

from . import naming
from .evaluate import evaluate_reverse
from .graph import Graph, GraphError
from .rules import total
from .simplify import resolve, tidy


@dataclass(frozen=True, eq=False)
class Reverse:
    """The adjoint of every node for one output seed, in board form.

    ``adjoints[a]`` is the right-hand side of ``ā = Σ t̄_k · ∂t_k/∂a`` written with
    the step names and the children's adjoint symbols (numbers folded in), e.g.
    ``ū2 = t̄3 · 2 t2``; ``terms[a]`` lists its ``(child, ∂child/∂a)`` pairs.
    """

    graph: Graph
    seed: Mapping[Symbol, Expr]
    adjoints: Mapping[Symbol, Expr]
    terms: Mapping[Symbol, tuple[tuple[Symbol, Expr], ...]]

    @property
    def steps(self) -> list[tuple[Symbol, Expr]]:
        """The adjoint program ``[(tbar_k, expr), ...]`` from the outputs back to the inputs."""
        return [(naming.bar(n), e) for n, e in self.adjoints.items() if self._needed(n)]

    def _needed(self, node: Symbol) -> bool:
        return self.adjoints[node] != 0 or node in self.graph.inputs

    def in_steps(self, node) -> Expr:
        """The adjoint of ``node`` in step names only (adjoint symbols substituted)."""
        return self._resolved[self.graph.symbol(node)]

    @cached_property
    def _resolved(self) -> dict[Symbol, Expr]:
        bars = {naming.bar(n): n for n in self.graph.order}
        return naming.NameDict(resolve(self.adjoints, bars))

    def closed_form(self, node) -> Expr:
        """The adjoint of ``node`` in the inputs, tidied cheaply.

        Raises :class:`~symgraph.graph.ClosedFormTooLarge` beyond the size budget.
        """
        node = self.graph.symbol(node)
        return tidy(
            self.graph.in_inputs(self.in_steps(node), f"the closed form of {naming.bar(node)}")
        )

    @cached_property
    def gradient(self) -> dict[Symbol, Expr]:
        """``∂(seeded output)/∂x`` for every input, in closed form (within the budget)."""
        g = self.graph
        g.check_total((self.in_steps(x) for x in g.inputs), "the closed-form gradient")
        return naming.NameDict({x: self.closed_form(x) for x in g.inputs})

    def as_program(self) -> list[tuple[Symbol, Expr]]:
        """Straight-line program computing the values, then the adjoints."""
        return [(s.name, s.expr) for s in self.graph.steps] + self.steps

    def evaluate(self, at: Mapping, kink: str = "split", kink_tol: float = 0.0):
        """Numbers at a point; see :func:`symgraph.evaluate.evaluate_reverse` (``kink_tol``: how
        close counts as a tie; 0, the default, means exactly equal)."""
        return evaluate_reverse(self, at, kink, kink_tol)


def _seed(g: Graph, seed) -> dict[Symbol, Expr]:
    if seed is None:
        if len(g.outputs) != 1:
            names = ", ".join(map(str, g.outputs))
            raise GraphError(
                f"this function has {len(g.outputs)} outputs ({names}): name one, "
                'reverse("f1"), or give weights, reverse({"f1": 1, "f2": 0.5})'
            )
        seed = g.outputs[0]
    weights = seed if isinstance(seed, Mapping) else {seed: S.One}
    out = {g.symbol(k): sympify(v) for k, v in weights.items()}
    stray = [str(k) for k in out if k not in g.outputs]
    if stray:
        raise GraphError(f"reverse mode is seeded at outputs, not at {', '.join(stray)}")
    return out


def reverse(g: Graph, seed=None) -> Reverse:
    """Propagate adjoints back from an output (or a weighting of the outputs: a VJP)."""
    seeds = _seed(g, seed)
    adjoints: dict[Symbol, Expr] = {}
    terms: dict[Symbol, tuple] = {}
    bars = {naming.bar(n) for n in g.order}

    def bar(c: Symbol) -> Expr:  # a number or another adjoint is folded in, else named c̄
        return adjoints[c] if adjoints[c].is_Number or adjoints[c] in bars else naming.bar(c)

    def contribution(c: Symbol, node: Symbol) -> Expr:  # t̄_c ∂c/∂node, or its matrix pull
        if (c, node) in g.partials:
            return bar(c) * g.partials[(c, node)]
        return g.pullbacks[(c, node)].xreplace({naming.bar(c): bar(c)})

    for node in reversed(g.order):
        live = [c for c in g.children[node] if adjoints[c] != 0]
        terms[node] = tuple(
            (c, g.partials.get((c, node), g.pullbacks.get((c, node)))) for c in live
        )
        adjoints[node] = total([seeds.get(node, S.Zero), *(contribution(c, node) for c in live)])
    return Reverse(g, seeds, naming.NameDict(adjoints), terms)


# g.reverse(seed): the stage attaches its own method, so graph.py imports no stage
Graph.reverse = reverse
