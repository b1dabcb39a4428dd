"""Points a symbolic claim is compared at: a few readable ones, then many random ones.

The readable points (3 decimals, in [-2, 2.5], the same every call) make a counterexample
easy to read; the random ones, fresh every call unless a seed is given, are drawn from
continuous distributions across scales and signs, so that no fixed grid can be fitted:
each coordinate is ``normal(0, 1.5)`` or ``±10**uniform(-3, 3)``, half and half.

>>> print(Sampling(seed=7, readable=8, random=32))  # doctest: +ELLIPSIS
40 points: 8 readable (3 decimals in [-2, 2.5]) and 32 random (...); rng=7 draws them again
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
            f"[-2, 2.5]) and {self.random} random (each coordinate normal(0, {NORMAL_SCALE:g}) "
            f"or ±10^uniform({low}, {high})); rng={self.seed} draws them again"
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


def random_points(n: int, seed: int) -> Iterator[list[float]]:
    """Points whose coordinates are normal or log-uniform in magnitude with a random sign."""
    draw = numpy.random.default_rng(seed)
    for _ in range(MAX_TRIES):
        normal = draw.normal(0.0, NORMAL_SCALE, n)
        sign = numpy.where(draw.random(n) < 0.5, -1.0, 1.0)
        wide = sign * 10.0 ** draw.uniform(*LOG10_RANGE, n)
        yield numpy.where(draw.random(n) < 0.5, normal, wide).tolist()
