"""Points a symbolic claim is compared at: a few readable ones, then many random ones.

The readable points (3 decimals, in [-2, 2.5], the same every call) make a counterexample
easy to read; the random ones, fresh every call unless a seed is given, are drawn from
continuous distributions across scales and signs, so that no fixed grid can be fitted.
Of every batch of :data:`RANDOM_POINTS` (fewer for a graph of many steps, see
:func:`random_count`), a third is ``normal(0, 1.5)``; the rest is
``±10**u``, with ``u`` stratified over (-3, 3) for each input separately (a Latin
hypercube): every input takes every scale from 1e-3 to 1e3, with both signs, every time.
:func:`samples` keeps the points inside the domain and off kinks, with the exact numbers
there (:class:`Sample`); :func:`at_samples` is a claim's value at each of them.
A matrix input's entries are coordinates like any scalar input's (each takes every
scale and sign), filled into its shape row by row; a matrix claim's value at a sample
is an array, compared entry by entry.

>>> print(Sampling(seed=7, readable=8, random=24))  # doctest: +ELLIPSIS
32 points: 8 readable (3 decimals in [-2, 2.5]) and 24 random (...); rng=7 draws them again
>>> next(random_points(2, 7)) == next(random_points(2, 7))
True
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from types import MappingProxyType
from typing import NamedTuple

from sympy import Expr

from .. import naming
from ..evaluation import interpret
from ..evaluation.evaluate import evaluate_sweep
from ..evaluation.exact import EvaluationError
from ..lazynp import np as numpy

#: Readable and random points a symbolic claim is compared at.
READABLE_POINTS, RANDOM_POINTS = 8, 24
#: Candidate points tried for each kind, before settling for fewer inside the domain.
MAX_TRIES = 400
#: The random coordinates: the normal's spread, and the exponents of the log-uniform part.
NORMAL_SCALE, LOG10_RANGE = 1.5, (-3.0, 3.0)
#: Step evaluations the random points may cost: a larger graph gets fewer (at least 8).
SAMPLE_STEPS = 2400
NAN = float("nan")
_NO_CLAIMS: Mapping = MappingProxyType({})


def random_count(steps: int) -> int:
    """How many random points a graph of ``steps`` steps is compared at."""
    return max(8, min(RANDOM_POINTS, SAMPLE_STEPS // max(1, steps)))


@dataclass(frozen=True)
class Sampling:
    """How the points were drawn: counts inside the domain, and the seed to draw them again."""

    seed: int
    readable: int
    random: int

    def __str__(self) -> str:
        low, high = (f"{e:g}" for e in LOG10_RANGE)
        return (
            f"{self.readable + self.random} points: {self.readable} readable (3 decimals in "
            f"[-2, 2.5]) and {self.random} random (a third normal(0, {NORMAL_SCALE:g}), the "
            f"rest ±10^u with u stratified over ({low}, {high})); rng={self.seed} draws them again"
        )


def fresh_seed(rng) -> int:
    """``rng`` if given (a non-negative int), else a fresh seed, so a run can be repeated."""
    if rng is None:
        return int(numpy.random.SeedSequence().entropy % 2**63)
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool) and rng >= 0:
        return int(rng)
    raise ValueError(f"rng must be a non-negative integer seed or None (fresh), not {rng!r}")


def readable_points(n: int) -> Iterator[list[float]]:
    """Points with 3 decimals, alternately in [-2, 2] and [0.05, 2.5]; the same every call."""
    draw = numpy.random.default_rng(0)
    for k in range(MAX_TRIES):
        low, high = (-2.0, 2.0) if k % 2 == 0 else (0.05, 2.5)
        yield numpy.round(draw.uniform(low, high, n), 3).tolist()


def random_points(n: int, seed: int, count: int = RANDOM_POINTS) -> Iterator[list[float]]:
    """Batches of ``count`` points: a third normal, the rest ±10**u, u stratified per input."""
    draw = numpy.random.default_rng(seed)
    low, high = LOG10_RANGE
    strata = count // 3
    width = (high - low) / strata
    for _ in range(MAX_TRIES // count):
        wide = numpy.empty((2 * strata, n))
        for j in range(n):  # each stratum once with each sign, in a random order
            k = numpy.concatenate([draw.permutation(strata), draw.permutation(strata)])
            exponents = low + (k + draw.random(2 * strata)) * width
            signs = numpy.repeat([1.0, -1.0], strata)
            wide[:, j] = (signs * 10.0**exponents)[draw.permutation(2 * strata)]
        normal = draw.normal(0.0, NORMAL_SCALE, (count - 2 * strata, n))
        yield from numpy.concatenate([normal, wide]).tolist()


# ---------------------------------------------------------------- the samples


class Sample(NamedTuple):
    """One point a claim is compared at, and the exact numbers there."""

    point: Mapping  # input -> float
    values: Mapping  # node -> float
    adjoints: Mapping  # node -> float
    exact: Mapping  # node -> the derivative a claim is judged against
    names: dict  # node name and adjoint name (tbar_3) -> float: a claim's variables


def sample(rv, forwards: Mapping, point: Mapping, kink: str) -> Sample:
    """The numbers at ``point`` of the reverse sweep ``rv``; the input derivatives from
    the forward sweeps ``forwards`` (by input) instead, if any."""
    ev = evaluate_sweep(rv, point, kink, strict=True)  # every claim judged has a number
    exact = dict(ev.adjoints)
    for x, fw in forwards.items():
        d = evaluate_sweep(fw, point, kink, strict=True).derivative
        exact[x] = sum(float(w) * d[o] for o, w in rv.seed.items())
    inputs = naming.NameDict({x: ev.values[x] for x in rv.graph.inputs})
    names = {n.name: v for n, v in ev.values.items()}
    names.update((naming.bar(n).name, v) for n, v in ev.adjoints.items())
    return Sample(inputs, ev.values, ev.adjoints, exact, names)


def _shaped_point(inputs, flat: list[float]) -> dict:
    """The inputs' values from one flat list: a matrix input takes as many as it has entries."""
    point, k = {}, 0
    for x in inputs:
        shape = getattr(x, "shape", None)
        size = int(shape[0] * shape[1]) if shape else 1
        chunk = flat[k : k + size]
        point[x] = numpy.reshape(chunk, tuple(map(int, shape))) if shape else chunk[0]
        k += size
    return point


def entries(inputs) -> int:
    """How many numbers a point of ``inputs`` has: a matrix input counts its entries."""
    return sum(int(s[0] * s[1]) if (s := getattr(x, "shape", None)) else 1 for x in inputs)


def _inside(rv, forwards: Mapping, candidates: Iterable[list[float]]) -> Iterator[Sample]:
    """The samples at the candidates inside the domain and off kinks."""
    for values in candidates:
        try:
            yield sample(rv, forwards, _shaped_point(rv.graph.inputs, values), "raise")
        except (EvaluationError, ArithmeticError):  # outside the domain, or overflows
            continue


def samples(rv, forwards: Mapping, at: Mapping | None, seed: int) -> tuple[tuple, Sampling]:
    """The point given (``at``, if any), then readable points, then random ones (``seed``);
    and how they were drawn. A point outside the domain or at a kink is passed over."""
    given = []
    if at is not None:
        try:
            given.append(sample(rv, forwards, at, "split"))
        except ArithmeticError as e:  # a value too large for a float, say
            raise EvaluationError(f"cannot evaluate at the point given (at=): {e}") from None
    n, count = entries(rv.graph.inputs), random_count(len(rv.graph.steps))
    readable = list(islice(_inside(rv, forwards, readable_points(n)), READABLE_POINTS))
    wide = list(islice(_inside(rv, forwards, random_points(n, seed, count)), count))
    return (*given, *readable, *wide), Sampling(seed, len(readable), len(wide))


def _real(expr: Expr, env: Mapping[str, object]):
    """``expr`` at the point (``env``: values by name): a float, or an array for a matrix;
    NaN (entries) where it is not finite and real."""
    shape = getattr(expr, "shape", None)
    try:
        local = {s: _number(env[s.name]) for s in expr.free_symbols}
        v = interpret.value(expr, local, interpret.MIXED)
        return numpy.asarray(v, dtype=float).reshape(shape) if shape else float(v)
    except (KeyError, ValueError, TypeError, ArithmeticError, AttributeError):
        # EvaluationError is a ValueError: outside the domain, or overflows
        return numpy.full(tuple(map(int, shape)), NAN) if shape else NAN


def _number(v):
    return v if isinstance(v, numpy.ndarray) else float(v)


def at_samples(expr: Expr, drawn: Iterable[Sample], claimed: Mapping = _NO_CLAIMS):
    """``expr`` at every sample, NaN where not a finite real; an adjoint name (``tbar_3``)
    takes the person's own values if ``claimed`` (node -> values at the samples) has them.

    One row a sample: for a matrix ``expr``, an array ``(samples, rows, columns)``.
    """
    mine = {naming.bar(n).name: v for n, v in claimed.items()}
    envs = ({**s.names, **{k: v[i] for k, v in mine.items()}} for i, s in enumerate(drawn))
    return numpy.array([_real(expr, env) for env in envs])
