"""Numbers at a point: every node's value, tangent or adjoint; kinks; domain errors.

Values are computed step by step in SymPy floating point, so a point outside a
step's domain is caught at that step (never a silent NaN, inf or complex number).
At a kink — a max/min tie, ``|x|`` or relu at 0, a Piecewise boundary — the
derivative through that step is not unique: the kink is listed in ``.kinks``, a
:class:`KinkWarning` is issued, and the convention chosen by ``kink=`` is applied
and named in the result.

>>> from symgraph import graph
>>> ev = graph("u1*u2 + max(u1, u2)").reverse().evaluate({"u1": 1, "u2": 1}, kink="split")
>>> ev.gradient["u1"], ev.gradient["u2"], ev.kink_convention
(1.5, 1.5, 'split')
>>> print(ev.kinks[0])
t2 = Max(u1, u2) at a tie of max (u1 = 1, u2 = 1): derivatives split evenly
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sympy import Basic, Symbol

from .. import naming, rules
from ..graph import Graph, Step
from ..lazynp import np
from ..sweep import Mode, Sweep, _ModeNames
from . import describe, interpret
from .describe import partial_label
from .exact import EvaluationError, Point, Undefined
from .kinks import (
    CONVENTIONS,
    Kink,
    KinkError,  # noqa: F401  (re-exported by the package)
    KinkWarning,
    elementwise_kink,
    fmt,
    step_kink,
)
from .points import _input_value, check_tol, point


class UndefinedPartialWarning(RuntimeWarning):
    """A partial with no number at the point (NaN in the result, the reason in
    ``.undefined``); the other partials are given."""


class NotEvaluatedError(EvaluationError, KeyError):
    """The value of a node in a Piecewise branch not taken (it was never needed)."""


class _Values(naming.NameDict):
    """Numbers by node; a node left out (in a branch not taken, or not needed for any
    output, where its value fails) raises :class:`NotEvaluatedError` saying why."""

    __slots__ = ("skipped",)

    def __init__(self, data, skipped: Mapping):
        super().__init__(data)
        self.skipped = {str(k): err for k, err in skipped.items()}

    def _missing(self, key):
        err = self.skipped.get(str(key))
        if err is not None:
            raise NotEvaluatedError(
                f"{key} was not evaluated (it is in a branch not taken, or no output needs it): "
                f"{err}"
            )
        raise KeyError(key)


# ---------------------------------------------------------------- numbers


def _array(expr: Basic, env: Mapping, what: str, convention: str):
    """The NumPy value of a matrix expression; an EvaluationError on NaN or inf entries."""
    return interpret.value(expr, env, interpret.ARRAYS, convention, what)


def _describe(step: Step, env: Mapping) -> str:
    at = ", ".join(f"{p} = {fmt(env[p])}" for p in step.parents)
    return f"step {step}" + (f" (at {at})" if at else "")


def _argument(s: Step, env: Mapping, convention: str) -> Callable:
    return lambda e: _array(e, env, f"the argument of {s}", convention)


def values(
    g: Graph, at: Mapping, kink: str, kink_tol: float = 0.0
) -> tuple[Point, dict[Symbol, Kink]]:
    """Value of every node, and the kinks met (with their convention's partials).

    A step whose value fails is marked undefined; the failure is raised only where
    the value is used — so a Piecewise branch not taken is never an error.
    """
    if kink not in CONVENTIONS:
        raise EvaluationError(f"kink must be one of {', '.join(CONVENTIONS)}, not {kink!r}")
    here = Point(g, point(g, at), check_tol(kink_tol))
    kinks: dict[Symbol, Kink] = {}

    def find(name: Symbol, expr: Basic) -> None:
        s = g.step[name]
        if interpret.involves_matrices(expr):
            found = elementwise_kink(s, _argument(s, here.env, kink), kink, here.kink_tol)
        else:
            found = step_kink(s, here, kink)
        if found:
            kinks[name] = found

    def describe(name: Symbol, expr: Basic, env: Mapping) -> str:
        return _describe(g.step[name], env)

    program = [(s.name, s.expr) for s in g.steps]
    env = interpret.run(program, here, interpret.MIXED, kink, describe=describe, after=find)
    for o in g.outputs:
        if isinstance(env[o], Undefined):
            raise env[o].error
    return here, kinks


def _edge(g: Graph, here: Point, kinks, mode: Mode, node: Symbol, m: Symbol, carried):
    """The contribution to ``node`` along its edge to the neighbour ``m``: ∂child/∂parent
    times ``m``'s carried tangent or adjoint (by the kink convention where there is one),
    or the edge's matrix push or pull. An edge into or out of a node in a branch not
    taken carries nothing."""
    env = here.env
    child, parent = edge = mode.edge(node, m)
    if _dead(env[child]) or _dead(env[parent]):
        return _zero(mode.accent(node))
    what = f"the derivative of {g.step[child]}"
    record = g.edges[edge]
    if record.partial is not None:  # a scalar edge: its map is a product by the partial
        slope = (
            kinks[child].partials[parent]
            if child in kinks and kinks[child].partials
            else interpret.EXACT.number(record.partial, here, what, CONVENTIONS["split"])
        )
        return slope * carried
    linear = mode.linear(record)
    convention = kinks[child].convention if child in kinks else "split"
    return _array(linear, {**_local(linear, env), mode.accent(m): carried}, what, convention)


def _dead(v) -> bool:
    """A node never evaluated (a branch not taken); a value beyond the float range is
    not dead: its edges are evaluated, and fail where a float would overflow."""
    return isinstance(v, Undefined) and v.value is None


def _local(expr: Basic, env: Mapping) -> dict:
    return {s: env[s] for s in expr.free_symbols if s in env}


def _warn(kinks: Mapping[Symbol, Kink]) -> None:
    for k in kinks.values():
        warnings.warn(str(k), KinkWarning, stacklevel=4)  # the caller of .evaluate()


def _plain(v):
    """Floats for scalars (and 1×1 matrices), arrays for matrices."""
    if isinstance(v, np.ndarray):
        return float(v.reshape(-1)[0]) if v.size == 1 else v
    return float(v)


def _floats(env: Mapping) -> naming.NameDict:
    skipped = {k: v.error for k, v in env.items() if isinstance(v, Undefined)}
    return _Values({k: _plain(v) for k, v in env.items() if k not in skipped}, skipped)


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class GraphEvaluation:
    """The value of every node at a point (``names``: what its text shows; ``graph``: what
    its notebook display draws, left out of a copy or a pickle)."""

    values: dict
    kinks: tuple[Kink, ...]
    kink_convention: str
    outputs: dict
    names: describe.Names = describe.NO_NAMES
    graph: Graph | None = field(default=None, repr=False, compare=False)

    __repr__ = describe.graph_line
    __str__ = describe.graph_text
    __getstate__ = describe.without("graph")


@dataclass(frozen=True)
class SweepEvaluation(_ModeNames):
    """Values, and the sweep's numbers at a point: ``.tangents`` and ``.derivative``
    (forward mode) or ``.adjoints`` and ``.gradient`` (reverse mode), also by the
    generic names ``carried`` and ``results``. ``undefined`` names each result (a
    partial) with no number at the point, and why (the result is NaN); ``names`` and
    ``sweep`` as ``GraphEvaluation``'s ``names`` and ``graph``."""

    values: dict
    carried: dict
    results: dict
    kinks: tuple[Kink, ...]
    kink_convention: str
    mode: Mode
    undefined: Mapping = field(default_factory=naming.NameDict)
    names: describe.Names = describe.NO_NAMES
    sweep: Sweep | None = field(default=None, repr=False, compare=False)

    __repr__ = describe.one_line
    __str__ = describe.sweep_text
    __getstate__ = describe.without("sweep")


def evaluate_graph(
    g: Graph, at: Mapping, kink: str = "split", kink_tol: float = 0.0
) -> GraphEvaluation:
    """Values of every node (no derivatives) at ``at``.

    ``kink_tol`` (default 0: exact ties only) widens what counts as a kink: values
    within ``kink_tol`` (relative to the larger magnitude, at least 1) are tied, and
    the kink convention applies there. For elementwise matrix steps it widens the
    report only: their derivatives take the convention at entries exactly 0.
    """
    with rules.using(g.rule_table):
        here, kinks = values(g, at, kink, kink_tol)
    vals = _floats(here.env)
    outputs = naming.NameDict({o: vals[o] for o in g.outputs})
    names = describe.Names(g.inputs, g.outputs, {})
    return GraphEvaluation(vals, tuple(kinks.values()), kink, outputs, names, g)


def evaluate_sweep(
    sweep: Sweep,
    at: Mapping,
    kink: str = "split",
    kink_tol: float = 0.0,
    *,
    warn: bool = True,
    strict: bool = False,
) -> SweepEvaluation:
    """Tangents or adjoints by the sweep, numerically, at ``at``: forward mode in
    topological order, reverse mode from the outputs back (``kink_tol`` as in
    :func:`evaluate_graph`; ``warn=False``: no KinkWarning or UndefinedPartialWarning,
    for callers that list ``.kinks`` and ``.undefined`` themselves; no warnings filter
    is thread-safe).

    A node's quantity that fails here is an error only if a result needs it; a result
    (a partial) with no number is NaN, named with the reason in ``.undefined``
    (an :class:`UndefinedPartialWarning` says so), while the others are given; if no
    result has a number (or any, with ``strict=True``: for callers that judge every
    result, as checks and finite differences do), the first one's error is raised.
    """
    g, mode = sweep.graph, sweep.mode
    with rules.using(g.rule_table):
        here, kinks = values(g, at, kink, kink_tol)
        seeds = {n: _seed_value(sweep, n, here) for n in sweep.seed}
        carried: dict = {}
        for node in sweep.carried:  # in sweep order
            try:
                carried[node] = _carried(here, kinks, sweep, node, carried, seeds)
            except EvaluationError as err:
                carried[node] = Undefined(err)  # an error only where a result needs it
    undefined = _undefined(sweep, carried, strict)
    if warn:
        _warn(kinks)
        for reason in undefined.values():
            warnings.warn(reason, UndefinedPartialWarning, stacklevel=3)
    table = _floats({**carried, **{n: _nan(n) for n in undefined}})
    results = naming.NameDict({n: table[n] for n in mode.ends(g)})
    names = describe.Names(g.inputs, g.outputs, {n: partial_label(sweep, n) for n in results})
    found = tuple(kinks.values())
    return SweepEvaluation(
        _floats(here.env), table, results, found, kink, mode, undefined, names, sweep
    )


def _undefined(sweep: Sweep, carried: Mapping, strict: bool) -> naming.NameDict:
    """Each result with no number, and why (its partial named); raises when none has one
    (or, ``strict``, when any has none)."""
    ends = sweep.mode.ends(sweep.graph)
    failed = [n for n in ends if isinstance(carried[n], Undefined)]
    reasons = naming.NameDict({n: f"{partial_label(sweep, n)}: {carried[n].error}" for n in failed})
    if failed and (strict or len(failed) == len(ends)):
        first = carried[failed[0]].error
        raise type(first)(reasons[failed[0]]) from None
    return reasons


def _nan(node: Basic):
    shape = getattr(node, "shape", None)
    return np.full(shape, np.nan) if shape else np.nan


def _carried(here: Point, kinks, sweep: Sweep, node: Symbol, carried: Mapping, seeds: Mapping):
    """The number of one node's tangent or adjoint: its edges' contributions, then its seed."""
    mode, terms = sweep.mode, sweep.terms[node]
    for m, _ in terms:
        if isinstance(carried[m], Undefined):
            raise carried[m].error
    parts = [_edge(sweep.graph, here, kinks, mode, node, m, carried[m]) for m, _ in terms]
    parts += [seeds[node]] if node in seeds else []
    total = sum(parts[1:], parts[0]) if parts else _zero(mode.accent(node))
    return total if getattr(mode.accent(node), "shape", None) else _plain(total)


def _seed_value(sweep: Sweep, node: Basic, here: Point):
    if node in sweep.directions:
        return _input_value(node, sweep.directions[node])
    seed = sweep.seed[node]
    if getattr(node, "shape", None):
        if seed == 0:
            return np.zeros(node.shape)
        if seed == sweep.mode.accent(node):  # a direction named Ẋ but given no numbers
            word = sweep.mode.word
            raise EvaluationError(
                f"{node} is a matrix: seed {word} mode with a direction array, "
                f"e.g. g.{word}({{'{node}': numpy.ones({tuple(node.shape)})}})"
            )
    return here.number(seed, f"the seed of {node}")


def _zero(node: Basic):
    shape = getattr(node, "shape", None)
    return np.zeros(shape) if shape else 0.0


def _evaluate(self: Sweep, at: Mapping, kink: str = "split", kink_tol: float = 0.0):
    """Numbers at a point; see :func:`evaluate_sweep` (``kink_tol``: how close counts as a
    tie; 0, the default, means exactly equal)."""
    return evaluate_sweep(self, at, kink, kink_tol)


# sweep.evaluate(at): attached here, like g.evaluate, so the sweeps import no numbers
Sweep.evaluate = _evaluate
# g.evaluate(at): the stage attaches its own method, so graph.py imports no stage
Graph.evaluate = evaluate_graph
