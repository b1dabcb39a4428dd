"""One interpreter for numbers: a straight-line program run over an environment.

A program is a list of ``(name, expr)`` lines (a graph's steps, or a sweep's); running
it stores each line's value in the environment under its name. How an expression
becomes a number is an :class:`Implementation`: :data:`EXACT` (SymPy floats with
exact decisions and domain checks, :meth:`symgraph.evaluation.exact.Point.number`), :data:`ARRAYS`
(NumPy, by :mod:`symgraph.evaluation.numeric`'s interpreter over the whitelist) or :data:`MIXED`
(evaluation's choice: EXACT for scalars, ARRAYS for lines that involve matrices).
A line whose value fails is marked :class:`~symgraph.evaluation.exact.Undefined`: its failure is
raised only where the value is used, so a Piecewise branch not taken is never an error.

>>> import sympy
>>> x, y = sympy.symbols("x y", real=True)
>>> env = run([(y, sympy.exp(x) + 1)], Point.free({x: 0.0}), EXACT)
>>> env[y]
2.0
>>> value(sympy.log(x), {x: -1.0})
Traceback (most recent call last):
    ...
symgraph.evaluation.exact.EvaluationError: log(x) is outside its real domain here...
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from sympy import Basic

from ..lazynp import np
from . import conventions, numeric
from .conventions import Convention
from .exact import EvaluationError, OverflowEvaluationError, Point, Undefined
from .kinks import KinkError

#: A straight-line program: each line's name and the expression it takes.
Program = Iterable[tuple[Basic, Basic]]


@dataclass(frozen=True)
class Implementation:
    """How an expression becomes a number at a point: ``number(expr, point, what,
    convention)`` is its value, or an EvaluationError naming ``what`` went wrong."""

    name: str
    description: str
    number: Callable[[Basic, Point, str, Convention], object]

    def __repr__(self) -> str:
        return f"<implementation {self.name}: {self.description}>"


def _exact(expr: Basic, at: Point, what: str, convention: Convention) -> float:
    return at.number(expr, what)


@lru_cache(maxsize=4096)
def _interpreter(expr: Basic, convention: Convention) -> Callable[[Mapping], object]:
    # the whitelist is walked once per expression, not once per point
    return numeric.interpreter(expr, convention)


def _arrays(expr: Basic, at: Point, what: str, convention: Convention):
    """The NumPy value of ``expr``; an EvaluationError on NaN, inf or complex entries."""
    local = {s: at.env[s] for s in expr.free_symbols if s in at.env}
    for v in local.values():
        if isinstance(v, Undefined):
            raise v.error
    with np.errstate(all="ignore"):
        try:
            result = _interpreter(expr, convention)(local)
        except KeyError as missing:
            raise EvaluationError(f"{what}: no value for {missing.args[0]}") from None
        except (np.linalg.LinAlgError, ArithmeticError) as err:
            raise EvaluationError(f"{what} is undefined here: {err}") from None
    if np.iscomplexobj(result) and np.any(np.imag(result) != 0):
        raise EvaluationError(f"{what} is outside its real domain here: it has complex entries")
    if not np.all(np.isfinite(result)):
        raise _not_finite(expr, local, convention, result, what)
    return np.real(result) if np.iscomplexobj(result) else result


def _not_finite(expr: Basic, local: Mapping, convention: Convention, result, what: str):
    """The error for NaN or infinite entries: NumPy's fault (an overflow, a log of 0,
    a division by 0) and the first entry it reaches."""
    bad = np.argwhere(~np.isfinite(np.asarray(result, dtype=complex)))
    entry = f" at entry {tuple(int(i) for i in bad[0])}" if np.ndim(result) else ""
    fault = numeric.first_fault(expr, local, convention) or ""
    ufunc = fault.rpartition(" in ")[2]
    if fault.startswith("overflow"):
        return OverflowEvaluationError(
            f"{what} overflows here: {ufunc} is beyond the largest float"
            f" (about {sys.float_info.max:.2g}){entry}"
        )
    if fault.startswith("divide") and ufunc.startswith("log"):
        return EvaluationError(f"{what} is undefined here: log of 0 is -infinity{entry}")
    if fault.startswith("divide"):
        return EvaluationError(f"{what} is undefined here: division by 0{entry}")
    if fault:
        return EvaluationError(f"{what} is undefined here: {ufunc} has no real number{entry}")
    return EvaluationError(f"{what} is undefined here: it has no number{entry}")


def involves_matrices(expr: Basic) -> bool:
    """True if ``expr`` is a matrix or uses one (then only NumPy evaluates it)."""
    return bool(getattr(expr, "shape", None)) or any(
        getattr(s, "shape", None) for s in expr.free_symbols
    )


def _mixed(expr: Basic, at: Point, what: str, convention: Convention):
    return (_arrays if involves_matrices(expr) else _exact)(expr, at, what, convention)


EXACT = Implementation("exact", "SymPy floats, decisions taken exactly", _exact)
ARRAYS = Implementation("arrays", "NumPy arrays and float64", _arrays)
MIXED = Implementation("mixed", "exact for scalars, arrays for matrices", _mixed)


def _line(name: Basic, expr: Basic, env: Mapping) -> str:
    return f"step {name} = {expr}"


def run(
    program: Program,
    at: Point,
    implementation: Implementation = MIXED,
    convention: Convention | str = "split",
    *,
    describe: Callable[[Basic, Basic, Mapping], str] = _line,
    after: Callable[[Basic, Basic], None] | None = None,
) -> dict:
    """Run ``program`` at the point ``at``, storing each line's value in ``at.env``.

    ``describe(name, expr, env)`` names a line in its errors; ``after(name, expr)`` is
    called once a line's value is stored (to find kinks, say). A line whose value (or
    ``after``) fails with an EvaluationError is marked :class:`Undefined`; a
    :class:`~symgraph.evaluation.kinks.KinkError` is raised. Returns the environment ``at.env``.
    """
    rules, env = conventions.named(convention), at.env
    for name, expr in program:
        try:
            env[name] = implementation.number(expr, at, describe(name, expr, env), rules)
            if after is not None:
                after(name, expr)
        except KinkError:
            raise
        except EvaluationError as err:
            env[name] = Undefined(err, getattr(err, "value", None))
    return env


def value(
    expr: Basic,
    env: Mapping,
    implementation: Implementation = EXACT,
    convention: Convention | str = "split",
    what: str | None = None,
):
    """``expr`` with ``env`` giving its symbols' values (a point of no graph), or the
    EvaluationError saying why it has no value there."""
    at = Point.free({s: env[s] for s in expr.free_symbols if s in env})
    return implementation.number(expr, at, what or f"{expr}", conventions.named(convention))
