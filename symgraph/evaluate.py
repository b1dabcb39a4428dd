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
from dataclasses import dataclass

import numpy as np
from sympy import Basic, Symbol

from . import interpret, naming, rules
from .exact import EvaluationError, Point, Undefined
from .graph import Graph, Step
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


def _edge(g: Graph, here: Point, kinks, child: Symbol, parent: Symbol, carried, mode: str):
    """The contribution along an edge: ∂child/∂parent times the carried tangent/adjoint
    (by the kink convention where there is one), or the edge's matrix push/pull.
    An edge into or out of a node in a branch not taken carries nothing."""
    env = here.env
    if _dead(env[child]) or _dead(env[parent]):
        return _zero(naming.bar(parent) if mode == "reverse" else child)
    edge = (child, parent)
    what = f"the derivative of {g.step[child]}"
    if edge in g.partials:
        slope = (
            kinks[child].partials[parent]
            if child in kinks and kinks[child].partials
            else here.number(g.partials[edge], what)
        )
        return slope * carried
    if mode == "reverse":
        linear, symbol = g.pullbacks[edge], naming.bar(child)
    else:
        linear, symbol = g.pushforwards[edge], naming.dot(parent)
    convention = kinks[child].convention if child in kinks else "split"
    return _array(linear, {**_local(linear, env), symbol: carried}, what, convention)


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
    """The value of every node at a point."""

    values: dict
    kinks: tuple[Kink, ...]
    kink_convention: str
    outputs: dict


@dataclass(frozen=True)
class ForwardEvaluation:
    """Values, tangents and directional derivatives at a point."""

    values: dict
    tangents: dict
    derivative: dict
    kinks: tuple[Kink, ...]
    kink_convention: str


@dataclass(frozen=True)
class ReverseEvaluation:
    """Values, adjoints and the gradient at a point."""

    values: dict
    adjoints: dict
    gradient: dict
    kinks: tuple[Kink, ...]
    kink_convention: str


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
    return GraphEvaluation(vals, tuple(kinks.values()), kink, outputs)


def evaluate_forward(
    fw, at: Mapping, kink: str = "split", kink_tol: float = 0.0, *, warn: bool = True
) -> ForwardEvaluation:
    """Tangents by the forward sweep, numerically, at ``at`` (``kink_tol`` as in
    :func:`evaluate_graph`; ``warn=False``: no KinkWarning, for callers that list
    ``.kinks`` themselves; no warnings filter is thread-safe)."""
    g = fw.graph
    with rules.using(g.rule_table):
        here, kinks = values(g, at, kink, kink_tol)
        dots = {x: _seed_value(fw, x, here) for x in g.inputs}
        needed = _needed(fw)
        for s in g.steps:
            try:
                dots[s.name] = _tangent(g, here, kinks, fw, s, dots)
            except EvaluationError as err:
                if s.name in needed:
                    raise
                dots[s.name] = Undefined(err)  # no output's derivative depends on it
    if warn:
        _warn(kinks)
    tangents = _floats(dots)
    derivative = naming.NameDict({o: tangents[o] for o in g.outputs})
    return ForwardEvaluation(_floats(here.env), tangents, derivative, tuple(kinks.values()), kink)


def _needed(fw) -> set:
    """The nodes whose tangents some output's derivative uses (through nonzero partials):
    forward mode must fail on a point exactly where reverse mode does."""
    needed = set(fw.graph.outputs)
    for s in reversed(fw.graph.steps):
        if s.name in needed:
            needed.update(p for p, _ in fw.terms[s.name])
    return needed


def _tangent(g: Graph, here: Point, kinks, fw, s: Step, dots: Mapping):
    for p, _ in fw.terms[s.name]:
        if isinstance(dots[p], Undefined):
            raise dots[p].error
    parts = [_edge(g, here, kinks, s.name, p, dots[p], "forward") for p, _ in fw.terms[s.name]]
    return sum(parts[1:], parts[0]) if parts else _zero(s.name)


def _seed_value(fw, x: Basic, here: Point):
    if x in getattr(fw, "directions", {}):
        return _input_value(x, fw.directions[x])
    seed = fw.seed[x]
    if getattr(x, "shape", None):
        if seed == 0:
            return np.zeros(x.shape)
        raise EvaluationError(
            f"{x} is a matrix: seed forward mode with a direction array, "
            f"e.g. g.forward({{'{x}': numpy.ones({tuple(x.shape)})}})"
        )
    return here.number(seed, f"the seed of {x}")


def _zero(node: Basic):
    shape = getattr(node, "shape", None)
    return np.zeros(shape) if shape else 0.0


def evaluate_reverse(
    rv, at: Mapping, kink: str = "split", kink_tol: float = 0.0, *, warn: bool = True
) -> ReverseEvaluation:
    """Adjoints by the reverse sweep, numerically, at ``at`` (``kink_tol`` as in
    :func:`evaluate_graph`, ``warn`` as in :func:`evaluate_forward`)."""
    g = rv.graph
    with rules.using(g.rule_table):
        here, kinks = values(g, at, kink, kink_tol)
        bars: dict = {}
        for node in rv.adjoints:  # outputs first, inputs last
            parts = [_edge(g, here, kinks, c, node, bars[c], "reverse") for c, _ in rv.terms[node]]
            if node in rv.seed:
                parts.append(here.number(rv.seed[node], f"the seed of {node}"))
            adjoint = sum(parts[1:], parts[0]) if parts else _zero(naming.bar(node))
            bars[node] = adjoint if getattr(naming.bar(node), "shape", None) else _plain(adjoint)
    if warn:
        _warn(kinks)
    adjoints = naming.NameDict({n: _plain(v) for n, v in bars.items()})
    gradient = naming.NameDict({x: adjoints[x] for x in g.inputs})
    return ReverseEvaluation(_floats(here.env), adjoints, gradient, tuple(kinks.values()), kink)


# g.evaluate(at): the stage attaches its own method, so graph.py imports no stage
Graph.evaluate = evaluate_graph
