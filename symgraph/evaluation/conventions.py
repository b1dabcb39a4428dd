"""Kink conventions: how the derivative through a non-smooth step is taken at a kink.

One record per convention, read by every path: evaluation (:mod:`symgraph.evaluation.kinks`), the
numeric interpreter (Heaviside(0) and sign(0) inside elementwise derivatives), compiled
code (which supports only the conventions that need no kink detection), the CLI and the
exports (the description).

>>> CONVENTIONS["split"].choose([0.0, 1.0]), str(CONVENTIONS["split"])
(0.5, 'derivatives split evenly')
>>> named("first").sign_at_zero
-1.0
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..errors import SymgraphError


class ConventionError(SymgraphError):
    """An unknown kink convention."""


@dataclass(frozen=True)
class Convention:
    """A kink convention.

    ``choose(sides)`` gives the derivative through a kinked step from the one-sided
    derivatives of its pieces (in order: first argument or left-hand side first), or is
    None to refuse (``KinkError``); ``heaviside_at_zero`` and ``sign_at_zero`` are what
    Heaviside(0) and sign(0) become in derivatives taken entry by entry; ``compiled``
    says whether compiled code supports it (compiled code does not detect kinks).
    """

    name: str
    description: str
    explanation: str
    choose: Callable[[Sequence[float]], float] | None
    heaviside_at_zero: float
    sign_at_zero: float
    compiled: bool

    def __str__(self) -> str:
        return self.description


def _mean(sides: Sequence[float]) -> float:
    return sum(sides) / len(sides)


#: The conventions, by name.
CONVENTIONS: dict[str, Convention] = {
    c.name: c
    for c in (
        Convention(
            "split",
            "derivatives split evenly",
            "the average of the one-sided derivatives: a max/min tie splits the derivative "
            "evenly between the tied arguments (SymPy's Heaviside(0) = 1/2, PyTorch's "
            "maximum), relu'(0) = 1/2 and |x|'(0) = 0 (the midpoints of their subdifferentials)",
            _mean,
            0.5,
            0.0,
            True,
        ),
        Convention(
            "zero",
            "derivative taken as zero",
            "the derivative through the kinked step is 0 (PyTorch's relu'(0) = 0, "
            "|x|'(0) = 0; at a max tie both arguments get 0, which is not a subgradient there)",
            lambda sides: 0.0,
            0.0,
            0.0,
            True,
        ),
        Convention(
            "first",
            "first piece takes the whole derivative",
            "the first piece takes it all: the first tied argument of max/min in SymPy's "
            "argument order (CasADi's choice), the left-hand side of relu and |x| "
            "(relu'(0) = 0, |x|'(0) = -1) and the first Piecewise branch listed",
            lambda sides: sides[0],
            0.0,
            -1.0,
            False,
        ),
        Convention(
            "raise",
            "refused",
            "refuse to differentiate at a kink: raise KinkError",
            None,
            0.5,
            0.0,
            False,
        ),
    )
}


def named(convention: Convention | str) -> Convention:
    """The convention called ``convention`` (a Convention passes through)."""
    if isinstance(convention, Convention):
        return convention
    found = CONVENTIONS.get(convention) if isinstance(convention, str) else None
    if found is None:
        raise ConventionError(f"kink must be one of {', '.join(CONVENTIONS)}, not {convention!r}")
    return found
