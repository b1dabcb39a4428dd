"""The lean program: a sweep's straight-line lines with nothing a result does not need.

Aliases (``tbar_2 = tbar_3``) and constants (``fbar = 1``) are folded into the lines that
use them, lines no result needs are dropped, and a negated adjoint is computed without
its sign where its uses can absorb it (``d cos(u) = -sin(u) du``: the uses subtract).
:meth:`Sweep.as_program` returns it with each result as a named line; :func:`symgraph.compile`
prints it as code.
"""

from __future__ import annotations

from sympy import Add, Basic, Expr, S, Symbol
from sympy.matrices.expressions import MatrixSymbol

from . import canonical


def lean_program(
    program: list[tuple[Symbol, Expr]], results: list[Symbol]
) -> tuple[list[tuple[Symbol, Expr]], list[Expr]]:
    """The program with aliases and constants folded in and dead lines dropped.

    A negated alias (``tbar_8 = -tbar_9``) that is not a result folds into its uses too,
    where the sign costs nothing (``a + tbar_8`` becomes ``a - tbar_9``). Returns the kept
    lines and each result as the symbol or the number that holds it.

    >>> from sympy import S, symbols
    >>> t1, t2, t3, t4, t5, x = symbols("t1 t2 t3 t4 t5 x")
    >>> program = [(t1, x**2), (t2, S(3)), (t3, -t1), (t4, x + t2*t3), (t5, t4 + 1)]
    >>> lean_program(program, [t4, t2])
    ([(t1, x**2), (t4, -3*t1 + x)], [t4, 3])
    """
    results_ = set(results)
    known: dict[Basic, Expr] = {}  # a folded line's name -> what stands for it, resolved
    kept: list[tuple[Symbol, Expr, set]] = []
    for name, expr in program:
        scalar = not isinstance(name, MatrixSymbol)
        if scalar and expr.is_Atom:
            known[name] = known.get(expr, expr)
        elif scalar and name not in results_ and _negated_symbol(expr):
            known[name] = _negated(known.get(expr.args[1], expr.args[1]))
        else:
            kept.append((name, expr, _symbols(expr)))
    held = [known.get(r, r) for r in results]
    live = {s for r in held for s in r.free_symbols}
    lean = []
    for name, expr, symbols in reversed(kept):
        if name in live:
            live.discard(name)
            live.update(_through(symbols, known))
            lean.append((name, expr, symbols))
    lean.reverse()
    flipped = _flips(lean, known, held)
    # one substitution a line: the aliases (with the flipped signs) and the flipped lines
    folded = {a: _signed(v, flipped) for a, v in known.items()}
    folded.update({s: _negated(n) for s, n in flipped.items()})
    out = []
    for name, expr, symbols in lean:
        used = {s: folded[s] for s in symbols if s in folded}
        expr = substituted(expr, used) if used else expr
        out.append((flipped[name], _negated(expr)) if name in flipped else (name, expr))
    return out, held


def substituted(expr: Expr, used: dict) -> Expr:
    """``expr.xreplace(used)``; a product of a number and symbols, or a sum of such, that
    stays one is made directly in SymPy's canonical form (``x₁·t̄₁`` with ``t̄₁ → -t̄₃``
    is ``-t̄₃·x₁``), the rest rebuilt by SymPy. The lines of a wide gradient are such.

    >>> from sympy import symbols
    >>> a, b, c, x = symbols("a b c x", real=True)
    >>> e = 2*a*x + b*x + x**2
    >>> substituted(e, {a: -c, b: c}) == e.xreplace({a: -c, b: c})
    True
    """
    if expr.is_Mul:
        made = _monomial(expr, used)
        return canonical.replaced(expr, used) if made is None else made
    if expr.is_Add:
        terms = [_monomial(t, used) for t in expr.args]
        if None not in terms:
            made = canonical.add(terms)
            return Add(*terms) if made is None else made
    return canonical.replaced(expr, used)


def _monomial(term: Expr, used: dict) -> Expr | None:
    """The product with ``used`` swapped in for its symbol factors, made directly (None
    if a factor holds a swapped symbol inside, or the product is not a monomial)."""
    factors = term.args if term.is_Mul else (term,)
    if any(not f.is_Atom and f.free_symbols & used.keys() for f in factors):
        return None
    return canonical.mul([used.get(a, a) for a in factors])


def _negated(e: Expr) -> Expr:
    """``-e``, made directly for a monomial."""
    made = canonical.mul([S.NegativeOne, e])
    return -e if made is None else made


def _symbols(e: Expr) -> set[Basic]:
    """``e.free_symbols``, read straight off a line of symbols and numbers."""
    if type(e) is Symbol:
        return {e}
    if (e.is_Add or e.is_Mul) and all(type(a) is Symbol or a.is_Number for a in e.args):
        return {a for a in e.args if type(a) is Symbol}
    return e.free_symbols


def _through(symbols, known) -> set[Basic]:
    """The symbols a line reads once its aliases are folded in."""
    return {t for s in symbols for t in (known[s].free_symbols if s in known else (s,))}


def _negated_symbol(e: Expr) -> bool:
    return e.is_Mul and len(e.args) == 2 and e.args[0] == -1 and e.args[1].is_Symbol


def _linear_uses(e: Expr) -> set[Basic]:
    """Symbols of ``e`` that are terms of its sum or factors of its products, where a sign
    can be absorbed (into a subtraction or a coefficient) at no cost."""
    terms = e.args if e.is_Add else (e,)
    return {f for t in terms for f in (t.args if t.is_Mul else (t,)) if f.is_Symbol}


def _flips(lines, known, held) -> dict[Symbol, Symbol]:
    """The lines ``s = -e`` whose uses are all linear, each to the ``s_neg`` that computes
    ``e`` instead: the uses take the sign (``a + s`` becomes ``a - s_neg``), a negation
    less. The adjoint of a step whose local partial is negative (``d cos(u) = -sin(u) du``)
    is such a line. A line's sign is read off its coefficient and the signs of the aliases
    and flipped lines among its factors, so no line is rebuilt to find it."""
    if any(isinstance(name, MatrixSymbol) for name, _, _ in lines):
        return {}
    fixed = {s for r in held for s in r.free_symbols}
    taken = {s.name for _, _, symbols in lines for s in symbols} | {n.name for n, _, _ in lines}
    for _, expr, symbols in lines:
        fixed |= _through(symbols - _linear_uses(expr), known)
    flipped: dict[Symbol, Symbol] = {}
    for name, expr, _ in lines:
        flip = f"{name.name}_neg"
        if name in fixed or flip in taken or not expr.is_Mul:
            continue
        sign = -1 if expr.could_extract_minus_sign() else 1
        for f in expr.args:
            if f.is_Symbol:
                sign *= _sign(known.get(f, f), flipped)
        if sign < 0:
            flipped[name] = Symbol(flip, real=True)
    return flipped


def _sign(v: Expr, flipped) -> int:
    """The sign a factor takes once aliases and flips are folded in (-1 or 1)."""
    if v.is_Number:
        return -1 if v.is_negative else 1
    negated = _negated_symbol(v)
    base = v.args[1] if negated else v
    return (-1 if negated else 1) * (-1 if base in flipped else 1)


def _signed(v: Expr, flipped) -> Expr:
    """An alias's value with a flipped line's ``s`` written ``-s_neg``."""
    if v in flipped:
        return _negated(flipped[v])
    if _negated_symbol(v) and v.args[1] in flipped:
        return flipped[v.args[1]]
    return v
