"""Forward and reverse mode: one sweep along the graph, its direction as data.

Forward mode carries tangents ``ṫ_k = Σ_p ∂t_k/∂p · ṗ`` from the inputs to the
outputs, one sweep per input direction; reverse mode carries adjoints
``ā = Σ_children t̄_k · ∂t_k/∂a`` from an output back to the inputs, each node's
adjoint summed over the nodes that use it. The two walks are the same walk over
the graph and its transpose: a :class:`Mode` says which way, and how its results
are named (``.tangents``/``.derivative`` or ``.adjoints``/``.gradient``).

>>> from symgraph import graph
>>> g = graph("(x + y)*(y + 1)")
>>> for name, expr in g.forward("y").steps:
...     print(name, "=", expr)
xdot = 0
ydot = 1
tdot_1 = 1
tdot_2 = 1
fdot = t1 + t2
>>> for name, expr in g.reverse().steps:
...     print(name, "=", expr)
fbar = 1
tbar_2 = t1
tbar_1 = t2
ybar = tbar_1 + tbar_2
xbar = tbar_1
>>> g.forward("y").derivative["f"], g.reverse().gradient
(x + 2*y + 1, {x: y + 1, y: x + 2*y + 1})
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from operator import attrgetter
from typing import ClassVar

from sympy import Basic, Expr, S, Symbol, sympify
from sympy.matrices.expressions import MatrixExpr, Trace

from . import closed, naming  # noqa: F401  (closed attaches g.expand, g.in_inputs, ...)
from .edges import Edge
from .graph import Graph, GraphError, attach_cached
from .lazynp import np
from .printing import written
from .program import lean_program
from .rules import total
from .simplify import resolve, tidy


def _parents(g: Graph) -> dict[Symbol, tuple[Symbol, ...]]:
    return {**dict.fromkeys(g.inputs, ()), **{s.name: s.parents for s in g.steps}}


class Mode(Enum):
    """Which way a sweep runs, and what its quantities are called.

    ``Mode("forward")``/``Mode("reverse")`` turns the public ``mode=`` strings into a
    mode (:meth:`named` with a readable error); each member carries the data below.

    Examples
    --------
    >>> Mode("reverse").accent(Symbol("u1")), Mode.FORWARD.carried, Mode.REVERSE.results
    (ubar_1, 'tangents', 'gradient')
    """

    #: ``"forward"`` or ``"reverse"``: the enum's value, as in the public ``mode=``.
    word: str
    #: The symbol of a node's tangent ``ṫ`` (:func:`~symgraph.naming.dot`) or adjoint
    #: ``t̄`` (:func:`~symgraph.naming.bar`).
    accent: Callable[[Basic], Basic]
    #: ``accents(g)``: every node's accented symbol, made once per graph.
    accents: Callable[[Graph], Mapping[Basic, Basic]]
    #: The public names of the carried table and of the results: ``"tangents"`` and
    #: ``"derivative"``, or ``"adjoints"`` and ``"gradient"``.
    carried: str
    results: str
    #: The name of the compiled function (:func:`symgraph.compile`).
    function: str
    #: ``order(g)``: the nodes in sweep order (topological, or its reverse).
    order: Callable[[Graph], tuple]
    #: ``neighbours(g)[node]``: the nodes a node's quantity is made from (its parents,
    #: or its children).
    neighbours: Callable[[Graph], Mapping[Basic, tuple]]
    #: ``edge(node, neighbour)``: the graph's edge key ``(child, parent)`` between them.
    edge: Callable[[Basic, Basic], tuple]
    #: ``linear(edge)``: the edge's map this way (its push or pull), written with the
    #: neighbour's accented symbol; ``along(edge, v)``: that map applied to the
    #: neighbour's quantity ``v`` (a scalar edge multiplies by its partial).
    linear: Callable[[Edge], Expr]
    along: Callable[[Edge, Expr], Expr]
    #: ``starts(g)``: the nodes a sweep is seeded at; ``ends(g)``: those whose quantities
    #: are its results (the inputs and the outputs, or the other way round).
    starts: Callable[[Graph], tuple]
    ends: Callable[[Graph], tuple]
    #: Whether a term is written with the neighbour's accent on the left, as a board
    #: writes it: ``t̄_k · ∂t_k/∂a`` (reverse) or ``∂t_k/∂p · ṗ`` (forward).
    accent_left: bool
    #: Whether the program leaves out the nodes the seed never reaches (a zero adjoint),
    #: keeping the ends'; forward mode lists every tangent, in evaluation order.
    prunes: bool

    FORWARD = (
        "forward",
        {
            "accent": naming.dot,
            "accents": attrgetter("dots"),
            "carried": "tangents",
            "results": "derivative",
            "function": "tangent",
            "order": lambda g: tuple(g.order),
            "neighbours": _parents,
            "edge": lambda node, parent: (node, parent),
            "linear": attrgetter("push"),
            "along": Edge.pushed,
            "starts": attrgetter("inputs"),
            "ends": attrgetter("outputs"),
            "accent_left": False,
            "prunes": False,
        },
    )
    REVERSE = (
        "reverse",
        {
            "accent": naming.bar,
            "accents": attrgetter("bars"),
            "carried": "adjoints",
            "results": "gradient",
            "function": "gradient",
            "order": lambda g: tuple(reversed(g.order)),
            "neighbours": lambda g: dict(g.children),
            "edge": lambda node, child: (child, node),
            "linear": attrgetter("pull"),
            "along": Edge.pulled,
            "starts": attrgetter("outputs"),
            "ends": attrgetter("inputs"),
            "accent_left": True,
            "prunes": True,
        },
    )

    def __new__(cls, word: str, data: dict):
        member = object.__new__(cls)
        member._value_ = word
        return member

    def __init__(self, word: str, data: dict) -> None:
        missing = set(type(self).__annotations__) - {"word", *data}
        if missing:  # a field added to one mode only
            raise TypeError(f"the {word} mode lacks {', '.join(sorted(missing))}")
        self.word = word
        for key, value in data.items():
            setattr(self, key, value)

    @classmethod
    def named(cls, word: str | Mode) -> Mode:
        """The mode called ``word`` (the public ``mode=`` argument), or a GraphError."""
        try:
            return cls(word)
        except ValueError:
            known = " or ".join(repr(m.word) for m in cls)
            raise GraphError(f"mode must be {known}, not {word!r}") from None


class _ModeNames:
    """The generic ``carried`` and ``results`` also by the names the mode gives them:
    ``.tangents``/``.derivative`` (forward) or ``.adjoints``/``.gradient`` (reverse)."""

    mode: Mode

    def __getattr__(self, name: str):
        if name == "mode" or name.startswith("__"):  # not yet built (copy, pickle)
            raise AttributeError(name)
        aliases = {self.mode.carried: "carried", self.mode.results: "results"}
        if name in aliases:
            return getattr(self, aliases[name])
        other = [m for m in Mode if name in (m.carried, m.results)]
        hint = f" (a {self.mode.word} sweep has .{self.mode.carried})" if other else ""
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}{hint}")

    def __dir__(self) -> Iterable[str]:
        return [*super().__dir__(), self.mode.carried, self.mode.results]


@dataclass(frozen=True, eq=False)
class Sweep(_ModeNames):
    """The tangent or adjoint of every node for one seed, in board form.

    ``carried[n]`` (also ``.tangents``/``.adjoints``) is the right-hand side of
    ``ṫ = Σ ∂t/∂p · ṗ`` or ``ā = Σ t̄_k · ∂t_k/∂a``, written with the step names and
    the neighbours' accented symbols (numbers folded in); ``terms[n]`` lists its
    ``(neighbour, ∂child/∂parent)`` pairs (a matrix edge's push or pull instead).
    ``directions`` holds the numbers given for matrix seeds: input directions (forward)
    or output weights (reverse, a vector-Jacobian product).
    """

    mode: ClassVar[Mode]
    graph: Graph
    seed: Mapping[Symbol, Expr]
    carried: Mapping[Symbol, Expr]
    terms: Mapping[Symbol, tuple[tuple[Symbol, Expr], ...]]
    directions: Mapping[Symbol, object] = field(default_factory=dict)

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def lines(self) -> list[str]:
        """The sweep as a board writes it, one line a step: the sum over the neighbours
        term by term (their accented names and the local partials), then the board form.

        >>> from symgraph import graph
        >>> for line in graph("exp(sin(x) + 1)").forward("x").lines()[1:]:
        ...     print(line)
        tdot_1 = cos(x)*xdot = cos(x)
        tdot_2 = tdot_1
        fdot = f*tdot_2 = f*tdot_1
        """
        accents = self.mode.accents(self.graph)
        nodes = {accents[n]: n for n in self.carried}
        return [f"{n} = {' = '.join(written(self, nodes[n]))}" for n, _ in self.steps]

    @property
    def steps(self) -> list[tuple[Symbol, Expr]]:
        """The derivative program ``[(tdot_k or tbar_k, expr), ...]`` in sweep order."""
        ends, accents = self.mode.ends(self.graph), self.mode.accents(self.graph)
        return [
            (accents[n], e)
            for n, e in self.carried.items()
            if not self.mode.prunes or e != 0 or n in ends
        ]

    def in_steps(self, node) -> Expr:
        """The quantity of ``node`` in step names only (accented symbols substituted)."""
        return self._resolved[self.graph.symbol(node)]

    @cached_property
    def _resolved(self) -> dict[Symbol, Expr]:
        named = {a: n for n, a in self.mode.accents(self.graph).items()}
        return naming.NameDict(resolve(self.carried, named))

    def closed_form(self, node) -> Expr:
        """The quantity of ``node`` in the inputs, tidied cheaply.

        Raises :class:`~symgraph.closed.ClosedFormTooLarge` beyond the size budget.
        """
        node = self.graph.symbol(node)
        what = f"the closed form of {self.mode.accent(node)}"
        return tidy(self.graph.in_inputs(self.in_steps(node), what))

    @cached_property
    def results(self) -> dict[Symbol, Expr]:
        """The closed forms at the result nodes (within the budget): the directional
        derivative of every output, or ``∂(seeded output)/∂x`` for every input."""
        ends = self.mode.ends(self.graph)
        self.graph.check_total(
            (self.in_steps(n) for n in ends), f"the closed-form {self.mode.results}"
        )
        return naming.NameDict({n: self.closed_form(n) for n in ends})

    def as_program(self) -> list[tuple[Symbol, Expr]]:
        """The lean straight-line program: the values, then the tangents or adjoints, with
        aliases, constants and signs folded into their uses and dead lines dropped; each
        output and each result (``fdot``, or ``xbar`` for every input) is a named line.

        >>> from symgraph import graph
        >>> for name, expr in graph("cos(x*y)").reverse().as_program():
        ...     print(name, "=", expr)
        t1 = x*y
        f = cos(t1)
        tbar_1_neg = sin(t1)
        ybar = -tbar_1_neg*x
        xbar = -tbar_1_neg*y
        """
        g = self.graph
        results = [*g.outputs, *map(self.mode.accents(g).get, self.mode.ends(g))]
        program = [(s.name, s.expr) for s in g.steps] + self.steps
        lines, held = lean_program(program, results)
        named = {name for name, _ in lines}
        return lines + [(r, h) for r, h in zip(results, held, strict=True) if r not in named]

    # .evaluate(at, kink, kink_tol): attached by symgraph.evaluation.evaluate, the numbers' stage


class Forward(Sweep):
    """A forward sweep: ``.tangents`` of every node, ``.derivative`` of every output."""

    mode = Mode.FORWARD


class Reverse(Sweep):
    """A reverse sweep: ``.adjoints`` of every node, ``.gradient`` at every input."""

    mode = Mode.REVERSE


# ---------------------------------------------------------------- the walk


def propagate(g: Graph, mode: Mode, seed: Mapping[Symbol, Expr]) -> tuple[dict, dict]:
    """The board form of every node's quantity, and its terms, swept from ``seed``."""
    carried: dict[Symbol, Expr] = {}
    terms: dict[Symbol, tuple] = {}
    accents = mode.accents(g)
    named = set(accents.values())
    edges, edge, along = g.edges, mode.edge, mode.along

    def accented(m: Symbol) -> Expr:  # a number or another quantity is folded in, else named
        v = carried[m]
        return v if v.is_Number or v in named else accents[m]

    around = mode.neighbours(g)  # a plain dict: looked up once per node
    for node in mode.order(g):
        live = [(m, edges[edge(node, m)]) for m in around[node] if carried[m] != 0]
        terms[node] = tuple((m, term(e, mode)) for m, e in live)
        start = seed.get(node, S.Zero)  # alone, it needs no sum: most nodes of a wide graph
        value = total([start, *(along(e, accented(m)) for m, e in live)]) if live else start
        if isinstance(value, MatrixExpr) and value.shape == (1, 1):
            value = _as_named(value, accents[node])
        carried[node] = value
    return naming.NameDict(carried), terms


def _as_named(value: MatrixExpr, name: Symbol) -> Expr:
    """A 1×1 matrix quantity of a node whose accent is a scalar (a 1×1's adjoint t̄ is its
    one entry) is that entry, ``tr`` of it: ``t̄ w`` then scales w, never a 1×1 product."""
    return value if isinstance(name, MatrixExpr) else Trace(value)


def term(edge: Edge, mode: Mode) -> Expr:
    """What a sweep lists for an edge: its partial ∂child/∂parent (a scalar edge), or
    its map in the mode's direction (a matrix edge: a push or a pull)."""
    return edge.partial if edge.partial is not None else mode.linear(edge)


# ---------------------------------------------------------------- seeds and entry points


def _seed_inputs(g: Graph, wrt) -> tuple[dict[Symbol, Expr], dict]:
    """Seed tangents of the inputs, and numeric directions given for matrix inputs."""
    given = dict(wrt.items()) if isinstance(wrt, Mapping) else {wrt: S.One}
    given = {g.symbol(k): v for k, v in given.items()}
    not_inputs = [str(k) for k in given if k not in g.inputs]
    if not_inputs:
        raise GraphError(f"forward mode is seeded at inputs, not at {', '.join(not_inputs)}")
    return _seeds(g.inputs, given, Mode.FORWARD)


def _seed_outputs(g: Graph, seed) -> tuple[dict[Symbol, Expr], dict]:
    """Seed adjoints of the outputs (one output, the only one by default, or weights),
    and the numbers given for matrix-valued outputs (a vector-Jacobian product)."""
    if seed is None:
        if len(g.outputs) != 1:
            names = ", ".join(map(str, g.outputs))
            raise GraphError(
                f"this function has {len(g.outputs)} outputs ({names}): name one, "
                'reverse("f1"), or give weights, reverse({"f1": 1, "f2": 0.5})'
            )
        seed = g.outputs[0]
    weights = dict(seed.items()) if isinstance(seed, Mapping) else {seed: S.One}
    given = {g.symbol(k): v for k, v in weights.items()}
    stray = [str(k) for k in given if k not in g.outputs]
    if stray:
        raise GraphError(f"reverse mode is seeded at outputs, not at {', '.join(stray)}")
    return _seeds(tuple(given), given, Mode.REVERSE)


def _seeds(nodes, given: Mapping, mode: Mode) -> tuple[dict[Symbol, Expr], dict]:
    """Each node's seed, and the numbers of its matrix seeds (kept for evaluation).

    A scalar node (and, in reverse mode, a 1×1 output) takes a number; a matrix node a
    MatrixSymbol or an array of its shape, named ``Ẋ``/``ō`` in the sweep. Forward mode
    also takes a bare ``1`` for a matrix input: a direction ``Ẋ`` whose numbers come later
    (an argument of the compiled function)."""
    seeds, numbers = {}, {}
    for n in nodes:
        v = given.get(n, S.Zero)
        shape = getattr(n, "shape", None)
        if shape is None or (mode is Mode.REVERSE and tuple(shape) == (1, 1)):
            seeds[n] = sympify(float(v) if isinstance(v, np.ndarray) else v)
        elif isinstance(v, Basic) and getattr(v, "shape", None) == shape:
            seeds[n] = v  # a symbolic matrix seed, such as a MatrixSymbol Y
        elif isinstance(v, Basic) and (v == 0 or mode is Mode.FORWARD):
            seeds[n] = S.Zero if v == 0 else mode.accent(n)
        elif not isinstance(v, Basic) and (mode is Mode.FORWARD or np.shape(v) == shape):
            seeds[n], numbers[n] = mode.accent(n), v  # named Ẋ or ō, its numbers kept
        else:
            raise _matrix_seed_error(n, v)
    return seeds, numbers


def _matrix_seed_error(o: Symbol, v) -> GraphError:
    m, n = o.shape
    what = f"shape {np.shape(v)}" if not isinstance(v, Basic) else f"{v}"
    return GraphError(
        f"{o} is a {m}×{n} matrix: reverse mode needs a seed of its shape, not {what}: "
        f"g.reverse({{'{o}': numpy.ones(({m}, {n}))}}) for the vector-Jacobian product with "
        f"those weights, a MatrixSymbol of shape ({m}, {n}), or a scalar output such as sum({o})"
    )


def forward(g: Graph, wrt) -> Forward:
    """Propagate tangents from an input (``"x"``) or a direction (``{"x": 1, "y": 2}``)."""
    seed, directions = _seed_inputs(g, wrt)
    return Forward(g, seed, *propagate(g, Mode.FORWARD, seed), directions)


def reverse(g: Graph, seed=None) -> Reverse:
    """Propagate adjoints back from an output (or a weighting of the outputs: a VJP)."""
    seeds, numbers = _seed_outputs(g, seed)
    return Reverse(g, seeds, *propagate(g, Mode.REVERSE, seeds), numbers)


#: The sweep of each mode, for callers holding a mode: ``SWEEPS[mode](g, seed)``.
SWEEPS: Mapping[Mode, Callable[..., Sweep]] = {Mode.FORWARD: forward, Mode.REVERSE: reverse}

# g.bars, g.dots: every node's adjoint and tangent symbol, made once per graph
attach_cached("bars", lambda g: {n: naming.bar(n) for n in g.order})
attach_cached("dots", lambda g: {n: naming.dot(n) for n in g.order})

# g.forward(wrt), g.reverse(seed): the stage attaches its own methods, so graph.py imports no stage
Graph.forward = forward
Graph.reverse = reverse
