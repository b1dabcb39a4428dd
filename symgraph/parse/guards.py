"""The parser's error and its guards: limits that keep SymPy from hanging on hostile input.

Every refusal is a :class:`ParseError`. The limits, so that hostile input is refused in
well under a second:

* ``MAX_TEXT_CHARS`` (100,000): characters of input, expression or program. A lecture's
  program is a few hundred; SymPy needs up to ~0.2 ms a character (2 ms a ``max``).
* ``MAX_DEPTH`` (100): nesting levels; a long chain ``a + b - c + ...`` is one level.
* ``MAX_NAME_CHARS`` (64) per name; ``MAX_LITERAL_DIGITS`` (100) per number literal, and
  float literals must fit a double.
* ``MAX_CONST_EXPONENT`` (1000): largest ``|exponent|`` on a constant base;
  ``MAX_CONST_BITS`` (10,000): largest exact constant (``3**1000`` is fine, ``9**9**9``
  is not); ``MAX_ROOT_BITS`` (1000): bits times numerator for a fractional power of an
  exact constant, which SymPy factors; ``MAX_FOLD_BITS`` (100,000): exact constants
  folded in one sum or product.
* ``MAX_CONST_MAGNITUDE`` (1e300): other constants (``exp(exp(9))``) must stay below it,
  or SymPy would need astronomic precision to compare them inside ``max`` or ``abs``.
* ``MAX_MINMAX_ARGS`` (10) per ``max``/``min``: SymPy compares every pair of arguments.
* ``MAX_PIECES`` (50) branches per ``piecewise`` (later stages handle every pair of them).
* ``MAX_PROGRAM_LINES`` (5000) lines of a program.
* ``MAX_SHAPE_DIM`` (10,000) rows or columns of a matrix, ``MAX_SHAPE_ENTRIES``
  (1,000,000) entries: NumPy allocates them at every step.
* SymPy objects given to ``graph`` directly: at most ``MAX_TREE_NODES`` (100,000) distinct
  nodes and ``MAX_TREE_HEIGHT`` (200) levels, exact constants of at most ``MAX_CONST_BITS``
  bits, floats that fit a double with at most ``MAX_FLOAT_PRECISION`` (1000) bits.

For the same reason (found by fuzzing: SymPy runs for minutes deciding the sign of such
constants) complex constants (``sqrt(-1)``) are refused, a constant holding a function
value (``log(2)``) may not be a function argument or a side of a comparison, and a
condition may not contain ``where``/``piecewise``.
"""

from __future__ import annotations

import ast
import math
import numbers
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any

import mpmath
import sympy
from sympy.functions.elementary.piecewise import ExprCondPair
from sympy.matrices.expressions import MatrixSymbol

from .. import ops
from .domain import construct
from .source import Context, ParseError, fail

MAX_TEXT_CHARS = 100_000
MAX_DEPTH = 100
MAX_NAME_CHARS = 64
MAX_LITERAL_DIGITS = 100
MAX_CONST_EXPONENT = 1000
MAX_CONST_BITS = 10_000
MAX_ROOT_BITS = 1000
MAX_FOLD_BITS = 100_000
MAX_CONST_MAGNITUDE = 1e300
MAX_MINMAX_ARGS = 10
MAX_PIECES = 50
MAX_PROGRAM_LINES = 5000
MAX_SHAPE_DIM = 10_000
MAX_SHAPE_ENTRIES = 1_000_000
MAX_TREE_NODES = 100_000
MAX_TREE_HEIGHT = 200
MAX_FLOAT_PRECISION = 1000

SPLIT = "split it into a program of named steps"
_UNDEFINED = frozenset({sympy.zoo, sympy.nan, sympy.oo, -sympy.oo})
_TRIVIAL = frozenset({sympy.S.Zero, sympy.S.One, sympy.S.NegativeOne})


def _const_bits(expr: sympy.Basic, kinds: tuple[type, ...] = (sympy.Rational,)) -> int:
    """Bits of the constants in ``expr`` that SymPy may fold together (0 and ±1 never grow)."""
    if expr.is_Symbol:
        return 0  # the common case, without a walk
    atoms = expr.atoms(*kinds) - _TRIVIAL
    return sum(max(abs(a.p).bit_length(), a.q.bit_length()) if a.is_Rational else 53 for a in atoms)


def power(base: sympy.Expr, exponent: sympy.Expr) -> sympy.Expr:
    """``base**exponent``, refused before SymPy starts an exact power or root it cannot finish."""
    check_power(base, exponent)
    return construct(sympy.Pow, base, exponent)


def check_power(base: sympy.Expr, exponent: sympy.Expr, functions: bool = True) -> None:
    """Refuse ``base**exponent`` if SymPy could not finish computing it exactly, and (with
    ``functions``) powers of function values of constants, which the parser's later
    steps could not compare quickly."""
    if (
        functions
        and base.is_number
        and exponent.is_number
        and (base.has(sympy.Function) or exponent.has(sympy.Function))
    ):
        raise ParseError("a power of function values of constants", hint="use a decimal")
    # SymPy splits a constant term off an exponent: 3**(x + 2**1000) computes 3**(2**1000).
    numeric = exponent if exponent.is_number else exponent.as_coeff_Add()[0]
    bits = _const_bits(base, (sympy.Rational, sympy.Float))
    if numeric != 0 and abs(_approx(numeric)) > MAX_CONST_EXPONENT:
        raise ParseError("exponent too large", hint=f"at most {MAX_CONST_EXPONENT} here")
    if numeric == 0 or not bits:
        return
    if numeric.is_Rational and not numeric.is_Integer:
        # SymPy factors the base to extract roots: keep that small.
        if bits * abs(numeric.p) > MAX_ROOT_BITS or numeric.q > MAX_CONST_EXPONENT:
            raise ParseError("fractional power of a large constant", hint="use a float")
    elif bits * abs(_approx(numeric)) > MAX_CONST_BITS:
        raise ParseError("constant power too large", hint=f"at most {MAX_CONST_BITS} bits")


def folding(func: type[sympy.Expr]) -> Callable[..., sympy.Expr]:
    """``func`` (Add or Mul), refused when its operands hold too many large constants."""

    def build(*args: sympy.Expr) -> sympy.Expr:
        check_folding(*args)
        return construct(func, *args)

    return build


def check_folding(*args: sympy.Expr) -> None:
    """Refuse a sum or product whose operands hold too many large constants."""
    # Each operand is checked, but SymPy folds all their constants together at once.
    if sum(_const_bits(a) for a in args) > MAX_FOLD_BITS:
        raise ParseError("too many large constants in one sum or product", hint=SPLIT)


def minmax(func: type[sympy.Expr]) -> Callable[..., sympy.Expr]:
    """``func`` (Max or Min), refused with more arguments than SymPy compares quickly."""

    def build(*args: sympy.Expr) -> sympy.Expr:
        # SymPy merges nested max(max(...)), then compares every pair of arguments.
        if sum(len(a.args) if isinstance(a, func) else 1 for a in args) > MAX_MINMAX_ARGS:
            raise ParseError(f"more than {MAX_MINMAX_ARGS} arguments to compare", hint=SPLIT)
        return construct(func, *args)

    return build


def logarithm(arg: sympy.Expr, base: sympy.Expr | None = None) -> sympy.Expr:
    """``log(arg)``, or ``log(arg, base)`` as ``log(arg)/log(base)``, its domain kept: SymPy
    would make ``log(x, 0)`` 0 and ``log(x, x)`` 1."""
    if base is None:
        return construct(sympy.log, arg)
    if base.is_number and not (base.is_positive and base != 1):
        raise ParseError(f"log(x, {base}): the base must be positive and not 1")
    top, bottom = construct(sympy.log, arg), construct(sympy.log, base)
    return construct(sympy.Mul, top, construct(sympy.Pow, bottom, sympy.S.NegativeOne))


def _approx(expr: sympy.Basic) -> Any:
    """A 53-bit value of a constant, refused if it (or a part of it) is huge or undefined.

    mpmath's unbounded exponent keeps a tiny imaginary part (``(-1e-300)**1.5``) visible,
    where a double would underflow to 0 and hide that the constant is complex."""
    try:
        return _approx_value(expr)
    except (ArithmeticError, ValueError, AttributeError, TypeError):
        hint = f"constants must stay below {MAX_CONST_MAGNITUDE:g}"
        raise ParseError("constant too large or undefined", hint=hint) from None


def _approx_value(expr: sympy.Basic) -> Any:
    if expr.is_Number or expr.is_NumberSymbol:
        value = mpmath.mpf(expr._as_mpf_val(53))
    elif expr is sympy.I:
        value = mpmath.mpc(0, 1)
    elif isinstance(expr, ExprCondPair):
        value = _approx_value(expr.expr)
    else:
        bound = ops.record(type(expr)).bound  # AttributeError: no record, refused
        value = bound(*(_approx_value(a) for a in expr.args))  # TypeError: no bound
    if not mpmath.isfinite(value) or abs(value) > MAX_CONST_MAGNITUDE:
        raise OverflowError
    return value


def check_value(expr: sympy.Basic) -> None:
    """Refuse undefined values and constants too large for later steps to handle quickly."""
    for part in (expr, *expr.args):
        if part in _UNDEFINED:
            raise ParseError("undefined value (division by zero?)")
        if part.is_Rational and _const_bits(part) > MAX_CONST_BITS:
            raise ParseError("exact constant too large", hint=f"at most {MAX_CONST_BITS} bits")
        if part.is_Float and abs(part) > sys.float_info.max:
            raise ParseError("number out of range", hint="constants must fit a double")
    if expr.is_number and not expr.is_Number and _approx(expr).imag:
        raise ParseError("complex value", hint="the variables and constants here are real")


def literal(node: ast.Constant, ctx: Context) -> sympy.Expr:
    """A number literal of the text, within the limits; anything else is refused."""
    value = node.value
    if value is True:
        fail(node, ctx, "True is only allowed as a condition", "e.g. where(x > 0, x, 0)")
    if isinstance(value, int) and not isinstance(value, bool):
        if abs(value) >= 10**MAX_LITERAL_DIGITS:
            fail(node, ctx, "number literal too long", f"at most {MAX_LITERAL_DIGITS} digits")
        return sympy.Integer(value)
    if isinstance(value, float):
        return _float_literal(node, ctx)
    kind = {complex: "complex numbers are", str: "strings are", bytes: "strings are"}
    fail(node, ctx, kind.get(type(value), f"'{value!r}' is") + " not allowed")


def _float_literal(node: ast.Constant, ctx: Context) -> sympy.Expr:
    # The literal's own digits, not the rounded double: 0.1 stays 0.1 at its precision.
    digits = ctx.source.segment(node).replace("_", "")
    mantissa = re.split("[eE]", digits)[0]
    if sum(c.isdigit() for c in mantissa) > MAX_LITERAL_DIGITS:
        fail(node, ctx, "number literal too long", f"at most {MAX_LITERAL_DIGITS} digits")
    value = float(digits)
    if value == 0 and not mantissa.strip("0."):
        return sympy.Float(0)  # not Float('0e99999999'), whose exponent SymPy would expand
    if not 2.3e-308 < abs(value) < math.inf:
        fail(node, ctx, "float literal out of range", "floats must fit a double")
    return sympy.Float(digits)


# ---------------------------------------------------------------- SymPy objects


def check_tree(expr: sympy.Basic) -> None:
    """Refuse a SymPy object too large, too deep or with constants too large to handle.

    Its size counts a shared subexpression once for each use: SymPy's own walks
    (``free_symbols``, ``has``, ``xreplace``) visit every path, so a DAG of 60 nodes with
    2**60 paths is huge. Iterative and keyed by identity, so that neither a deep tree nor
    its hash (which recurses as deep as the tree) can overflow Python's stack here."""
    measured: dict[int, tuple[int, int]] = {}  # id -> (height, size)
    keep, stack = [], [(expr, False)]
    while stack:
        node, done = stack.pop()
        if done:
            parts = [measured[id(a)] for a in node.args]
            height = 1 + max((h for h, _ in parts), default=0)
            size = 1 + sum(n for _, n in parts)
            if height > MAX_TREE_HEIGHT:
                message = f"expression nested deeper than {MAX_TREE_HEIGHT} levels"
                raise ParseError(message, hint=SPLIT)
            if size > MAX_TREE_NODES:
                message = f"expression with more than {MAX_TREE_NODES:,} nodes"
                raise ParseError(message + " (counting each use of a shared part)", hint=SPLIT)
            measured[id(node)] = height, size
        elif id(node) not in measured:
            if not isinstance(node, sympy.Basic):
                raise ParseError(f"not a SymPy expression: {type(node).__name__}")
            _check_node(node)
            keep.append(node)  # ids stay valid while the objects live
            stack.append((node, True))
            stack.extend((a, False) for a in node.args if id(a) not in measured)


def _check_node(node: sympy.Basic) -> None:
    if node in _UNDEFINED:
        raise ParseError(f"undefined value in the expression: {node}")
    if node.is_Rational and _const_bits(node) > MAX_CONST_BITS:
        raise ParseError("exact constant too large", hint=f"at most {MAX_CONST_BITS} bits")
    if node.is_Float and (node._prec > MAX_FLOAT_PRECISION or not _double(node)):
        hint = f"floats must fit a double, with at most {MAX_FLOAT_PRECISION} bits"
        raise ParseError("float constant out of range", hint=hint)
    if node.is_Pow and node.exp.is_number:  # the parser's rules: 3**(10**9) is never computed
        if node.base.is_number:
            check_power(node.base, node.exp, functions=False)
        elif abs(_approx(node.exp)) > MAX_CONST_EXPONENT:  # without walking the base
            raise ParseError("exponent too large", hint=f"at most {MAX_CONST_EXPONENT} here")
    if isinstance(node, sympy.Max | sympy.Min) and len(node.args) > MAX_MINMAX_ARGS:
        raise ParseError(f"more than {MAX_MINMAX_ARGS} arguments to compare", hint=SPLIT)
    if isinstance(node, sympy.Piecewise) and len(node.args) > MAX_PIECES:
        raise ParseError(f"a piecewise of more than {MAX_PIECES} branches", hint=SPLIT)
    name = getattr(node, "name", None)
    if isinstance(name, str) and len(name) > MAX_NAME_CHARS:
        raise ParseError(f"name longer than {MAX_NAME_CHARS} characters: {name[:20]}...")
    if isinstance(node, MatrixSymbol):
        check_shape(f"the shape of the matrix {node.name}", node.shape)


def _double(value: sympy.Float) -> bool:
    # subnormals (5e-324 and up) are doubles too; Float(0.0) == 0 is False in SymPy
    f = float(value)
    return value.is_zero or (f != 0.0 and abs(f) <= sys.float_info.max)


def check_shape(label: str, dims: Any) -> tuple[int, int]:
    """``(rows, columns)``, two positive integers within ``MAX_SHAPE_DIM`` and
    ``MAX_SHAPE_ENTRIES``, or a ParseError on ``label`` (``shapes['W']``) saying why not."""
    seq = isinstance(dims, Sequence | sympy.Tuple) and not isinstance(dims, str | bytes)
    given = tuple(dims) if seq else ()
    if len(given) != 2 or not all(_positive_int(d) for d in given):
        hint = "two positive integers (rows, columns), e.g. (3, 1) for a column vector"
        raise ParseError(f"{label} is {dims!r}", hint=hint)
    rows, cols = int(given[0]), int(given[1])
    if max(rows, cols) > MAX_SHAPE_DIM or rows * cols > MAX_SHAPE_ENTRIES:
        hint = f"at most {MAX_SHAPE_DIM:,} rows or columns and {MAX_SHAPE_ENTRIES:,} entries"
        raise ParseError(f"{label} is {rows}×{cols}, too large", hint=hint)
    return rows, cols


def _positive_int(d: Any) -> bool:
    integral = isinstance(d, numbers.Integral) or getattr(d, "is_Integer", False)
    return integral and not isinstance(d, bool) and d > 0
