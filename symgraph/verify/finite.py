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

import numpy
from sympy import Add, Expr, Symbol

from .. import naming
from ..build import graph
from ..evaluation import interpret
from ..evaluation.evaluate import EvaluationError
from ..evaluation.exact import Point, Undefined
from ..graph import Graph, GraphError

#: Schemes: the offsets of the two evaluations and the divisor, in units of h.
SCHEMES = {"forward": (0, 1, 1), "backward": (-1, 0, 1), "central": (-1, 1, 2)}
#: The order of each scheme's truncation error.
ORDERS = {"forward": 1, "backward": 1, "central": 2}
#: The steps of a sweep, h = 1e-1 ... 1e-12.
SWEEP_HS = tuple(10.0**-k for k in range(1, 13))
NAN = float("nan")


def _as_graph(src) -> Graph:
    g = src if isinstance(src, Graph) else graph(src)
    if any(getattr(x, "shape", None) for x in g.inputs):
        raise GraphError("checks and finite differences take scalar inputs, not matrices")
    return g


def _fmt(v: float) -> str:
    return f"{v:.6g}"


def _fmt_point(point: Mapping) -> str:
    return ", ".join(f"{k} = {_fmt(float(v))}" for k, v in point.items())


def _barred(node: Symbol) -> str:
    """``t3`` -> ``t̄3``: a combining macron over the name's letters."""
    return re.sub(r"^([^\d_]+)", lambda m: m.group(1) + "\u0304", node.name, count=1)


def _output_label(seed: Mapping[Symbol, Expr]) -> str:
    (o, w), *more = seed.items()
    return str(o) if not more and w == 1 else f"({Add(*[w * o for o, w in seed.items()])})"


# ---------------------------------------------------------------- finite differences


class _Numeric:
    """The (weighted) output in plain floats, step by step; one node may be shifted."""

    def __init__(self, g: Graph, seed: Mapping[Symbol, Expr]):
        self.g, self.weights = g, {o: float(w) for o, w in seed.items()}
        self.program = [(s.name, s.expr) for s in g.steps]

    def __call__(self, point: Mapping[Symbol, float], node: Symbol, shift: float) -> float:
        env = {x: numpy.float64(point[x] + shift * (x == node)) for x in self.g.inputs}
        where = _fmt_point(env) + f" with {node} shifted by {shift:g}" * (node in self.g.step)

        def shifted(name: Symbol, expr: Expr) -> None:
            env[name] = numpy.float64(env[name]) + shift * (name == node)

        # NumPy in float64, by the interpreter over the whitelist: no code is generated
        interpret.run(self.program, Point(self.g, env), interpret.ARRAYS, after=shifted)
        for s in self.g.steps:
            if isinstance(env[s.name], Undefined):
                raise EvaluationError(f"step {s} is undefined at {where}")
        return float(sum(w * env[o] for o, w in self.weights.items()))

    def difference(self, point, node: Symbol, h: float, scheme: str) -> tuple[float, ...]:
        """The estimate, and the two values it divides: ``(f_hi - f_lo) / (k h)``."""
        lo, hi, div = SCHEMES[scheme]
        try:
            f_lo, f_hi = self(point, node, lo * h), self(point, node, hi * h)
        except EvaluationError as e:
            message = f"the {scheme} difference for {node} with h = {h:g} leaves the domain"
            raise EvaluationError(f"{message}: {e}") from None
        return (f_hi - f_lo) / (div * h), f_lo, f_hi


class _Setup(NamedTuple):
    graph: Graph
    seed: dict
    nodes: tuple[Symbol, ...]
    point: dict
    exact: dict
    fn: _Numeric


def _setup(src, at: Mapping, wrt, output, scheme: str) -> _Setup:
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {', '.join(SCHEMES)}, not {scheme!r}")
    g = _as_graph(src)
    rv = g.reverse(output)
    ev = rv.evaluate(at)
    keys = g.inputs if wrt is None else [wrt] if isinstance(wrt, str | Symbol) else wrt
    nodes = tuple(g.symbol(k) for k in keys)
    exact = naming.NameDict({n: ev.adjoints[n] for n in nodes})
    point = naming.NameDict({x: ev.values[x] for x in g.inputs})
    return _Setup(g, dict(rv.seed), nodes, point, exact, _Numeric(g, rv.seed))


@dataclass(frozen=True)
class FiniteDifference:
    """Finite-difference estimates of ``∂f/∂x`` at a point, next to the exact values.

    ``evaluations[x]`` holds the two values of ``f`` the estimate divides.
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
    setup: _Setup = field(repr=False, compare=False)

    def __str__(self) -> str:
        div = f"{self.h:g}" if SCHEMES[self.scheme][2] == 1 else f"(2·{self.h:g})"
        lines = [f"{self.scheme} differences, h = {self.h:g}, at {_fmt_point(self.at)}:"]
        for n, est in self.estimates.items():
            lo, hi = self.evaluations[n]
            fd = f"∂{self.output}/∂{n} ≈ ({_fmt(hi)} − {_fmt(lo)})/{div} = {_fmt(est)}"
            error = f"error {self.abs_error[n]:.3g} ({self.rel_error[n]:.3g} relative)"
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
        The point, ``{input name or symbol: number}``.
    h, scheme
        The step, and ``"forward"`` ``(f(x+h) − f(x))/h``, ``"backward"`` or ``"central"``.
    wrt
        A node or a list of nodes (default: the inputs); for a step ``t`` the estimate
        approximates its adjoint ``t̄``.
    output
        For several outputs: the one to differentiate, or weights, as in ``g.reverse``.

    Raises
    ------
    EvaluationError
        If the point, or a perturbed point, is outside the function's domain.

    Examples
    --------
    >>> print(finite_difference("x**2", at={"x": 3}, h=0.5))
    forward differences, h = 0.5, at x = 3:
      ∂f/∂x ≈ (12.25 − 9)/0.5 = 6.5   exact 6, error 0.5 (0.0833 relative)
    """
    s = _setup(src, at, wrt, output, scheme)
    runs = {n: s.fn.difference(s.point, n, h, scheme) for n in s.nodes}
    est = naming.NameDict({n: r[0] for n, r in runs.items()})
    err = naming.NameDict({n: abs(est[n] - s.exact[n]) for n in s.nodes})
    rel = naming.NameDict({n: err[n] / abs(s.exact[n]) if s.exact[n] else NAN for n in err})
    evaluations = naming.NameDict({n: r[1:] for n, r in runs.items()})
    label = _output_label(s.seed)
    return FiniteDifference(scheme, h, s.point, label, est, s.exact, err, rel, evaluations, s)


@dataclass(frozen=True)
class FiniteDifferenceSweep:
    """Errors over many steps ``h``, largest first (NaN where a step leaves the domain).

    ``order[x]`` is the slope of log error against log h where truncation dominates
    (None when it is too small to measure); ``floor[x]`` is ``(h, error)`` at the
    smallest error, where round-off takes over.
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

    def __str__(self) -> str:
        names = [f"∂{self.output}/∂{n}" for n in self.exact]
        lines = [f"{self.scheme} differences at {_fmt_point(self.at)}: the error of each"]
        lines.append(f"{'h':>8}" + "".join(f"{n:>14}" for n in names))
        for i, h in enumerate(self.hs):
            lines.append(f"{h:>8.0e}" + "".join(f"{e[i]:>14.3e}" for e in self.errors.values()))
        for name, n in zip(names, self.exact, strict=True):
            p, (h, e) = self.order[n], self.floor[n]
            order = "order not measurable" if p is None else f"error ~ h^{p:.2f}"
            expected = f"O(h^{ORDERS[self.scheme]}) expected"
            lines.append(f"{name}: {order} ({expected}); round-off floor at h = {h:.0e} ({e:.2e})")
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


def _sweep(s: _Setup, scheme: str, hs) -> FiniteDifferenceSweep:
    hs = SWEEP_HS if hs is None else tuple(sorted(map(float, hs), reverse=True))
    estimates, errors, order, floor = {}, {}, {}, {}
    for n in s.nodes:
        row = []
        for h in hs:
            try:
                row.append(s.fn.difference(s.point, n, h, scheme)[0])
            except EvaluationError:
                row.append(NAN)
        estimates[n], errors[n] = tuple(row), tuple(abs(e - s.exact[n]) for e in row)
        order[n], floor[n] = _order(hs, errors[n])
    tables = map(naming.NameDict, (estimates, errors, order, floor))
    return FiniteDifferenceSweep(scheme, hs, s.point, _output_label(s.seed), s.exact, *tables)


def finite_difference_sweep(
    src, at: Mapping, hs=None, scheme: str = "forward", wrt=None, output=None
) -> FiniteDifferenceSweep:
    """Finite differences for h = 1e-1 ... 1e-12 (or ``hs``): error order and round-off floor.

    The parameters are those of :func:`finite_difference`.

    Examples
    --------
    >>> sweep = finite_difference_sweep("exp(x)", at={"x": 0.5}, scheme="central")
    >>> round(sweep.order["x"]), 1e-8 <= sweep.floor["x"][0] <= 1e-3
    (2, True)
    """
    return _sweep(_setup(src, at, wrt, output, scheme), scheme, hs)
