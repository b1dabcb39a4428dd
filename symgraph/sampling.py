"""Points a symbolic claim is compared at: a few readable ones, then many random ones.

The readable points (3 decimals, in [-2, 2.5], the same every call) make a counterexample
easy to read; the random ones, fresh every call unless a seed is given, are drawn from
continuous distributions across scales and signs, so that no fixed grid can be fitted.
Of every batch of :data:`RANDOM_POINTS` (fewer for a graph of many steps, see
:func:`random_count`), a third is ``normal(0, 1.5)``; the rest is
``±10**u``, with ``u`` stratified over (-3, 3) for each input separately (a Latin
hypercube): every input takes every scale from 1e-3 to 1e3, with both signs, every time.

>>> print(Sampling(seed=7, readable=8, random=24))  # doctest: +ELLIPSIS
32 points: 8 readable (3 decimals in [-2, 2.5]) and 24 random (...); rng=7 draws them again
>>> next(random_points(2, 7)) == next(random_points(2, 7))
True
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator
from dataclasses import dataclass

import numpy

#: Readable and random points a symbolic claim is compared at.
READABLE_POINTS, RANDOM_POINTS = 8, 24
#: Candidate points tried for each kind, before settling for fewer inside the domain.
MAX_TRIES = 400
#: The random coordinates: the normal's spread, and the exponents of the log-uniform part.
NORMAL_SCALE, LOG10_RANGE = 1.5, (-3.0, 3.0)
#: Step evaluations the random points may cost: a larger graph gets fewer (at least 8).
SAMPLE_STEPS = 2400


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
