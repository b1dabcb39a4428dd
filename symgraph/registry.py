"""The registry behind the rule table: rows keyed by SymPy class, scoped and reversible.

:func:`register_partial` adds a row and returns a handle that undoes it (also a context
manager); replacing a row needs ``override=True``. A graph keeps the :func:`snapshot`
taken when it was built and computes its partials :func:`using` it, so later
registrations never change a graph that exists. The active table is a context
variable, so threads do not see each other's scopes. Below the table, the functions
that read it: :func:`differential`, :func:`pushforward`, :func:`local_partial`,
:func:`pullback` and :func:`kink_pieces` (the rows themselves live in :mod:`symgraph.rules`
and :mod:`symgraph.rules_matrix`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
from sympy import Add, Basic, Expr, S, Symbol
from sympy.matrices.expressions import MatAdd, MatrixExpr

from .errors import SymgraphError

Differential = Callable[[Basic], Expr]
Rule = Callable[[Expr, Differential], Expr]
#: ``kink(expr, at)`` -> the smooth pieces meeting at this point, or None; ``at(e)`` is
#: the float value of ``e`` there and ``at.compare(a, b)`` decides exactly (-1, 0, 1).
KinkRule = Callable[[Expr, Callable[[Expr], float]], "tuple[Expr, ...] | None"]


class UnsupportedOperationError(SymgraphError):
    """An operation symgraph has no derivative rule for."""


class RuleError(SymgraphError):
    """A registration that would silently replace a rule, or an undo that cannot be done."""


#: ``pull(expr, i, G)`` -> the adjoint of ``expr.args[i]`` given the adjoint G of expr.
PullRule = Callable[[Expr, int, Expr], Expr]


@dataclass(frozen=True)
class Entry:
    """One row of the table: the differential (push) rule, and optionally the kink
    rule of a non-smooth operation (with the kind of kink it reports, e.g. "a tie of
    max") and the pull rule of a matrix operation (a scalar operation pulls back by
    multiplying with its local partial)."""

    partial: Rule
    kink: KinkRule | None = None
    pull: PullRule | None = None
    kind: str = "a kink"


#: The live table. A graph keeps the snapshot taken when it was built (``Graph.rule_table``),
#: so registering or removing a rule later never changes a graph that already exists.
RULES: dict[type, Entry] = {}
_history: dict[type, list[Entry | None]] = {}
_frozen: list[Mapping[type, Entry]] = [MappingProxyType({})]
_active: ContextVar[Mapping[type, Entry] | None] = ContextVar("symgraph_rules", default=None)


class Registration:
    """The handle :func:`register_partial` returns: ``undo()`` restores the rule it
    replaced (or none); used as a context manager, the rule holds inside the block only."""

    def __init__(self, cls: type, entry: Entry):
        self.cls, self.entry = cls, entry

    def __repr__(self) -> str:
        return f"<rule for {self.cls.__name__}: undo() takes it back>"

    def undo(self) -> None:
        """Restore the rule this registration replaced (or none)."""
        if RULES.get(self.cls) is not self.entry:
            raise RuleError(
                f"the rule for {self.cls.__name__} was replaced or removed since this "
                "registration; undo the later registration first"
            )
        unregister_partial(self.cls)

    def __enter__(self) -> Registration:
        return self

    def __exit__(self, *exc) -> None:
        self.undo()


def register_partial(
    cls: type,
    rule: Rule,
    kink: KinkRule | None = None,
    pull: PullRule | None = None,
    *,
    override: bool = False,
    kind: str = "a kink",
) -> Registration:
    """Add the rule for ``cls`` (and, through the MRO, its subclasses).

    Replacing an existing rule needs ``override=True``. Graphs built before the call
    keep the table they were built with. The returned handle undoes the registration
    (``handle.undo()``, or ``with register_partial(...):`` for a scoped rule); so does
    :func:`unregister_partial`.
    """
    if cls in RULES and not override:
        raise RuleError(
            f"{cls.__name__} already has a derivative rule; pass override=True to replace it"
        )
    entry = Entry(rule, kink, pull, kind)
    _history.setdefault(cls, []).append(RULES.get(cls))
    RULES[cls] = entry
    _frozen[0] = MappingProxyType(dict(RULES))
    return Registration(cls, entry)


def unregister_partial(cls: type) -> None:
    """Undo the latest registration for ``cls``: the rule it replaced (if any) is back."""
    stack = _history.get(cls)
    if not stack or (len(stack) == 1 and cls in BUILTIN):
        raise RuleError(f"{cls.__name__} has no registered rule that can be removed")
    previous = stack.pop()
    if previous is None:
        del RULES[cls]
    else:
        RULES[cls] = previous
    _frozen[0] = MappingProxyType(dict(RULES))


def snapshot() -> Mapping[type, Entry]:
    """The table in force now (a read-only copy): the one a new graph keeps."""
    return _active.get() or _frozen[0]


@contextmanager
def using(table: Mapping[type, Entry]):
    """Look rules up in ``table`` (a graph's snapshot) inside the block (thread-safe)."""
    token = _active.set(table)
    try:
        yield table
    finally:
        _active.reset(token)


def lookup(cls: type) -> Entry:
    """The entry for ``cls``: the nearest class along its MRO that has one."""
    table = _active.get() or RULES
    for klass in cls.__mro__:
        if klass in table:
            return table[klass]
    raise UnsupportedOperationError(
        f"no derivative rule for {cls.__name__}; "
        f"register one with symgraph.rules.register_partial({cls.__name__}, rule)"
    )


#: The rows symgraph registers itself: they can be overridden (and the override undone),
#: not removed. Filled by :mod:`symgraph.rules` once its rows are in.
BUILTIN: set[type] = set()


# ---------------------------------------------------------------- reading the table


def differential(expr: Basic, d: Differential) -> Expr:
    """``Σ_i ∂expr/∂args[i] · d(args[i])`` by the table."""
    return lookup(type(expr)).partial(expr, d)


def pushforward(expr: Basic, tangents: dict) -> Expr:
    """The differential of a small step expression given its parents' ``tangents``."""
    if expr in tangents:
        return tangents[expr]
    if not any(expr.has(p) for p in tangents):
        return S.Zero
    return differential(expr, lambda arg: pushforward(arg, tangents))


def local_partial(expr: Basic, wrt: Symbol) -> Expr:
    """∂expr/∂wrt of a scalar step expression (recursive over its own small tree)."""
    return pushforward(expr, {wrt: S.One})


def pullback(expr: Basic, wrt: Basic, adjoint: Expr) -> Expr:
    """The adjoint contribution to ``wrt`` from ``expr`` whose adjoint is ``adjoint``.

    Matrix operations pull back by their pull rules (with the transposes); a scalar
    operation multiplies by its local partial. The adjoint of a 1×1 matrix is a scalar.
    """
    if expr == wrt:
        return adjoint
    if not expr.has(wrt):
        return S.Zero
    pull = lookup(type(expr)).pull
    if pull is None:
        return adjoint * local_partial(expr, wrt)
    parts = [pullback(a, wrt, pull(expr, i, adjoint).doit()) for i, a in enumerate(expr.args)]
    return total(parts)


def total(terms) -> Expr:
    """Sum of terms, dropping zeros; a matrix sum when the terms are matrices."""
    terms = [t for t in terms if t != 0 and not getattr(t, "is_ZeroMatrix", False)]
    if any(isinstance(t, MatrixExpr) for t in terms):
        return MatAdd(*terms).doit()  # doit() collects like terms: X + X = 2 X
    return Add(*terms)


def kink_pieces(expr: Expr, value: Callable[[Expr], float]) -> tuple[Expr, ...] | None:
    """The smooth pieces that meet at this point, if ``expr`` sits on a kink here."""
    try:
        entry = lookup(type(expr))
    except UnsupportedOperationError:
        return None
    return entry.kink(expr, value) if entry.kink else None


def tied(a, b, tol: float = 0.0):
    """THE kink test, for floats and arrays alike: ``a == b`` exactly, or, with a
    tolerance, ``|a - b| <= tol * max(1, |a|, |b|)`` (the user's ``kink_tol``)."""
    if not tol:
        return a == b
    return abs(a - b) <= tol * np.maximum(1.0, np.maximum(abs(a), abs(b)))
