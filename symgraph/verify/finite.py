"""Finite differences, and how their error behaves as the step h shrinks.

A finite difference estimates ``∂f/∂x`` from two values of ``f``; its error shows the
scheme's order (O(h) forward/backward, O(h²) central) until round-off takes over — the
lecture's 48.19 against the exact 47.30.

>>> src = "exp(exp(u1) + exp(2*u2)) + sigmoid(exp(u1) + exp(2*u2))"
>>> fd = finite_difference(src, at={"u1": 1, "u2": -1}, h=0.01)
>>> round(fd.estimates["u1"], 2), round(fd.exact["u1"], 2)
(48.19, 47.3)
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from sympy import Add, Expr, Symbol

from .. import naming
from ..build import graph
from ..evaluation import interpret
from ..evaluation.evaluate import EvaluationError, evaluate_sweep
from ..evaluation.exact import Point, Undefined
from ..graph import Graph, GraphError
from ..lazynp import np as numpy
from . import fd_text, values

#: Schemes: the offsets of the two evaluations and the divisor, in units of h.
SCHEMES = {"forward": (0, 1, 1), "backward": (-1, 0, 1), "central": (-1, 1, 2)}
#: The order of each scheme's truncation error.
ORDERS = {"forward": 1, "backward": 1, "central": 2}
#: The steps of a sweep, h = 1e-1 ... 1e-12.
SWEEP_HS = tuple(10.0**-k for k in range(1, 13))
NAN = float("nan")


def _as_graph(src) -> Graph:
    return src if isinstance(src, Graph) else graph(src)


_fmt, _fmt_point = values.fmt, values.fmt_point


def _barred(node: Symbol) -> str:
    """``t3`` -> ``t̄3``: a combining macron over the name's letters."""
    return re.sub(r"^([^\d_]+)", lambda m: m.group(1) + "\u0304", node.name, count=1)


def _output_label(seed: Mapping[Symbol, Expr]) -> str:
    """``f``, a weighted sum ``(f1 + 2*f2)``, or ``⟨f̄, f⟩`` for a matrix output's seed."""
    (o, w), *more = seed.items()
    if any(getattr(w, "shape", None) for w in seed.values()):
        return (
            "(" + " + ".join(f"⟨{_barred(o)}, {o}⟩" for o in seed) + ")"
            if more
            else (f"⟨{_barred(o)}, {o}⟩")
        )
    return str(o) if not more and w == 1 else f"({Add(*[w * o for o, w in seed.items()])})"


# ---------------------------------------------------------------- finite differences


def _weights(rv) -> dict:
    """The seed as numbers: a matrix output's weights are the matrix given for it."""
    out = {}
    for o, w in rv.seed.items():
        if o in rv.directions:
            out[o] = numpy.asarray(rv.directions[o], dtype=float)
        elif getattr(w, "shape", None) or not w.is_Number:
            raise GraphError(
                f"{o} is seeded with the symbol {w}: finite differences need numbers, "
                f"e.g. {{'{o}': numpy.ones({tuple(w.shape) if w.shape else ()})}}"
            )
        else:
            out[o] = float(w)
    return out


def _moved(v, shift: float, index: tuple):
    """``v`` with ``shift`` added (to its entry ``index`` if it is a matrix)."""
    if not values.is_matrix(v):
        return numpy.float64(v + shift)
    if not shift:
        return v
    a = numpy.array(v, dtype=float)
    a[index] += shift
    return a


class _Numeric:
    """The (weighted) output in floats, step by step; one node (or one entry) may be shifted.

    A matrix output's weights are a matrix of its shape: the output is ``⟨f̄, f⟩``.
    """

    def __init__(self, g: Graph, rv):
        self.g, self.weights = g, _weights(rv)
        self.program = [(s.name, s.expr) for s in g.steps]

    def __call__(self, point, node: Symbol, shift: float, index: tuple = ()) -> float:
        env = {
            x: _moved(point[x], shift, index) if x == node else _moved(point[x], 0, ())
            for x in self.g.inputs
        }
        given = dict(env)  # the point, before the steps join it

        def shifted(name: Symbol, expr: Expr) -> None:
            if name == node and not isinstance(env[name], Undefined):
                env[name] = _moved(env[name], shift, index)

        # NumPy in float64, by the interpreter over the whitelist: no code is generated
        interpret.run(self.program, Point(self.g, env), interpret.ARRAYS, after=shifted)
        for s in self.g.steps:
            if isinstance(env[s.name], Undefined):  # the point is written out only now
                moved = f" with {values.entry(node, index)} shifted by {shift:g}"
                where = _fmt_point(given) + moved * (node in self.g.step)
                raise EvaluationError(f"step {s} is undefined at {where}")
        return float(sum(numpy.sum(w * env[o]) for o, w in self.weights.items()))

    def difference(self, point, node: Symbol, h: float, scheme: str, index: tuple = ()):
        """The estimate, and the two values it divides: ``(f_hi - f_lo) / (k h)``."""
        lo, hi, div = SCHEMES[scheme]
        try:
            f_lo, f_hi = self(point, node, lo * h, index), self(point, node, hi * h, index)
        except EvaluationError as e:
            moved = values.entry(node, index)
            message = f"the {scheme} difference for {moved} with h = {h:g} leaves the domain"
            raise EvaluationError(f"{message}: {e}") from None
        return (f_hi - f_lo) / (div * h), f_lo, f_hi

    def differences(self, point, node: Symbol, shape, h: float, scheme: str):
        """Every entry's estimate and values, as arrays of ``shape`` (floats for a scalar)."""
        if shape is None:
            return self.difference(point, node, h, scheme)
        runs = numpy.empty((3, *shape))
        for index in numpy.ndindex(*shape):
            runs[(slice(None), *index)] = self.difference(point, node, h, scheme, index)
        return tuple(runs)


class _Setup(NamedTuple):
    graph: Graph
    seed: dict
    nodes: tuple[Symbol, ...]
    point: dict
    exact: dict
    fn: _Numeric
    shapes: dict  # node -> its shape, None for a scalar


def _setup(src, at: Mapping, wrt, output, scheme: str) -> _Setup:
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {', '.join(SCHEMES)}, not {scheme!r}")
    g = _as_graph(src)
    rv = g.reverse(output)
    fn = _Numeric(g, rv)
    ev = evaluate_sweep(rv, at, strict=True)  # every estimate is compared with a number
    keys = g.inputs if wrt is None else [wrt] if isinstance(wrt, str | Symbol) else wrt
    nodes = tuple(g.symbol(k) for k in keys)
    shapes = {
        n: numpy.shape(ev.values[n]) if values.is_matrix(ev.values[n]) else None for n in nodes
    }
    exact = naming.NameDict(
        {n: numpy.asarray(ev.adjoints[n], float).reshape(shapes[n] or ()) for n in nodes}
    )
    exact = naming.NameDict({n: v if shapes[n] else float(v) for n, v in exact.items()})
    point = naming.NameDict({x: ev.values[x] for x in g.inputs})
    return _Setup(g, dict(rv.seed), nodes, point, exact, fn, shapes)


def _errors(est, exact) -> tuple[float, float, tuple]:
    """The largest absolute and relative errors, and the entry of the largest (``()``)."""
    err = numpy.abs(numpy.asarray(est) - exact)
    with numpy.errstate(all="ignore"):
        rel = numpy.where(exact != 0, err / numpy.abs(exact), NAN)
    worst = numpy.unravel_index(int(numpy.argmax(err)), err.shape) if err.ndim else ()
    rel_max = float(numpy.nanmax(rel)) if numpy.isfinite(rel).any() else NAN
    return float(err.max()), rel_max, tuple(int(i) for i in worst)


@dataclass(frozen=True)
class FiniteDifference:
    """Finite-difference estimates of ``∂f/∂x`` at a point, next to the exact values.

    ``evaluations[x]`` holds the two values of ``f`` the estimate divides. For a matrix
    input ``W`` every entry is shifted in turn: ``estimates[W]``, ``exact[W]`` and the two
    ``evaluations[W]`` are arrays of its shape, ``abs_error[W]`` and ``rel_error[W]`` the
    largest errors over its entries, and ``worst[W]`` the entry of the largest, ``(i, j)``.
    """

    scheme: str
    h: float
    at: dict
    output: str
    estimates: dict
    exact: dict
    abs_error: dict
    rel_error: dict
    evaluations: dict
    worst: dict
    setup: _Setup = field(repr=False, compare=False)

    def __repr__(self) -> str:  # the table as it reads, not a dataclass dump
        return str(self)

    def __str__(self) -> str:
        div = f"{self.h:g}" if SCHEMES[self.scheme][2] == 1 else f"(2·{self.h:g})"
        lines = [f"{self.scheme} differences, h = {self.h:g}, at {_fmt_point(self.at)}:"]
        for n, est in self.estimates.items():
            if n in self.worst:
                lines.append(fd_text.matrix_lines(self, n))
                continue
            lo, hi = self.evaluations[n]
            fd = f"∂{self.output}/∂{n} ≈ ({_fmt(hi)} − {_fmt(lo)})/{div} = {_fmt(est)}"
            rel = self.rel_error[n]  # NaN where the exact value is 0: no relative error
            error = f"error {self.abs_error[n]:.3g}" + (
                "" if math.isnan(rel) else f" ({rel:.3g} relative)"
            )
            lines.append(f"  {fd}   exact {_fmt(self.exact[n])}, {error}")
        return "\n".join(lines)

    def sweep(self, hs=None) -> FiniteDifferenceSweep:
        """The same estimates over many steps; see :func:`finite_difference_sweep`."""
        return _sweep(self.setup, self.scheme, hs)


def finite_difference(
    src, at: Mapping, h: float = 1e-2, scheme: str = "forward", wrt=None, output=None
) -> FiniteDifference:
    """Estimate ``∂f/∂x`` by a finite difference and compare it with the exact derivative.

    Parameters
    ----------
    src
        Anything :func:`symgraph.graph` accepts, or a :class:`Graph`.
    at
        The point, ``{input name or symbol: value}``: a number, or for a matrix input an
        array of its shape (nested lists; a flat list for a column or a row).
    h, scheme
        The step, and ``"forward"`` ``(f(x+h) − f(x))/h``, ``"backward"`` or ``"central"``.
    wrt
        A node or a list of nodes (default: the inputs); for a step ``t`` the estimate
        approximates its adjoint ``t̄``. A matrix node's entries are shifted one by one.
    output
        For several outputs: the one to differentiate, or weights, as in ``g.reverse``.
        A matrix-valued output ``f`` needs weights ``Y`` of its shape,
        ``{"f": Y}``: the estimates are then those of ``⟨Y, f⟩ = sum(Y∘f)``.

    Raises
    ------
    EvaluationError
        If the point, or a perturbed point, is outside the function's domain.

    Examples
    --------
    >>> print(finite_difference("x**2", at={"x": 3}, h=0.5))
    forward differences, h = 0.5, at x = 3:
      ∂f/∂x ≈ (12.25 − 9)/0.5 = 6.5   exact 6, error 0.5 (0.0833 relative)
    >>> g = graph("sum(W*x)", shapes={"W": (1, 2), "x": (2, 1)})
    >>> print(finite_difference(g, at={"W": [[1, 2]], "x": [3, 4]}, h=0.5, wrt="W"))
    forward differences, h = 0.5, at W = [[1, 2]], x = [3, 4]ᵀ:
      ∂f/∂W, entry by entry (W is 1×2):
        entry    estimate   exact   error   relative
        W[0,0]          3       3       0          0
        W[0,1]          4       4       0          0
        largest error 0 at W[0,0] (estimate 3, exact 3)
    """
    s = _setup(src, at, wrt, output, scheme)
    runs = {n: s.fn.differences(s.point, n, s.shapes[n], h, scheme) for n in s.nodes}
    est = naming.NameDict({n: r[0] for n, r in runs.items()})
    errors = {n: _errors(est[n], s.exact[n]) for n in s.nodes}
    err, rel = ({n: e[k] for n, e in errors.items()} for k in (0, 1))
    worst = {n: errors[n][2] for n in s.nodes if s.shapes[n]}
    tables = map(naming.NameDict, (err, rel, {n: r[1:] for n, r in runs.items()}, worst))
    label = _output_label(s.seed)
    return FiniteDifference(scheme, h, s.point, label, est, s.exact, *tables, s)


@dataclass(frozen=True)
class FiniteDifferenceSweep:
    """Errors over many steps ``h``, largest first (NaN where a step leaves the domain).

    ``order[x]`` is the slope of log error against log h where truncation dominates
    (None when it is too small to measure); ``floor[x]`` is ``(h, error)`` at the
    smallest error, where round-off takes over. For a matrix input ``W``,
    ``estimates[W]`` holds an array per step, ``errors[W]`` the largest error over its
    entries at each step, and ``worst[W]`` the entry of the largest error at the floor.
    """

    scheme: str
    hs: tuple[float, ...]
    at: dict
    output: str
    exact: dict
    estimates: dict
    errors: dict
    order: dict
    floor: dict
    worst: dict = field(default_factory=dict)

    def __repr__(self) -> str:  # the table as it reads, not a dataclass dump
        return str(self)

    def __str__(self) -> str:
        names = [f"∂{self.output}/∂{n}" for n in self.exact]
        head = f"{self.scheme} differences at {_fmt_point(self.at)}: the error of each"
        lines = [head + " (of a matrix: its largest over the entries)" * bool(self.worst)]
        width = max(14, *(len(n) + 2 for n in names))
        lines.append(f"{'h':>8}" + "".join(f"{n:>{width}}" for n in names))
        for i, h in enumerate(self.hs):
            errors = "".join(f"{e[i]:>{width}.3e}" for e in self.errors.values())
            lines.append(f"{h:>8.0e}" + errors)
        for name, n in zip(names, self.exact, strict=True):
            p, (h, e) = self.order[n], self.floor[n]
            order = "order not measurable" if p is None else f"error ~ h^{p:.2f}"
            expected = f"O(h^{ORDERS[self.scheme]}) expected"
            at = f", at {values.entry(n, self.worst[n])}" if n in self.worst else ""
            floor = f"round-off floor at h = {h:.0e} ({e:.2e}{at})"
            lines.append(f"{name}: {order} ({expected}); {floor}")
        return "\n".join(lines)


def _order(hs, errors) -> tuple[float | None, tuple[float, float]]:
    """Fit log error ~ p log h on the truncation-dominated run: large h, error falling."""
    finite = [(h, e) for h, e in zip(hs, errors, strict=True) if math.isfinite(e)]
    if not finite:
        return None, (NAN, NAN)
    floor = min(finite, key=lambda he: he[1])
    run = finite[:1]
    for h, e in finite[1:]:
        if h <= floor[0] or e >= run[-1][1]:
            break
        run.append((h, e))
    run = [(h, e) for h, e in run if e > 0 and e >= 100 * floor[1]]
    if len(run) < 2:
        return None, floor
    h, e = numpy.log10(run).T
    return float(numpy.polyfit(h, e, 1)[0]), floor


def _estimates(s: _Setup, n: Symbol, scheme: str, hs) -> list:
    """The estimates of ``n`` at every step; NaN (entries) where a step leaves the domain."""
    row = []
    for h in hs:
        try:
            row.append(s.fn.differences(s.point, n, s.shapes[n], h, scheme)[0])
        except EvaluationError:
            row.append(numpy.full(s.shapes[n], NAN) if s.shapes[n] else NAN)
    return row


def _sweep(s: _Setup, scheme: str, hs) -> FiniteDifferenceSweep:
    hs = SWEEP_HS if hs is None else tuple(sorted(map(float, hs), reverse=True))
    estimates, errors, order, floor, worst = {}, {}, {}, {}, {}
    for n in s.nodes:
        row = _estimates(s, n, scheme, hs)
        gaps = [numpy.abs(numpy.asarray(e) - s.exact[n]) for e in row]
        estimates[n], errors[n] = tuple(row), tuple(float(numpy.max(g)) for g in gaps)
        order[n], floor[n] = _order(hs, errors[n])
        if s.shapes[n] and math.isfinite(floor[n][0]):
            at_floor = gaps[hs.index(floor[n][0])]
            worst[n] = tuple(
                int(i) for i in numpy.unravel_index(numpy.argmax(at_floor), at_floor.shape)
            )
        elif s.shapes[n]:
            worst[n] = ()
    tables = map(naming.NameDict, (estimates, errors, order, floor, worst))
    return FiniteDifferenceSweep(scheme, hs, s.point, _output_label(s.seed), s.exact, *tables)


def finite_difference_sweep(
    src, at: Mapping, hs=None, scheme: str = "forward", wrt=None, output=None
) -> FiniteDifferenceSweep:
    """Finite differences for h = 1e-1 ... 1e-12 (or ``hs``): error order and round-off floor.

    The parameters are those of :func:`finite_difference`; a matrix input's error at
    each step is its largest over the entries.

    Examples
    --------
    >>> sweep = finite_difference_sweep("exp(x)", at={"x": 0.5}, scheme="central")
    >>> round(sweep.order["x"]), 1e-8 <= sweep.floor["x"][0] <= 1e-3
    (2, True)
    """
    return _sweep(_setup(src, at, wrt, output, scheme), scheme, hs)
