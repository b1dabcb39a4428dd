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
t2 = Max(u1, u2) at a kink (u1 = 1, u2 = 1): derivatives split evenly
"""

from __future__ import annotations

import cmath
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import sympy
from sympy import Basic, Expr, Float, Symbol
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from . import naming, numeric
from .functions import relu
from .graph import Graph, Step
from .rules import KINK_TOL, kink_pieces, local_partial

#: Elementwise operations whose entries can sit at a kink (at 0).
ELEMENTWISE_KINKS = (relu, sympy.Abs, sympy.sign, sympy.Heaviside)

#: Kink conventions: how the derivative through a non-smooth step is taken at a kink.
CONVENTIONS = {
    "split": "derivatives split evenly",
    "zero": "derivative taken as zero",
    "first": "first piece takes the whole derivative",
    "raise": "refused",
}
CONVENTION_DOCS = {
    "split": "the average of the one-sided derivatives: a max/min tie splits the derivative "
    "evenly between the tied arguments (SymPy's Heaviside(0) = 1/2, PyTorch's maximum), "
    "relu'(0) = 1/2 and |x|'(0) = 0 (the midpoints of their subdifferentials)",
    "zero": "the derivative through the kinked step is 0 (PyTorch's relu'(0) = 0, |x|'(0) = 0; "
    "at a max tie both arguments get 0, which is not a subgradient there)",
    "first": "the first piece takes it all: the first tied argument of max/min in SymPy's "
    "argument order (CasADi's choice), the left-hand side of relu and |x| "
    "(relu'(0) = 0, |x|'(0) = -1) and the first Piecewise branch listed",
    "raise": "refuse to differentiate at a kink: raise KinkError",
}


class EvaluationError(ValueError):
    """A point outside a step's domain, or a bad point (missing or non-numeric values)."""


class KinkError(EvaluationError):
    """Raised at a kink under the ``kink="raise"`` convention."""


class KinkWarning(UserWarning):
    """Issued when a derivative is evaluated at a kink."""


@dataclass(frozen=True)
class Kink:
    """A step evaluated where it is not differentiable, and the convention applied."""

    step: Step
    pieces: tuple[Expr, ...]
    at: dict[Symbol, float]
    convention: str
    partials: dict[Symbol, float] = field(default_factory=dict)
    jump: bool = False

    def __str__(self) -> str:
        kind = "a jump" if self.jump else "a kink"
        return f"{self.step} at {kind} ({_fmt_point(self.at)}): {CONVENTIONS[self.convention]}"


def _all_equal(values: list[float]) -> bool:
    return all(v == values[0] for v in values)


def _fmt(v) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, np.ndarray):
        return np.array2string(v.ravel() if 1 in v.shape else v, precision=6, separator=", ")
    return f"{float(v):.12g}"


# ---------------------------------------------------------------- numbers


def _number(expr: Expr, env: Mapping, what: str) -> float:
    """``expr`` at the point as a float, or an EvaluationError saying what went wrong."""
    subs = {s: Float(env[s]) for s in expr.free_symbols if s in env}
    value = sympy.N(expr.xreplace(subs)) if expr.free_symbols or not expr.is_Float else expr
    missing = value.free_symbols
    if missing:
        raise EvaluationError(f"{what}: no value for {', '.join(sorted(map(str, missing)))}")
    try:
        c = complex(value)
    except TypeError:
        c = complex("nan")
    if not cmath.isfinite(c):
        raise EvaluationError(f"{what} is undefined here: it evaluates to {value}")
    if abs(c.imag) > 1e-12 * max(1.0, abs(c.real)):
        raise EvaluationError(
            f"{what} is outside its real domain here: it evaluates to the complex number {c}"
        )
    return c.real


def _array(expr: Basic, env: Mapping, what: str, convention: str):
    """The NumPy value of a matrix expression; an EvaluationError on NaN or inf entries."""
    local = {s: env[s] for s in expr.free_symbols if s in env}
    with np.errstate(all="ignore"):
        try:
            result = numeric.value(expr, local, convention)
        except KeyError as missing:
            raise EvaluationError(f"{what}: no value for {missing.args[0]}") from None
        except np.linalg.LinAlgError as err:
            raise EvaluationError(f"{what} is undefined here: {err}") from None
    if not np.all(np.isfinite(result)):
        raise EvaluationError(f"{what} is undefined here: it has NaN or infinite entries")
    return result


def _input_value(x: Basic, v):
    shape = getattr(x, "shape", None)
    try:
        value = np.asarray(v, dtype=float) if shape else float(v)
    except (TypeError, ValueError):
        kind = f"an array of shape {shape}" if shape else "a real number"
        raise EvaluationError(f"the value of {x} must be {kind}, not {v!r}") from None
    if shape and value.shape != tuple(shape):
        if value.size != shape[0] * shape[1] or 1 not in shape:
            raise EvaluationError(f"{x} has shape {shape}, but its value has shape {value.shape}")
        value = value.reshape(shape)  # a flat vector for a column or row
    return value


def point(g: Graph, at: Mapping) -> dict:
    """Check a point ``{name or symbol: number or array}`` against the graph's inputs."""
    if not isinstance(at, Mapping):
        raise EvaluationError(f"a point is a mapping from input names to numbers, not {at!r}")
    values: dict = {}
    for key, v in at.items():
        x = g.symbol(key)
        if x not in g.inputs:
            raise EvaluationError(f"{x} is a step, not an input; give values for the inputs")
        values[x] = _input_value(x, v)
    missing = [str(x) for x in g.inputs if x not in values]
    if missing:
        raise EvaluationError(f"no value given for {', '.join(missing)}")
    return values


def _describe(step: Step, env: Mapping) -> str:
    at = ", ".join(f"{p} = {_fmt(env[p])}" for p in step.parents)
    return f"step {step}" + (f" (at {at})" if at else "")


def _is_matrix_step(s: Step) -> bool:
    return s.shape is not None or any(getattr(p, "shape", None) for p in s.parents)


def values(g: Graph, at: Mapping, kink: str) -> tuple[dict, dict[Symbol, Kink]]:
    """Value of every node, and the kinks met (with their convention's partials)."""
    if kink not in CONVENTIONS:
        raise EvaluationError(f"kink must be one of {', '.join(CONVENTIONS)}, not {kink!r}")
    env = point(g, at)
    kinks: dict[Symbol, Kink] = {}
    for s in g.steps:
        if _is_matrix_step(s):
            env[s.name] = _array(s.expr, env, _describe(s, env), kink)
            found = _elementwise_kink(s, env, kink)
        else:
            env[s.name] = _number(s.expr, env, _describe(s, env))
            found = _kink(s, env, kink)
        if found:
            kinks[s.name] = found
    return env, kinks


def _kink(s: Step, env: Mapping, convention: str) -> Kink | None:
    def at(e: Expr) -> float:
        return _number(e, env, f"an argument of {s}")

    pieces = kink_pieces(s.expr, at)
    if not pieces:
        return None
    at_point = {p: env[p] for p in s.parents}
    sides = [[at(local_partial(piece, p)) for piece in pieces] for p in s.parents]
    jump = not _all_equal([at(piece) for piece in pieces])
    if not jump and all(_all_equal(side) for side in sides):
        return None  # the pieces join smoothly: no kink after all
    if convention == "raise":
        raise KinkError(f"{s} is at a kink ({_fmt_point(at_point)}): kink='raise' refuses it")
    choose = {
        "split": lambda side: sum(side) / len(side),
        "zero": lambda side: 0.0,
        "first": lambda side: side[0],
    }[convention]
    partials = {p: choose(side) for p, side in zip(s.parents, sides, strict=True)}
    return Kink(s, pieces, at_point, convention, partials, jump)


def _elementwise_kink(s: Step, env: Mapping, convention: str) -> Kink | None:
    """A matrix step applying relu, abs, sign or Heaviside to entries that sit at 0."""
    e = s.expr
    if not isinstance(e, ElementwiseApplyFunction) or not e.function.expr.has(*ELEMENTWISE_KINKS):
        return None
    arg = _array(e.expr, env, f"the argument of {s}", convention)
    entries = [tuple(int(i) for i in ij) for ij in np.argwhere(np.abs(arg) <= KINK_TOL)]
    if not entries:
        return None
    where = {e.expr: "0 at entries " + ", ".join(map(str, entries))}
    if convention == "raise":
        raise KinkError(f"{s} is at a kink ({_fmt_point(where)}): kink='raise' refuses it")
    return Kink(s, (), where, convention)


def _fmt_point(at: Mapping) -> str:
    return ", ".join(f"{p} = {_fmt(v)}" for p, v in at.items())


def _edge(g: Graph, env, kinks, child: Symbol, parent: Symbol, carried, mode: str):
    """The contribution along an edge: ∂child/∂parent times the carried tangent/adjoint
    (by the kink convention where there is one), or the edge's matrix push/pull."""
    edge = (child, parent)
    what = f"the derivative of {g.step[child]}"
    if edge in g.partials:
        slope = (
            kinks[child].partials[parent]
            if child in kinks and kinks[child].partials
            else _number(g.partials[edge], env, what)
        )
        return slope * carried
    if mode == "reverse":
        linear, symbol = g.pullbacks[edge], naming.bar(child)
    else:
        linear, symbol = g.pushforwards[edge], naming.dot(parent)
    convention = kinks[child].convention if child in kinks else "split"
    return _array(linear, {**_local(linear, env), symbol: carried}, what, convention)


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
    return naming.NameDict({k: _plain(v) for k, v in env.items()})


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


def evaluate_graph(g: Graph, at: Mapping, kink: str = "split") -> GraphEvaluation:
    """Values of every node (no derivatives) at ``at``."""
    env, kinks = values(g, at, kink)
    vals = _floats(env)
    outputs = naming.NameDict({o: vals[o] for o in g.outputs})
    return GraphEvaluation(vals, tuple(kinks.values()), kink, outputs)


def evaluate_forward(
    fw, at: Mapping, kink: str = "split", *, warn: bool = True
) -> ForwardEvaluation:
    """Tangents by the forward sweep, numerically, at ``at`` (``warn=False``: no KinkWarning,
    for callers that list ``.kinks`` themselves; no warnings filter is thread-safe)."""
    g = fw.graph
    env, kinks = values(g, at, kink)
    dots = {x: _seed_value(fw, x, env) for x in g.inputs}
    for s in g.steps:
        parts = [_edge(g, env, kinks, s.name, p, dots[p], "forward") for p, _ in fw.terms[s.name]]
        dots[s.name] = sum(parts[1:], parts[0]) if parts else _zero(s.name)
    if warn:
        _warn(kinks)
    tangents = naming.NameDict({n: _plain(v) for n, v in dots.items()})
    derivative = naming.NameDict({o: tangents[o] for o in g.outputs})
    return ForwardEvaluation(_floats(env), tangents, derivative, tuple(kinks.values()), kink)


def _seed_value(fw, x: Basic, env: Mapping):
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
    return _number(seed, env, f"the seed of {x}")


def _zero(node: Basic):
    shape = getattr(node, "shape", None)
    return np.zeros(shape) if shape else 0.0


def evaluate_reverse(
    rv, at: Mapping, kink: str = "split", *, warn: bool = True
) -> ReverseEvaluation:
    """Adjoints by the reverse sweep, numerically, at ``at`` (``warn=False`` as in
    :func:`evaluate_forward`)."""
    g = rv.graph
    env, kinks = values(g, at, kink)
    bars: dict = {}
    for node in rv.adjoints:  # outputs first, inputs last
        parts = [_edge(g, env, kinks, c, node, bars[c], "reverse") for c, _ in rv.terms[node]]
        if node in rv.seed:
            parts.append(_number(rv.seed[node], env, f"the seed of {node}"))
        adjoint = sum(parts[1:], parts[0]) if parts else _zero(naming.bar(node))
        bars[node] = adjoint if getattr(naming.bar(node), "shape", None) else _plain(adjoint)
    if warn:
        _warn(kinks)
    adjoints = naming.NameDict({n: _plain(v) for n, v in bars.items()})
    gradient = naming.NameDict({x: adjoints[x] for x in g.inputs})
    return ReverseEvaluation(_floats(env), adjoints, gradient, tuple(kinks.values()), kink)
