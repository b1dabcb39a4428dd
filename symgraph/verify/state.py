"""What every verdict of :func:`symgraph.verify.check.check` reads: the graph, its sweep,
the samples, the tolerance (:class:`_State`), and what the claims judged so far tell the
next one (:class:`_Judged`); and the helpers both the scalar and the matrix verdicts use.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from sympy import Add, Expr, Symbol

from .. import naming
from ..closed import ClosedFormTooLarge
from ..graph import Graph, GraphError
from ..lazynp import np as numpy
from ..simplify import tidy, tree_size
from ..sweep import Forward, Mode, Reverse
from .sampling import Sample, Sampling, samples


def _matches(claimed, values, same) -> bool:
    """Equal (``same``) wherever both are finite, and finite somewhere."""
    both = numpy.isfinite(claimed) & numpy.isfinite(values)
    return bool(both.any()) and bool(numpy.all(same(claimed, values)[both]))


#: The steps tried when a wrong number may be a finite difference.
SUSPECT_HS = (1e-1, 1e-2, 1e-3)
#: How many sample points (see :mod:`symgraph.verify.sampling`) must agree when there is no proof.
MIN_AGREEING = 10
#: The largest expression written into a message, in tree nodes; beyond it, its name.
SHOWN_MAX_NODES = 2000


def _shown(expr: Expr, fallback: Expr) -> Expr:
    """``expr`` if it is small enough to print in a message, else ``fallback`` (a name)."""
    return expr if tree_size(expr, SHOWN_MAX_NODES) <= SHOWN_MAX_NODES else fallback


# ---------------------------------------------------------------- the state


class _State(NamedTuple):
    """What every verdict reads, built once: the graph, its sweep, the samples, the tolerance.

    Claims are compared with the exact derivatives at the samples, in step form (each
    claim's variables, step names and adjoint names included, take their values there), so
    a claim on a graph whose closed forms are too large to write out is still judged.
    """

    g: Graph
    rv: Reverse
    forwards: Mapping[Symbol, Forward]  # by input, in forward mode: its derivatives
    at: Mapping | None
    tol: float
    rtol: float | None
    bars: Mapping[str, Symbol]  # adjoint name (tbar_3) -> node
    samples: tuple[Sample, ...]
    sampling: Sampling


class _Judged(NamedTuple):
    """What the claims judged so far (output side first) tell the next one: a claim's
    adjoint names stand for the person's own claims, and a wrong one is inherited."""

    claimed: Mapping[Symbol, numpy.ndarray]  # every symbolic claim's values at the samples
    wrong: Mapping[Symbol, numpy.ndarray]  # wrong claims' values at the samples
    resolved: Mapping[Symbol, Expr | None]  # symbolic claims in the inputs
    proven: frozenset[Symbol]  # claims proven right


def _state(g: Graph, rv: Reverse, mode: Mode, at, tolerance: tuple, seed: int) -> _State:
    forwards = {x: g.forward(x) for x in g.inputs} if mode is Mode.FORWARD else {}
    drawn, sampling = samples(rv, forwards, at, seed)
    bars = {naming.bar(n).name: n for n in g.order}
    return _State(g, rv, forwards, at, *tolerance, bars, drawn, sampling)


def _adjoint(st: _State, node: Symbol) -> numpy.ndarray:
    return numpy.array([s.adjoints[node] for s in st.samples])


def _correct(st: _State, node: Symbol) -> Expr | None:
    """The exact derivative in the inputs; None if too large to write out."""
    try:
        if node in st.forwards:
            fw = st.forwards[node].derivative
            return tidy(Add(*[w * fw[o] for o, w in st.rv.seed.items()]))
        return st.rv.closed_form(node)
    except ClosedFormTooLarge:
        return None


def _steps_form(st: _State, node: Symbol) -> Expr:
    """The adjoint of ``node`` in step names if it prints small, else its name ``t̄``."""
    return _shown(st.rv.in_steps(node), naming.bar(node))


def _check_names(st: _State, node: Symbol, expr: Expr) -> None:
    for s in expr.free_symbols:
        if s.name not in st.bars and s.name not in st.g._names:
            nodes = ", ".join(map(str, st.g.order))
            message = f"the claim for {node} uses {s}, which is not a node of this graph"
            raise GraphError(f"{message} (its nodes are {nodes}) nor an adjoint")


def _resolve(st: _State, judged: _Judged, expr: Expr) -> Expr | None:
    """The claim in the inputs: step names expanded; an adjoint name (``tbar_3``) is the
    person's own claim for that node if there is one, else the exact adjoint. None if
    that is too large to write out."""
    subs = {}
    try:
        for s in expr.free_symbols:
            if s.name in st.bars:
                n = st.bars[s.name]
                subs[s] = judged.resolved[n] if n in judged.resolved else st.rv.closed_form(n)
            else:
                subs[s] = st.g.expand(st.g.symbol(s.name))
    except ClosedFormTooLarge:
        return None
    if any(v is None for v in subs.values()):
        return None
    return expr.xreplace(subs)
