"""Verdicts of :func:`symgraph.verify.check.check`: one per claim, and the report on them all.

A report says what was sampled (``report.sampling``) when a verdict rests on numbers.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import NamedTuple

import sympy
from sympy import Basic, Expr

from ..lazynp import np as numpy
from ..printing import text
from ..simplify import TIDY_MAX_OPS, thorough, tree_size
from .sampling import Sampling
from .values import entry, fmt, fmt_point, fmt_value, is_matrix

#: Time budget of a symbolic proof of equivalence, in seconds; the largest pair tried.
PROOF_SECONDS, PROOF_MAX_NODES = 2.0, 2000


class Counterexample(NamedTuple):
    """A point where a claim and the derivative differ, and both values there."""

    point: dict
    claimed: float | numpy.ndarray
    correct: float | numpy.ndarray


@dataclass(frozen=True)
class ClaimResult:
    """The verdict on one claim.

    Attributes
    ----------
    name, label : str
        The node claimed about, and what the claim is (``∂f/∂u1``, ``t̄3 = ∂f/∂t3``).
    claim, correct
        The claim, and the exact derivative: in the inputs (``in_steps``: in step
        names), or a number for a numeric claim.
    verdict, ok
        In words, and whether the claim is right.
    counterexample : Counterexample or None
        A point where the claim is wrong, with the claimed and the correct value.
    departure : str or None
        Where a wrong claim departs from the derivative, when that can be told.
    inherits_from : str or None
        The wrong claim (an earlier step) this claim's error comes from.
    """

    name: str
    claim: Expr | float | numpy.ndarray
    correct: Expr | float | numpy.ndarray
    verdict: str
    ok: bool
    counterexample: Counterexample | None = None
    departure: str | None = None
    label: str = ""
    in_steps: Expr | None = None
    inherits_from: str | None = None

    def __repr__(self) -> str:  # the verdict as it reads, not a dataclass dump
        return str(self)

    def __str__(self) -> str:
        claim = fmt_value(self.claim) if _numbers(self.claim) else _text(self.claim)
        lines = [f"{'✓' if self.ok else '✗'} {self.label} = {claim}: {self.verdict}"]
        if not self.ok and isinstance(self.correct, Basic):
            forms = dict.fromkeys(f for f in (self.in_steps, self.correct) if f is not None)
            lines.append("    correct: " + ", in the inputs ".join(map(text, forms)))
        elif not self.ok and is_matrix(self.correct) and not self.counterexample:
            lines.append(f"    correct: {fmt_value(self.correct)}")
        if self.counterexample:
            adjoint = self.label.split(" = ")[0] if " = " in self.label else self.name  # t̄2
            lines += _counter_lines(adjoint, *self.counterexample)
        return "\n".join(lines + [f"    {self.departure}"] * bool(self.departure))


def _numbers(v) -> bool:
    return isinstance(v, float | numpy.ndarray)


def _counter_lines(name: str, at, claimed, correct) -> list[str]:
    """Where a claim is wrong: the point, and both values there (a matrix on its own line)."""
    if not is_matrix(correct):
        return [f"    at {fmt_point(at)}: claimed {fmt(claimed)}, correct {fmt(correct)}"]
    lines = [f"    at {fmt_point(at)}:", f"      claimed {fmt_value(claimed)}"]
    lines.append(f"      correct {fmt_value(correct)}")
    with numpy.errstate(invalid="ignore"):
        gap = numpy.nan_to_num(numpy.abs(numpy.asarray(claimed) - correct), nan=numpy.inf)
    i = numpy.unravel_index(int(numpy.argmax(gap)), gap.shape)
    lines.append(
        f"      the most at {entry(name, i)}: claimed {fmt(claimed[i])}, correct {fmt(correct[i])}"
    )
    return lines


@dataclass(frozen=True)
class CheckReport(Mapping):
    """Verdicts on claims, output side first; ``ok`` when every claim is right.

    A read-only mapping from the names claimed about to their results, output side first:
    ``report["u1"]`` (or ``report[u1]``) is the result for ``u1``, ``"u1" in report`` says
    whether it was claimed; ``first_wrong`` is the first wrong step.
    """

    results: tuple[ClaimResult, ...]
    sampling: Sampling | None = None

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    @property
    def first_wrong(self) -> ClaimResult | None:
        """The first wrong step: the first wrong claim that does not inherit its error."""
        wrong = [r for r in self.results if not r.ok]
        return next((r for r in wrong if r.inherits_from is None), wrong[0] if wrong else None)

    def __getitem__(self, name) -> ClaimResult:
        found = next((r for r in self.results if r.name == str(name)), None)
        if found is None:
            claimed = ", ".join(r.name for r in self.results)
            raise KeyError(f"no claim was made for {name} (the claims are for {claimed})")
        return found

    def __iter__(self) -> Iterator[str]:
        return (r.name for r in self.results)

    def __len__(self) -> int:
        return len(self.results)

    def __repr__(self) -> str:  # the report as it reads, not a dataclass dump
        return str(self)

    def __str__(self) -> str:
        wrong, n = sum(not r.ok for r in self.results), len(self.results)
        head = "the claim is right" if n == 1 else f"all {n} claims are right"
        if wrong:
            head = f"{wrong} of {n} claims wrong; the first wrong step is {self.first_wrong.label}"
        numeric = any(r.verdict.startswith(("agrees", "undecided")) for r in self.results)
        sampled = [f"sampled at {self.sampling}"] if numeric and self.sampling else []
        return "\n".join([head, *map(str, self.results), *sampled])

    def _repr_markdown_(self) -> str:
        rows = ["| | claim | correct | verdict |", "|---|---|---|---|"]
        for r in self.results:
            shown = [fmt_value(v) if _numbers(v) else _text(v) for v in (r.claim, r.correct)]
            cells = [r.label + " = " + shown[0], shown[1]]  # a matrix of numbers: one line
            note = "; ".join(filter(None, [r.verdict, r.departure])).replace("|", "\\|")
            rows.append(
                f"| {'✓✗'[not r.ok]} | " + " | ".join(f"`{c}`" for c in cells) + f" | {note} |"
            )
        return "\n".join(rows)


# ---------------------------------------------------------------- proofs


def proven_equal(a: Expr | None, b: Expr | None) -> bool:
    """Equal by cheap means first, then by ``sympy.simplify`` within a time budget.

    Not tried (False) for a form too large to write out (None) or to compare in time.
    """
    if a is None or b is None or tree_size(a - b, PROOF_MAX_NODES) > PROOF_MAX_NODES:
        return False
    d = (a - b).rewrite(sympy.exp)
    try:
        if d == 0 or (sympy.count_ops(d) <= TIDY_MAX_OPS and sympy.cancel(sympy.expand(d)) == 0):
            return True
    except sympy.PolynomialError:
        pass
    return thorough(d, seconds=PROOF_SECONDS) == 0


def cheaply_equal(a: Expr, b: Expr) -> bool:
    """Equal as polynomials or rational functions of their symbols, tried only when small."""
    if tree_size(a - b, TIDY_MAX_OPS) > TIDY_MAX_OPS:
        return False
    d = a - b
    try:
        return d == 0 or sympy.cancel(sympy.expand(d)) == 0
    except sympy.PolynomialError:
        return False


def _text(value) -> str:
    """An expression without SymPy's class names (:func:`symgraph.printing.text`)."""
    return text(value) if isinstance(value, Basic) else str(value)
