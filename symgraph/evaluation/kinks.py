"""Kinks: where a step is not differentiable, what kind of kink it is, the conventions.

The test is the rule table's kink rules, decided exactly by :class:`symgraph.evaluation.exact.Point`
(elementwise matrix steps use :func:`symgraph.rules.tied` on their entries, the same
test on floats).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import sympy
from sympy import Expr, Symbol
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from ..graph import Step
from ..lazynp import np
from ..rules import UnsupportedOperationError, kink_pieces, local_partial, lookup, tied
from . import numeric
from .conventions import CONVENTIONS, named  # noqa: F401  (re-exported)
from .exact import EvaluationError, Point, Undefined


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
        return f"{self.step} at {self.kind} ({fmt_point(self.at)}): {named(self.convention)}"


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
    if named(convention).choose is None:
        raise KinkError(f"{s} is at {kind} ({fmt_point(at_point)}): kink={convention!r} refuses it")
    choose = named(convention).choose
    partials = {p: choose(side) for p, side in zip(s.parents, sides, strict=True)}
    return Kink(s, pieces, at_point, convention, partials, jump, kind)


def _defined(here: Point, piece: Expr) -> bool:
    try:
        here.number(piece, "a piece")
    except EvaluationError:
        return False
    return True


def elementwise_kink(s: Step, array: Callable, convention: str, kink_tol: float) -> Kink | None:
    """A matrix step applying a function with a kink rule (relu, abs, sign, max, ...)
    entry by entry, where some entries sit on the kink: the same kink rules as scalar
    steps, decided on each entry's floats by the same test, :func:`symgraph.rules.tied`."""
    e = s.expr
    if not isinstance(e, ElementwiseApplyFunction):
        return None
    (v,) = e.function.variables
    kinked = [
        sub
        for sub in sympy.preorder_traversal(e.function.expr)
        if isinstance(sub, Expr) and _has_kink_rule(type(sub))
    ]
    if not kinked:
        return None
    entries = np.asarray(array(e.expr), dtype=float)
    found: dict[tuple, str] = {}
    cache: dict = {}
    for index in np.ndindex(entries.shape):
        at = _Entry(v, entries, index, kink_tol, cache)
        for sub in kinked:
            if index not in found and kink_pieces(sub, at):
                found[index] = lookup(type(sub)).kind
    if not found:
        return None
    kind = next(iter(found.values()))
    where = {e.expr: "kinked at entries " + ", ".join(map(str, found))}
    if named(convention).choose is None:
        raise KinkError(f"{s} is at {kind} ({fmt_point(where)}): kink={convention!r} refuses it")
    return Kink(s, (), where, convention, kind=kind)


def _has_kink_rule(cls: type) -> bool:
    try:
        return lookup(cls).kink is not None
    except UnsupportedOperationError:
        return False


class _Entry:
    """One entry of an elementwise step, as a kink rule sees a point: ``at(e)`` the float
    value of ``e`` there, ``compare`` by :func:`symgraph.rules.tied`. Each expression is
    evaluated once, over all entries (NumPy, into the shared ``cache``), then read entry
    by entry."""

    def __init__(self, variable, entries, index: tuple, kink_tol: float, cache: dict):
        self.variable, self.entries, self.index = variable, entries, index
        self.kink_tol, self.cache = kink_tol, cache

    def __call__(self, expr: Expr) -> float:
        if expr not in self.cache:
            values = numeric.on_entries(expr, self.variable, self.entries)
            self.cache[expr] = np.broadcast_to(values, self.entries.shape)
        return float(self.cache[expr][self.index])

    def compare(self, a: Expr, b: Expr) -> int:
        x, y = self(a), self(b)
        return 0 if tied(x, y, self.kink_tol) else (1 if x > y else -1)

    def truth(self, cond) -> bool:
        return bool(self(cond))

    def locally_constant(self, r) -> bool:
        return False


def fmt_point(at: Mapping) -> str:
    return ", ".join(f"{p} = {fmt(v)}" for p, v in at.items())
