"""Bounded simplification: cheap tidying by default, a thorough pass on a budget.

Closed forms are tidied by cheap, near-linear means (:func:`tidy`); the full
``sympy.simplify`` runs only on request (:func:`thorough`), in a child process with
a time budget, so a large expression can never hang the caller. :func:`tree_size`
measures an expression as printed (shared subexpressions counted each time) in time
linear in its shared form, so that closed forms can be refused before they blow up.

>>> from sympy import Symbol, exp
>>> x = Symbol("x", real=True)
>>> tidy(2*x*exp(x) + 4*x**2*exp(x))
2*x*(2*x + 1)*exp(x)
>>> thorough((x**2 - 1)/(x - 1), seconds=20)
x + 1
>>> tree_size(exp(x) + x)
4
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import numbers
import queue as queue_module
import threading
from collections.abc import Mapping

import sympy
from sympy import Basic, Expr, S, Symbol
from sympy.matrices import MatrixBase
from sympy.matrices.expressions import HadamardProduct, MatMul, MatrixExpr, OneMatrix

log = logging.getLogger("symgraph")

#: Expressions with more operations than this are left as they are by :func:`tidy`.
TIDY_MAX_OPS = 400
#: Default time budget of :func:`thorough`, in seconds.
THOROUGH_SECONDS = 5.0
#: The largest closed form written out, in tree nodes (see :func:`tree_size`): beyond it,
#: an expansion repeats shared subexpressions so often that printing, tidying or even
#: walking it takes minutes; the step form (``rv.adjoints``, ``as_program()``) stays small.
CLOSED_FORM_MAX_NODES = 20_000

#: The most nodes all the closed forms of one result (a gradient, a Jacobian) may have
#: together: n inputs of a product of n factors have n closed forms of n nodes each.
CLOSED_FORMS_MAX_TOTAL = 500_000


def tree_size(
    expr: Basic, limit: int = CLOSED_FORM_MAX_NODES, weights: Mapping | None = None
) -> int:
    """The number of nodes of ``expr`` as a tree, or ``limit + 1`` if it has more.

    A subexpression shared ``k`` times counts ``k`` times (as printing walks it), but each
    distinct one is visited once, so the count is linear in the shared form. ``weights``
    gives the size of leaves standing for larger expressions (a step name: its expansion).
    """
    sizes: dict[Basic, int] = {}
    weights = weights or {}
    stack = [expr]
    while stack:  # post-order without recursion: closed forms can be thousands deep
        e = stack[-1]
        if e in sizes:
            stack.pop()
            continue
        args = getattr(e, "args", ())
        pending = [a for a in args if a not in sizes]
        if pending and e not in weights:
            stack.extend(pending)
            continue
        stack.pop()
        size = weights[e] if e in weights else 1 + sum(sizes[a] for a in args)
        sizes[e] = min(size, limit + 1)
    return sizes[expr]


def resolve(forms: Mapping[Symbol, Expr], names: Mapping[Symbol, Symbol]) -> dict:
    """Substitute, in order, each ``names`` symbol (``tbar_3``) by its node's resolved form.

    ``forms`` must be in evaluation order: a form only refers to earlier nodes.
    """
    out: dict[Symbol, Expr] = {}
    done: dict[Basic, Basic] = {}  # shared by all nodes: each subexpression is done once
    for node, expr in forms.items():
        # a matrix input's seed is its own direction Ẋ: it stays a symbol
        subs = {d: out[names[d]] for d in expr.free_symbols if names.get(d) in out}
        expr = expr.xreplace(subs) if subs else expr
        out[node] = shared_doit(expr, done) if subs and isinstance(expr, MatrixExpr) else expr
    return out


def shared_doit(expr: Basic, done: dict | None = None) -> Basic:
    """``expr.doit()``, doing each distinct subexpression once (``done`` remembers them).

    A deep ``doit`` walks a shared subexpression again wherever it occurs: along a deep
    network's adjoints, whose forms nest every earlier one, that is quadratic or worse.
    """
    done = {} if done is None else done
    stack = [expr]
    while stack:
        e = stack[-1]
        if e in done:
            stack.pop()
            continue
        pending = [a for a in e.args if a not in done and isinstance(a, Basic)]
        if pending and not e.is_Atom:
            stack.extend(pending)
            continue
        stack.pop()
        args = tuple(done.get(a, a) for a in e.args)
        rebuilt = e if e.is_Atom or args == e.args else e.func(*args)
        try:
            done[e] = rebuilt if rebuilt.is_Atom else rebuilt.doit(deep=False)
        except TypeError:  # a class whose doit takes no hints: done as it is
            done[e] = rebuilt
    return done[expr]


def _has_matrices(expr: Basic) -> bool:
    return any(isinstance(e, MatrixExpr | MatrixBase) for e in sympy.preorder_traversal(expr))


def tidy(expr: Expr) -> Expr:
    """Pull out common factors (``factor_terms``) and gather Piecewise branches
    (``piecewise_fold``), unless the expression is large or holds matrices.

    Both are scalar rewritings: SymPy's matrix classes refuse them (a Hadamard product
    with a scalar factor pulled out is a TypeError), so matrix expressions stay as built.
    """
    if tree_size(expr, 4 * TIDY_MAX_OPS) > 4 * TIDY_MAX_OPS or sympy.count_ops(expr) > TIDY_MAX_OPS:
        return expr
    if _has_matrices(expr):
        return _without_ones(expr)
    try:
        if expr.has(sympy.Piecewise):  # one Piecewise of the pieces' derivatives, not a sum
            expr = sympy.piecewise_fold(expr)
        return sympy.factor_terms(expr)
    except (TypeError, AttributeError):  # a SymPy class that refuses the rewriting: as built
        return expr


def _without_ones(expr: Expr) -> Expr:
    """A matrix expression with Hadamard factors of ones dropped: ``(c 1) ∘ M`` is
    ``c M`` (the adjoint of ``sum`` is the ones matrix, ``c`` a scalar factor of it).

    >>> from sympy import MatrixSymbol, OneMatrix, HadamardProduct, Rational
    >>> M = MatrixSymbol("M", 2, 1)
    >>> _without_ones(HadamardProduct(Rational(1, 2) * OneMatrix(2, 1), M))
    (1/2)*M
    """

    def scaled_ones(a) -> Expr | None:  # c when a is c·1 (the ones matrix), else None
        if isinstance(a, OneMatrix):
            return S.One
        if isinstance(a, MatMul):
            matrices = [f for f in a.args if isinstance(f, MatrixExpr)]
            if len(matrices) == 1 and isinstance(matrices[0], OneMatrix):
                return sympy.Mul(*[f for f in a.args if not isinstance(f, MatrixExpr)])
        return None

    def rule(h: HadamardProduct) -> Expr:
        scales = [scaled_ones(a) for a in h.args]
        rest = [a for a, c in zip(h.args, scales, strict=True) if c is None]
        if not rest or len(rest) == len(h.args):
            return h
        core = rest[0] if len(rest) == 1 else HadamardProduct(*rest)
        factor = sympy.Mul(*[c for c in scales if c is not None])
        return core if factor == 1 else MatMul(factor, core)

    def flat(m: MatMul) -> Expr:  # c (M) N as c M N: scalars first, no nested products
        args = [a for arg in m.args for a in (arg.args if isinstance(arg, MatMul) else (arg,))]
        coefficient = sympy.Mul(*[a for a in args if not isinstance(a, MatrixExpr)])
        matrices = [a for a in args if isinstance(a, MatrixExpr)]
        if coefficient == 1:
            return matrices[0] if len(matrices) == 1 else MatMul(*matrices)
        return MatMul(coefficient, *matrices)

    dropped = expr.replace(lambda e: isinstance(e, HadamardProduct), rule)
    if dropped == expr:
        return expr
    return dropped.replace(lambda e: isinstance(e, MatMul), flat)


def _check_seconds(seconds) -> float:
    ok = isinstance(seconds, numbers.Real) and not isinstance(seconds, bool)
    if not (ok and math.isfinite(seconds) and 0 < seconds <= threading.TIMEOUT_MAX):
        raise ValueError(f"seconds must be a positive, finite number of seconds, not {seconds!r}")
    return float(seconds)


def _simplify_into(queue, expr) -> None:
    try:
        queue.put((True, sympy.simplify(expr)))
    except Exception:  # any failure of simplify means "no simpler form"
        queue.put((False, None))


def _child_context():
    """A fork context, or None where no child process can be started here."""
    if multiprocessing.current_process().daemon:  # daemonic processes cannot have children
        return None
    try:
        return multiprocessing.get_context("fork")
    except ValueError:  # no fork (Windows)
        return None


def thorough(expr: Expr, seconds: float = THOROUGH_SECONDS) -> Expr:
    """``sympy.simplify`` within ``seconds``; the cheap :func:`tidy` form if time runs out.

    The full simplification runs in a child process that is killed when time is up. Where
    no child can be started (a daemon process, no ``fork``), only :func:`tidy` is tried:
    ``sympy.simplify`` in-process could not be stopped.
    """
    seconds = _check_seconds(seconds)
    if not isinstance(expr, Basic) or expr.is_Atom:
        return expr
    context = _child_context()
    if context is None:
        log.info("thorough: no child process can be started here; tidying only")
        return tidy(expr)
    queue = context.Queue()
    worker = context.Process(target=_simplify_into, args=(queue, expr), daemon=True)
    try:
        worker.start()
    except (AssertionError, OSError) as e:  # refused by multiprocessing, or out of processes
        log.info("thorough: no child process (%s); tidying only", e)
        return tidy(expr)
    try:  # read before joining: a large result would otherwise block the child
        done, result = queue.get(timeout=seconds)
        return result if done else tidy(expr)
    except queue_module.Empty:
        return tidy(expr)
    finally:
        worker.kill()
        worker.join()
