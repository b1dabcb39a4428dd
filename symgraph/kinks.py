"""Kinks: where a step is not differentiable, what kind of kink it is, the conventions.

The test is the rule table's kink rules, decided exactly by :class:`symgraph.exact.Point`
(elementwise matrix steps use :func:`symgraph.rules.tied` on their entries, the same
test on floats).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import sympy
from sympy import Expr, Symbol
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from .exact import EvaluationError, Point, Undefined
from .functions import relu
from .graph import Step
from .rules import kink_pieces, local_partial, lookup, tied

#: Elementwise operations whose entries can sit at a kink (at 0).
ELEMENTWISE_KINKS = (relu, sympy.Abs, sympy.sign, sympy.Heaviside)
_ELEMENTWISE_KINDS = {
    relu: "the kink of relu at 0",
    sympy.Abs: "the kink of |x| at 0",
    sympy.sign: "a jump of sign",
    sympy.Heaviside: "a jump of Heaviside",
}

#: Kink conventions: how the derivative through a non-smooth step is taken at a kink.
CONVENTIONS = {
    "split": "derivatives split evenly",
    "zero": "derivative taken as zero",
    "first": "first piece takes the whole derivative",
    "raise": "refused",
}


class KinkError(EvaluationError):
    """Raised at a kink under the ``kink="raise"`` convention."""


class KinkWarning(UserWarning):
    """Issued when a derivative is evaluated at a kink."""


@dataclass(frozen=True)
class Kink:
    """A step evaluated where it is not differentiable, and the convention applied.

    ``kind`` names it ("a tie of max", "relu at 0", "a jump of sign", "a Piecewise
    boundary"); ``at`` holds the values of the step's arguments, printed to full
    precision so that arguments that differ never look equal.
    """

    step: Step
    pieces: tuple[Expr, ...]
    at: dict[Symbol, float]
    convention: str
    partials: dict[Symbol, float] = field(default_factory=dict)
    jump: bool = False
    kind: str = "a kink"

    def __str__(self) -> str:
        return f"{self.step} at {self.kind} ({fmt_point(self.at)}): {CONVENTIONS[self.convention]}"


def _all_equal(values: list[float]) -> bool:
    return all(v == values[0] for v in values)


def fmt(v) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, np.ndarray):
        return np.array2string(v.ravel() if 1 in v.shape else v, precision=6, separator=", ")
    if isinstance(v, Undefined):
        return "undefined"
    text = repr(float(v))  # the shortest text that reads back as the same float
    return text[:-2] if text.endswith(".0") else text


def step_kink(s: Step, here: Point, convention: str) -> Kink | None:
    """The kink of a scalar step at the point (its pieces, by the rule table), or None."""
    pieces = kink_pieces(s.expr, here)
    if not pieces:
        return None
    pieces = tuple(p for p in pieces if _defined(here, p))  # a piece undefined here is moot
    if len(pieces) < 2:
        return None

    def at(e: Expr) -> float:
        return here.number(e, f"an argument of {s}")

    at_point = {p: here.env[p] for p in s.parents}
    sides = [[at(local_partial(piece, p)) for piece in pieces] for p in s.parents]
    jump = not _all_equal([at(piece) for piece in pieces])
    if not jump and all(_all_equal(side) for side in sides):
        return None  # the pieces join smoothly: no kink after all
    kind = lookup(type(s.expr)).kind
    if convention == "raise":
        raise KinkError(f"{s} is at {kind} ({fmt_point(at_point)}): kink='raise' refuses it")
    choose = {
        "split": lambda side: sum(side) / len(side),
        "zero": lambda side: 0.0,
        "first": lambda side: side[0],
    }[convention]
    partials = {p: choose(side) for p, side in zip(s.parents, sides, strict=True)}
    return Kink(s, pieces, at_point, convention, partials, jump, kind)


def _defined(here: Point, piece: Expr) -> bool:
    try:
        here.number(piece, "a piece")
    except EvaluationError:
        return False
    return True


def elementwise_kink(s: Step, array: Callable, convention: str, kink_tol: float) -> Kink | None:
    """A matrix step applying relu, abs, sign or Heaviside to entries that sit at 0
    (by the same test as scalar steps, :func:`symgraph.rules.tied`)."""
    e = s.expr
    if not isinstance(e, ElementwiseApplyFunction) or not e.function.expr.has(*ELEMENTWISE_KINKS):
        return None
    arg = array(e.expr)
    entries = [tuple(int(i) for i in ij) for ij in np.argwhere(tied(arg, 0.0, kink_tol))]
    if not entries:
        return None
    where = {e.expr: "0 at entries " + ", ".join(map(str, entries))}
    kind = _ELEMENTWISE_KINDS.get(e.function.expr.func, "a kink")
    if convention == "raise":
        raise KinkError(f"{s} is at {kind} ({fmt_point(where)}): kink='raise' refuses it")
    return Kink(s, (), where, convention, kind=kind)


def fmt_point(at: Mapping) -> str:
    return ", ".join(f"{p} = {fmt(v)}" for p, v in at.items())
