"""THE registry of operations: one record (:class:`Op`) per SymPy class, scoped and reversible.

A record holds all symgraph knows about an operation: its parser spellings and arity,
its differential rule (both modes use it), its kink rule and the kind of kink, the pull
rule of a matrix operation, its NumPy and float implementations, the bound the parser's
constant guards use, and whether it applies entry by entry to a matrix. Every other table
(the parser's functions, the whitelist of :mod:`symgraph.safety`, the numeric
interpreter, the code printers, elementwise printing and kinks) is a view of it. The
records themselves live in :mod:`symgraph.rules` (scalars) and :mod:`symgraph.rules_matrix`;
:func:`symgraph.register.register_function` adds one for a new function.

:func:`register_partial` sets a record's rule and returns a handle that undoes it (also
a context manager); replacing a rule needs ``override=True``. A graph keeps the
:func:`snapshot` taken when it was built and computes its partials :func:`using` it, so
later registrations never change a graph that exists. The active table is a context
variable, so threads do not see each other's scopes. Below the table, the functions that
read it: :func:`differential`, :func:`pushforward`, :func:`local_partial`,
:func:`pullback` and :func:`kink_pieces`.

>>> import sympy
>>> op = lookup(sympy.tanh)
>>> op.names, op.elementwise, op.numpy.__name__
(('tanh',), True, 'tanh')
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from types import MappingProxyType

from sympy import Add, Basic, Expr, Mul, S, Symbol
from sympy.matrices.expressions import MatAdd, MatrixExpr, Trace

from . import canonical
from .errors import SymgraphError
from .lazynp import np

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
class Op:
    """One operation: what symgraph knows about one SymPy class.

    ``partial(expr, d)`` is the differential rule (``direct(expr, p)``, where given, reads
    ``∂expr/∂p`` off the arguments when ``p`` is one of them, as the rule would give it, or
    None: a sum's coefficient, a product's other factors, without the differential's
    recursion); ``kink(expr, at)`` the kink rule of a
    non-smooth operation (the smooth pieces meeting at a point, or None; scalar steps and
    elementwise entries alike), ``kind`` names its kink ("a tie of max"); ``pull(expr, i,
    G)`` the adjoint of a matrix operation's argument (a scalar operation pulls back by
    multiplying with its local partial). ``names`` and ``arity`` are its spellings in the
    parser (none: not parsed from text), ``elementwise`` that the parser applies it entry
    by entry to a matrix. ``numpy(*values)`` is its value over floats and arrays alike
    (``at_kink(convention)`` gives it where it depends on the kink convention, as
    Heaviside(0) does), ``math`` a faster one over plain floats, and ``bound(*values)``
    an mpmath value (or bound on the size) the parser's constant guards use. ``c`` is its
    spelling in generated C (a C99 ``math.h`` function, or a helper of
    :mod:`symgraph.codegen.c` named ``sg_...``); None: the C backend refuses it.
    """

    cls: type
    partial: Rule | None = None
    kink: KinkRule | None = None
    kind: str = "a kink"
    pull: PullRule | None = None
    names: tuple[str, ...] = ()
    arity: tuple[int, int | None] = (1, 1)
    elementwise: bool = False
    numpy: Callable | None = None
    at_kink: Callable[[object], Callable] | None = None
    math: Callable | None = None
    bound: Callable | None = None
    direct: Callable[[Expr, Basic], Expr | None] | None = None
    c: str | None = None

    @property
    def evaluates(self) -> bool:
        """Whether the record has a NumPy implementation."""
        return self.numpy is not None or self.at_kink is not None

    def implementation(self, convention) -> Callable | None:
        """The NumPy implementation under a kink convention."""
        return self.at_kink(convention) if self.at_kink else self.numpy


#: The record type under its old name (a row of the rule table).
Entry = Op


#: The live table. A graph keeps the snapshot taken when it was built (``Graph.rule_table``),
#: so registering or removing a rule later never changes a graph that already exists.
RULES: dict[type, Op] = {}
_history: dict[type, list[Op | None]] = {}
_frozen: list[Mapping[type, Op]] = [MappingProxyType({})]
_active: ContextVar[Mapping[type, Op] | None] = ContextVar("symgraph_rules", default=None)


class Registration:
    """The handle :func:`register_partial` returns: ``undo()`` restores the rule it
    replaced (or none); used as a context manager, the rule holds inside the block only."""

    def __init__(self, cls: type, entry: Op):
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
    """Set the derivative rule of ``cls`` (and, through the MRO, its subclasses).

    Replacing an existing rule needs ``override=True``. The rest of the record (its
    spellings, implementations) is kept. Graphs built before the call keep the table
    they were built with. The returned handle undoes the registration
    (``handle.undo()``, or ``with register_partial(...):`` for a scoped rule); so does
    :func:`unregister_partial`.
    """
    current = RULES.get(cls)
    if current is not None and current.partial is not None and not override:
        raise RuleError(
            f"{cls.__name__} already has a derivative rule; pass override=True to replace it"
        )
    # a new rule retires the record's shortcut, which read partials off the old rule
    fields = {"partial": rule, "direct": None, "kink": kink, "pull": pull, "kind": kind}
    return define(replace(current, **fields) if current else Op(cls, **fields))


def define(op: Op) -> Registration:
    """Put the record ``op`` in the table (replacing the one for its class, undoably)."""
    _history.setdefault(op.cls, []).append(RULES.get(op.cls))
    RULES[op.cls] = op
    _frozen[0] = MappingProxyType(dict(RULES))
    return Registration(op.cls, op)


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


def snapshot() -> Mapping[type, Op]:
    """The table in force now (a read-only copy): the one a new graph keeps."""
    return _active.get() or _frozen[0]


@contextmanager
def using(table: Mapping[type, Op] | None):
    """Look rules up in ``table`` (a graph's snapshot) inside the block (thread-safe);
    None (a graph built without one) keeps the table in force."""
    token = _active.set(table if table is not None else _active.get())
    try:
        yield table
    finally:
        _active.reset(token)


@contextmanager
def preserved():
    """Every registration made inside the block is taken back at its end (for tests)."""
    rows, history = dict(RULES), {cls: list(stack) for cls, stack in _history.items()}
    try:
        yield
    finally:
        RULES.clear()
        RULES.update(rows)
        _history.clear()
        _history.update(history)
        _frozen[0] = MappingProxyType(dict(RULES))


def lookup(cls: type) -> Op:
    """The record for ``cls``: the nearest class along its MRO that has a derivative rule."""
    table = _active.get() or RULES
    for klass in cls.__mro__:
        op = table.get(klass)
        if op is not None and op.partial is not None:
            return op
    raise UnsupportedOperationError(
        f"no derivative rule for {cls.__name__}; "
        f"register one with symgraph.rules.register_partial({cls.__name__}, rule)"
    )


def record(cls: type) -> Op | None:
    """The record of exactly ``cls`` in the table in force (no MRO walk), or None."""
    return records().get(cls)


def records() -> Mapping[type, Op]:
    """Every record in the table in force (read-only; a new mapping after each change)."""
    return _active.get() or _frozen[0]


#: The rows symgraph registers itself: they can be overridden (and the override undone),
#: not removed. Filled by :mod:`symgraph.rules` once its rows are in.
BUILTIN: set[type] = set()


# ---------------------------------------------------------------- building blocks of records


def size_bound(*values):
    """A bound on the size of a bounded function's value (max, abs, sigmoid, ...): the
    ``bound`` of records whose value the parser's constant guards need not compute."""
    return 1 + max(abs(v) for v in values)


def folded(pair: Callable) -> Callable:
    """``pair`` (a binary ufunc) folded over any number of arguments."""

    def values(*args):
        out = args[0]
        for a in args[1:]:
            out = pair(out, a)
        return out

    return values


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
    direct = lookup(type(expr)).direct if isinstance(expr, Add | Mul) else None
    found = direct(expr, wrt) if direct is not None else None
    return pushforward(expr, {wrt: S.One}) if found is None else found


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
    """Sum of terms, dropping zeros; a matrix sum when the terms are matrices. A 1×1
    matrix among scalars (the adjoints a 1×1 node gets from ``sum`` and from ``∘``) is
    its one entry, ``tr`` of it."""
    terms = [t for t in terms if t != 0 and not getattr(t, "is_ZeroMatrix", False)]
    matrices = [t for t in terms if isinstance(t, MatrixExpr)]
    if matrices and len(matrices) < len(terms) and all(m.shape == (1, 1) for m in matrices):
        return Add(*[Trace(t) if isinstance(t, MatrixExpr) else t for t in terms])
    if matrices:
        return MatAdd(*terms).doit()  # doit() collects like terms: X + X = 2 X
    made = canonical.add(terms)  # a sum of distinct monomials, made without sorting twice
    return Add(*terms) if made is None else made


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
