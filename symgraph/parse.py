"""Text to SymPy without ``eval``.

Python's own :mod:`ast` parser reads the text and a whitelist walk turns the tree into
SymPy: numbers, names (real symbols), ``+ - * / ** ^``, calls of the known functions, and
conditions inside ``where``/``piecewise``. Nothing the user writes is ever executed, and
every refusal is a :class:`ParseError` with a line, a column and a hint.

Limits, so that hostile input is refused in well under a second:

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

For the same reason (found by fuzzing: SymPy runs for minutes deciding the sign of such
constants) complex constants (``sqrt(-1)``) are refused, a constant holding a function
value (``log(2)``) may not be a function argument or a side of a comparison, and a
condition may not contain ``where``/``piecewise``.
"""

from __future__ import annotations

import ast
import difflib
import keyword
import math
import re
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain, count, pairwise
from typing import Any, NoReturn

import mpmath
import sympy
from sympy.functions.elementary.piecewise import ExprCondPair

from .functions import relu, sigmoid, softplus

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

_SPLIT = "split it into a program of named steps"
_BARE = "name it, or wrap an expression that spans lines in parentheses"
_UNDEFINED = frozenset({sympy.zoo, sympy.nan, sympy.oo, -sympy.oo})
_TRIVIAL = frozenset({sympy.S.Zero, sympy.S.One, sympy.S.NegativeOne})


@dataclass(eq=False)
class ParseError(ValueError):
    """Text that is not a formula symgraph accepts; ``str()`` is one actionable line.

    Attributes
    ----------
    message : str
        What is wrong.
    line, column : int or None
        1-based position in the text, when known.
    hint : str or None
        What to write instead.
    text : str or None
        The offending line of the input.
    """

    message: str
    line: int | None = None
    column: int | None = None
    hint: str | None = None
    text: str | None = None

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        where = ", ".join(
            f"{k} {v}" for k, v in [("line", self.line), ("column", self.column)] if v
        )
        return (where and where + ": ") + self.message + (f" ({self.hint})" if self.hint else "")


@dataclass(frozen=True)
class Program:
    """A straight-line program: one ``name = expression`` a line, in order.

    Attributes
    ----------
    lines : tuple of (Symbol, Expr)
        Each line's name and right-hand side; later lines use earlier names as symbols.
    output : Symbol
        The last line's name.
    """

    lines: tuple[tuple[sympy.Symbol, sympy.Expr], ...]
    output: sympy.Symbol


# ---------------------------------------------------------------- source and positions


class _Source:
    """The user's text and the code given to ``ast.parse``, with a column map between them.

    A common indentation is removed (an indented triple-quoted program is fine) and ``^``
    is spelled ``**``: Python's ``^`` is xor, with the wrong precedence, and the language
    has no strings, so the replacement is safe.
    """

    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")
        indents = [s[: len(s) - len(s.lstrip())] for s in self.lines]
        code = [i for s, i in zip(self.lines, indents, strict=True) if s.strip()[:1] not in "#"]
        margin = min(code, key=len, default="")
        margin = margin if all(i.startswith(margin) for i in code) else ""
        self.cuts = [len(margin) if i.startswith(margin) else len(i) for i in indents]
        self.code_lines = [s[c:].replace("^", "**") for s, c in zip(self.lines, self.cuts)]  # noqa: B905
        self.code = "\n".join(self.code_lines)
        self._encoded: dict[int, bytes] = {}

    def line_text(self, line: int | None) -> str | None:
        return self.lines[line - 1].rstrip("\r") if line and 1 <= line <= len(self.lines) else None

    def column(self, line: int, index: int) -> int:
        """The 1-based column in the user's line of character ``index`` of the code line."""
        if not 1 <= line <= len(self.lines):
            return index + 1
        text, i, j = self.lines[line - 1], self.cuts[line - 1], 0
        while i < len(text) and j < index:
            j, i = j + (2 if text[i] == "^" else 1), i + 1
        return i + 1

    def _bytes(self, line: int) -> bytes:
        # ast offsets count UTF-8 bytes; encode each line once, not once per node.
        if line not in self._encoded:
            self._encoded[line] = self.code_lines[line - 1].encode()
        return self._encoded[line]

    def position(self, node: Any) -> tuple[int, int]:
        index = len(self._bytes(node.lineno)[: node.col_offset].decode(errors="ignore"))
        return node.lineno, self.column(node.lineno, index)

    def segment(self, node: Any) -> str:
        return self._bytes(node.lineno)[node.col_offset : node.end_col_offset].decode()


@dataclass(frozen=True)
class _Context:
    """Where the walk is: the source, and in a program which statement assigns each name."""

    source: _Source
    assigned: dict[str, tuple[int, int]]  # name -> (statement index, line)
    statement: int = 0


def _fail(node: ast.AST, ctx: _Context, message: str, hint: str | None = None) -> NoReturn:
    line, column = ctx.source.position(node)
    raise ParseError(message, line, column, hint, ctx.source.line_text(line))


# ---------------------------------------------------------------- guarded SymPy builders


def _const_bits(expr: sympy.Basic, kinds: tuple[type, ...] = (sympy.Rational,)) -> int:
    """Bits of the constants in ``expr`` that SymPy may fold together (0 and ±1 never grow)."""
    if expr.is_Symbol:
        return 0  # the common case, without a walk
    atoms = expr.atoms(*kinds) - _TRIVIAL
    return sum(max(abs(a.p).bit_length(), a.q.bit_length()) if a.is_Rational else 53 for a in atoms)


def _power(base: sympy.Expr, exponent: sympy.Expr) -> sympy.Expr:
    """``base**exponent``, refused before SymPy starts an exact power or root it cannot finish."""
    if (
        base.is_number
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
        return sympy.Pow(base, exponent)
    if numeric.is_Rational and not numeric.is_Integer:
        # SymPy factors the base to extract roots: keep that small.
        if bits * abs(numeric.p) > MAX_ROOT_BITS or numeric.q > MAX_CONST_EXPONENT:
            raise ParseError("fractional power of a large constant", hint="use a float")
    elif bits * abs(_approx(numeric)) > MAX_CONST_BITS:
        raise ParseError("constant power too large", hint=f"at most {MAX_CONST_BITS} bits")
    return sympy.Pow(base, exponent)


def _folding(func: type[sympy.Expr]) -> Callable[..., sympy.Expr]:
    def build(*args: sympy.Expr) -> sympy.Expr:
        # Each operand is checked, but SymPy folds all their constants together at once.
        if sum(_const_bits(a) for a in args) > MAX_FOLD_BITS:
            raise ParseError("too many large constants in one sum or product", hint=_SPLIT)
        return func(*args)

    return build


def _minmax(func: type[sympy.Expr]) -> Callable[..., sympy.Expr]:
    def build(*args: sympy.Expr) -> sympy.Expr:
        # SymPy merges nested max(max(...)), then compares every pair of arguments.
        if sum(len(a.args) if isinstance(a, func) else 1 for a in args) > MAX_MINMAX_ARGS:
            raise ParseError(f"more than {MAX_MINMAX_ARGS} arguments to compare", hint=_SPLIT)
        return func(*args)

    return build


def _approx(expr: sympy.Basic) -> Any:
    """A 53-bit value of a constant, refused if it (or a part of it) is huge or undefined.

    mpmath's unbounded exponent keeps a tiny imaginary part (``(-1e-300)**1.5``) visible,
    where a double would underflow to 0 and hide that the constant is complex."""
    try:
        return _approx_value(expr)
    except (ArithmeticError, ValueError, KeyError):
        hint = f"constants must stay below {MAX_CONST_MAGNITUDE:g}"
        raise ParseError("constant too large or undefined", hint=hint) from None


def _approx_value(expr: sympy.Basic) -> Any:
    if expr.is_Number or expr.is_NumberSymbol:
        value = mpmath.mpf(expr._as_mpf_val(53))
    elif expr is sympy.I:
        value = mpmath.mpc(0, 1)
    else:
        value = _APPROXIMATIONS[type(expr)](expr)  # KeyError: refuse what we cannot bound
    if not mpmath.isfinite(value) or abs(value) > MAX_CONST_MAGNITUDE:
        raise OverflowError
    return value


def _bound(expr: sympy.Basic) -> Any:
    # max, abs, sigmoid, ...: a bound on the size is all the check needs.
    return 1 + max(abs(_approx_value(a)) for a in expr.args)


def _elementary(name: str) -> Callable[[sympy.Basic], Any]:
    return lambda expr: getattr(mpmath, name)(_approx_value(expr.args[0]))


_ELEMENTARY = ["exp", "log", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh"]
_BOUNDED = (sympy.Abs, sympy.sign, sympy.Heaviside, sympy.Max, sympy.Min, sympy.Piecewise)
_APPROXIMATIONS: dict[type, Callable[[Any], Any]] = {
    sympy.Add: lambda e: mpmath.fsum(_approx_value(a) for a in e.args),
    sympy.Mul: lambda e: mpmath.fprod(_approx_value(a) for a in e.args),
    sympy.Pow: lambda e: mpmath.power(_approx_value(e.base), _approx_value(e.exp)),
    ExprCondPair: lambda e: _approx_value(e.expr),
    **{getattr(sympy, name): _elementary(name) for name in _ELEMENTARY},
    **dict.fromkeys((*_BOUNDED, sigmoid, relu, softplus), _bound),
}


def _check_value(expr: sympy.Basic) -> None:
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


def _build(func: Callable[..., Any], args: Any, node: ast.AST, ctx: _Context, check: bool = True):
    """Call a SymPy constructor; its refusals and failures become a ParseError at ``node``."""
    try:
        result = func(*args)
        if check:
            _check_value(result)
    except ParseError as exc:
        _fail(node, ctx, exc.message, exc.hint)
    except (Exception, RecursionError, MemoryError) as exc:  # SymPy's own bugs too
        _fail(node, ctx, "cannot build this: " + (str(exc).splitlines() or ["invalid"])[0])
    return result


# ---------------------------------------------------------------- the whitelist walk

_FUNCTIONS: dict[str, tuple[Callable[..., sympy.Expr], int, int | None]] = {
    **{name: (getattr(sympy, name), 1, 1) for name in _ELEMENTARY},  # log: below
    "sqrt": (lambda a: _power(a, sympy.S.Half), 1, 1),
    **{f.__name__: (f, 1, 1) for f in (sigmoid, relu, softplus, sympy.sign, sympy.Heaviside)},
    **{name: (f, 1, 1) for name, f in [("ln", sympy.log), ("abs", sympy.Abs)]},
    **{"log": (sympy.log, 1, 2), "heaviside": (sympy.Heaviside, 1, 1)},
    **{"max": (_minmax(sympy.Max), 2, None), "min": (_minmax(sympy.Min), 2, None)},
}
_CONSTANTS = {"pi": sympy.pi, "π": sympy.pi, "e": sympy.E, "E": sympy.E}
_COLLECTIONS = (ast.List, ast.Set, ast.Dict, ast.ListComp, ast.SetComp, ast.DictComp)
_REFUSED: dict[type, tuple[str, str | None]] = {
    ast.Attribute: ("attribute access (a.b) is not allowed", None),
    ast.Subscript: ("subscripts (a[i]) are not allowed", None),
    ast.Lambda: ("lambda is not allowed", None),
    ast.IfExp: ("'a if c else b' is not supported", "use where(c, a, b)"),
    ast.Compare: ("comparisons are only allowed as conditions", "use where(x > 0, a, b)"),
    ast.BoolOp: ("'and'/'or' are only allowed in conditions", "use where(cond, a, b)"),
    ast.NamedExpr: ("':=' is not allowed", "write one assignment a line"),
    ast.Tuple: ("tuples are only allowed inside piecewise(...)", None),
    ast.JoinedStr: ("strings are not allowed", None),
    ast.Starred: ("starred arguments are not allowed", None),
    **dict.fromkeys(
        (*_COLLECTIONS, ast.GeneratorExp), ("lists and the like are not allowed", None)
    ),
}
_BITS = (ast.BitAnd, ast.BitOr, ast.BitXor, ast.LShift, ast.RShift, ast.Invert)
_OPERATORS: dict[type, tuple[str, str | None]] = {
    ast.MatMult: ("matrix products (@) are not supported yet", "matrices come later"),
    ast.Mod: ("'%' is not supported", None),
    ast.FloorDiv: ("'//' is not supported", "use / for division"),
    ast.Not: ("'not' is only allowed in conditions", "use where(cond, a, b)"),
    **dict.fromkeys(_BITS, ("bit operators are not supported", "write powers as x^2 or x**2")),
}
_RELATIONS = {ast.Lt: sympy.Lt, ast.LtE: sympy.Le, ast.Gt: sympy.Gt, ast.GtE: sympy.Ge}
_FOLD = {ast.Add: _folding(sympy.Add), ast.Mult: _folding(sympy.Mul)}


def _deeper(node: ast.AST, ctx: _Context, depth: int) -> int:
    if depth >= MAX_DEPTH:
        _fail(node, ctx, "nested too deeply", _SPLIT)
    return depth + 1


def _expr(node: ast.AST, ctx: _Context, depth: int) -> sympy.Expr:
    depth = _deeper(node, ctx, depth)
    handler = _EXPRESSIONS.get(type(node))
    if handler is None:
        _fail(node, ctx, *_REFUSED.get(type(node), ("unsupported syntax", None)))
    return handler(node, ctx, depth)


def _constant(node: ast.Constant, ctx: _Context, depth: int) -> sympy.Expr:
    value = node.value
    if value is True:
        _fail(node, ctx, "True is only allowed as a condition", "e.g. where(x > 0, x, 0)")
    if isinstance(value, int) and not isinstance(value, bool):
        if abs(value) >= 10**MAX_LITERAL_DIGITS:
            _fail(node, ctx, "number literal too long", f"at most {MAX_LITERAL_DIGITS} digits")
        return sympy.Integer(value)
    if isinstance(value, float):
        return _float_literal(node, ctx)
    kind = {complex: "complex numbers are", str: "strings are", bytes: "strings are"}
    _fail(node, ctx, kind.get(type(value), f"'{value!r}' is") + " not allowed")


def _float_literal(node: ast.Constant, ctx: _Context) -> sympy.Expr:
    # The literal's own digits, not the rounded double: 0.1 stays 0.1 at its precision.
    digits = ctx.source.segment(node).replace("_", "")
    mantissa = re.split("[eE]", digits)[0]
    if sum(c.isdigit() for c in mantissa) > MAX_LITERAL_DIGITS:
        _fail(node, ctx, "number literal too long", f"at most {MAX_LITERAL_DIGITS} digits")
    value = float(digits)
    if value == 0 and not mantissa.strip("0."):
        return sympy.Float(0)  # not Float('0e99999999'), whose exponent SymPy would expand
    if not 2.3e-308 < abs(value) < math.inf:
        _fail(node, ctx, "float literal out of range", "floats must fit a double")
    return sympy.Float(digits)


def _name(node: ast.Name, ctx: _Context, depth: int) -> sympy.Expr:
    if node.id in _CONSTANTS:
        return _CONSTANTS[node.id]
    _check_name(node, ctx)
    assigned = ctx.assigned.get(node.id)
    if assigned is not None and assigned[0] >= ctx.statement:
        message = f"'{node.id}' is used before its assignment on line {assigned[1]}"
        _fail(node, ctx, message, "assign each name on a line before its first use")
    return sympy.Symbol(node.id, real=True)


def _check_name(node: ast.Name, ctx: _Context, target: bool = False) -> None:
    name = node.id
    if name in _FUNCTIONS or name in _SPECIAL:
        hint = "choose another name" if target else f"call it, e.g. {name}(x)"
        _fail(node, ctx, f"'{name}' is a function, not a variable", hint)
    if target and name in _CONSTANTS:
        _fail(node, ctx, f"'{name}' is a constant and cannot be assigned", "choose another name")
    if name.startswith("_"):
        _fail(node, ctx, f"names must not start with '_': '{name}'")
    if len(name) > MAX_NAME_CHARS:
        _fail(node, ctx, f"name longer than {MAX_NAME_CHARS} characters")


def _chain(node: ast.BinOp, ctx: _Context, depth: int) -> sympy.Expr:
    """A chain such as ``a - b + c`` or ``a*b/c``, walked in a loop, so a sum of thousands
    of terms neither recurses nor counts as deep nesting."""
    top, kind, pending = node, ast.Add if isinstance(node.op, ast.Add | ast.Sub) else ast.Mult, []
    inverse = {ast.Add: ast.Sub, ast.Mult: ast.Div}[kind]
    while isinstance(node, ast.BinOp) and isinstance(node.op, kind | inverse):
        pending.append((isinstance(node.op, inverse), node.right))
        node = node.left
    operands = []
    for invert, operand in reversed([*pending, (False, node)]):
        value = _expr(operand, ctx, depth)
        if invert and kind is ast.Add:
            value = -value
        elif invert:
            value = _build(_power, (value, sympy.S.NegativeOne), operand, ctx)
        operands.append(value)
    return _build(_FOLD[kind], operands, top, ctx)


def _binop(node: ast.BinOp, ctx: _Context, depth: int) -> sympy.Expr:
    if isinstance(node.op, ast.Add | ast.Sub | ast.Mult | ast.Div):
        return _chain(node, ctx, depth)
    if isinstance(node.op, ast.Pow):
        base, exponent = _expr(node.left, ctx, depth), _expr(node.right, ctx, depth)
        return _build(_power, (base, exponent), node, ctx)
    _fail(node, ctx, *_OPERATORS.get(type(node.op), ("unsupported operator", None)))


def _unary(node: ast.UnaryOp, ctx: _Context, depth: int) -> sympy.Expr:
    negative = False
    while isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        negative ^= isinstance(node.op, ast.USub)  # a run of signs is one level, not many
        node = node.operand
    if isinstance(node, ast.UnaryOp):
        _fail(node, ctx, *_OPERATORS.get(type(node.op), ("unsupported operator", None)))
    value = _expr(node, ctx, depth)
    return -value if negative else value


def _call(node: ast.Call, ctx: _Context, depth: int) -> sympy.Expr:
    if not isinstance(node.func, ast.Name):
        if type(node.func) in _REFUSED:
            _expr(node.func, ctx, depth)  # refuses attributes, subscripts, lambdas, ...
        _fail(node, ctx, "only the known functions can be called", "write a*(b) to multiply")
    name = node.func.id
    builder, low, high = _SPECIAL.get(name) or _FUNCTIONS.get(name) or _unknown(node.func, ctx)
    if node.keywords:
        _fail(node.keywords[0], ctx, "keyword arguments are not supported", "pass them in order")
    for arg in node.args:
        if isinstance(arg, ast.Starred):
            _fail(arg, ctx, "starred arguments are not allowed")
    if not low <= len(node.args) <= (high or len(node.args)):
        takes = f"{low} or {high}" if high and high > low else str(low) if high else f">= {low}"
        _fail(node, ctx, f"{name}() takes {takes} argument(s), not {len(node.args)}")
    if name in _SPECIAL:
        return builder(node, ctx, depth)
    return _build(builder, [_argument(a, ctx, depth) for a in node.args], node, ctx)


def _argument(node: ast.AST, ctx: _Context, depth: int) -> sympy.Expr:
    """An argument of a function or a comparison. SymPy decides signs of constant arguments
    by numeric evaluation, which can run for minutes when the constant itself holds a
    function value (``max(softplus(-1), 1/3)``, ``sin(exp(10**50))``): refuse those."""
    value = _expr(node, ctx, depth)
    if value.is_number and value.atoms(sympy.Function):
        message = "a constant holding a function, like log(2), cannot be an argument here"
        _fail(node, ctx, message, "write its value as a decimal number")
    return value


def _unknown(func: ast.Name, ctx: _Context) -> NoReturn:
    known = sorted({*_FUNCTIONS, *_SPECIAL}, key=str.lower)
    close = difflib.get_close_matches(func.id, known, n=1)
    hint = f"did you mean '{close[0]}'?" if close else "known functions: " + ", ".join(known)
    _fail(func, ctx, f"unknown function '{func.id}'", hint)


def _where(node: ast.Call, ctx: _Context, depth: int) -> sympy.Expr:
    condition = _condition(node.args[0], ctx, depth)
    then, otherwise = (_expr(a, ctx, depth) for a in node.args[1:])
    return _build(sympy.Piecewise, ((then, condition), (otherwise, sympy.true)), node, ctx)


def _piecewise(node: ast.Call, ctx: _Context, depth: int) -> sympy.Expr:
    pairs = []
    for arg in node.args:
        if not (isinstance(arg, ast.Tuple) and len(arg.elts) == 2):
            hint = "e.g. piecewise((x, x > 0), (0, True))"
            _fail(arg, ctx, "piecewise takes (value, condition) pairs", hint)
        pairs.append((_expr(arg.elts[0], ctx, depth), _condition(arg.elts[1], ctx, depth)))
    if pairs[-1][1] is not sympy.true:
        message = "the last pair of piecewise needs the condition True"
        _fail(node.args[-1], ctx, message, "add an otherwise branch such as (0, True)")
    return _build(sympy.Piecewise, pairs, node, ctx)


def _condition(node: ast.AST, ctx: _Context, depth: int) -> sympy.Basic:
    depth = _deeper(node, ctx, depth)
    if isinstance(node, ast.Compare):
        if not all(type(op) in _RELATIONS for op in node.ops):
            _fail(node, ctx, "only <, <=, >, >= may compare", "== and != make no sense for reals")
        sides = [_argument(n, ctx, depth) for n in (node.left, *node.comparators)]
        if any(side.has(sympy.Piecewise) for side in sides):  # SymPy would fold and solve it
            _fail(node, ctx, "a condition cannot contain where or piecewise", "name it first")
        relations = [
            _build(_RELATIONS[type(op)], pair, node, ctx, check=False)
            for op, pair in zip(node.ops, pairwise(sides), strict=True)
        ]
        return _build(sympy.And, relations, node, ctx, check=False)
    if isinstance(node, ast.BoolOp):
        parts = [_condition(v, ctx, depth) for v in node.values]
        both = sympy.And if isinstance(node.op, ast.And) else sympy.Or
        return _build(both, parts, node, ctx, check=False)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return _build(sympy.Not, [_condition(node.operand, ctx, depth)], node, ctx, check=False)
    if isinstance(node, ast.Constant) and node.value is True:
        return sympy.true
    _fail(node, ctx, "a condition is expected here", "e.g. x > 0, 0 < x <= 1, x > 0 and y < 1")


_EXPRESSIONS: dict[type, Callable[..., sympy.Expr]] = {
    ast.Constant: _constant,
    ast.Name: _name,
    ast.BinOp: _binop,
    ast.UnaryOp: _unary,
    ast.Call: _call,
}
_SPECIAL: dict[str, tuple[Callable[..., sympy.Expr], int, int | None]] = {
    "where": (_where, 3, 3),
    "piecewise": (_piecewise, 1, None),
}


# ---------------------------------------------------------------- Python's syntax errors

_SYNTAX_MESSAGES = (  # (fragment of Python's message, our message, hint)
    ("too many nested parentheses", "nested too deeply", _SPLIT),
    ("never closed", "unbalanced parentheses: {msg}", None),
    ("unmatched", "unbalanced parentheses: {msg}", None),
    ("does not match opening", "unbalanced parentheses: {msg}", None),
    ("Exceeds the limit", "number literal too long", f"at most {MAX_LITERAL_DIGITS} digits"),
    ("leading zeros", "invalid number", "leading zeros are not allowed"),
    ("indent", "unexpected indentation", "start every line in the same column"),
    ("string literal", "strings are not allowed", None),
    ("'if' expression", "'a if c else b' is not supported", "use where(c, a, b)"),
    ("keyword argument", "keyword arguments are not supported", "pass them in order"),
    ("cannot assign", "the left side of '=' must be a single name", "e.g. t1 = exp(x)"),
)
_LOOKALIKES = {"−": "-", "×": "*", "·": "*", "÷": "/", "≤": "<=", "≥": ">=", "²": "^2"}


def _syntax_error(exc: SyntaxError, source: _Source) -> ParseError:
    msg, line, index = exc.msg or "invalid syntax", exc.lineno, max((exc.offset or 1) - 1, 0)
    column = source.column(line, index) if line and exc.offset else None
    code = source.code_lines[line - 1] if line and line <= len(source.code_lines) else ""
    found = [(m.format(msg=msg), h) for f, m, h in _SYNTAX_MESSAGES if f in msg]
    message, hint = found[0] if found else (msg, None)
    if not found and "literal" in msg:  # '2x' reads as a malformed number
        pairs = re.findall(r"(?<![\w.])(\d[\d_.]*(?:[eE][+-]?\d+)?)([A-Za-z_]\w*)", code)
        message, hint = "invalid number", f"write {'*'.join(pairs[-1])}" if pairs else None
    elif "invalid character" in msg:
        char = re.search(r"'(.)'", msg)
        hint = f"use '{_LOOKALIKES[char[1]]}'" if char and char[1] in _LOOKALIKES else None
    elif msg.startswith("invalid syntax"):
        message, hint = _invalid_syntax(code, index)
    return ParseError(message, line, column, hint, source.line_text(line))


def _invalid_syntax(code: str, index: int) -> tuple[str, str | None]:
    rest = code[index:].strip()
    if not rest or rest.startswith("#"):
        hint = "an operand is missing; to continue on the next line, wrap it in parentheses"
        return "incomplete expression", hint
    for left, right in re.findall(r"([\w.]+|\))\s+(?=([\w.]+|\())", code):
        if not (keyword.iskeyword(left) or keyword.iskeyword(right)):
            return "missing operator", f"write {left}*{right} to multiply"
    return "invalid syntax", None


# ---------------------------------------------------------------- public functions


def _parse_module(text: str) -> tuple[ast.Module, _Source]:
    if not isinstance(text, str):
        raise TypeError(f"parse takes a str, not {type(text).__name__}")
    if len(text) > MAX_TEXT_CHARS:
        raise ParseError(f"input too long: {len(text):,} characters, at most {MAX_TEXT_CHARS:,}")
    source = _Source(text)
    try:
        with warnings.catch_warnings():  # '1and x' warns; a caller's 'error' filter would
            warnings.simplefilter("ignore", SyntaxWarning)  # also turn it into SyntaxError
            module = ast.parse(source.code, mode="exec")
    except SyntaxError as exc:
        raise _syntax_error(exc, source) from None
    except (RecursionError, MemoryError):  # Python's parser on very long or deep input
        raise ParseError("too long or nested too deeply for the parser", hint=_SPLIT) from None
    except ValueError as exc:  # null bytes, on some Python versions
        raise ParseError(f"unreadable text: {exc}") from None
    if not module.body:
        raise ParseError("empty input", hint="write an expression such as x^2 + 1")
    return module, source


def _expression(module: ast.Module, source: _Source) -> sympy.Expr:
    ctx = _Context(source, {})
    first, *rest = module.body
    if rest:
        _fail(rest[0], ctx, "one expression expected, found more statements", "use parse_program")
    if not isinstance(first, ast.Expr):
        _fail(first, ctx, "an expression is expected", "use parse_program for assignments")
    return _expr(first.value, ctx, 0)


def _target(stmt: ast.stmt, ctx: _Context) -> ast.Name:
    if isinstance(stmt, ast.AugAssign):
        _fail(stmt, ctx, "augmented assignment is not supported", "use a new name: t2 = t1 + 1")
    if not isinstance(stmt, ast.Assign):
        _fail(stmt, ctx, "only 'name = expression' lines are allowed", "and a final expression")
    if len(stmt.targets) > 1:
        _fail(stmt.targets[1], ctx, "chained assignment is not supported", "one name a line")
    target = stmt.targets[0]
    if isinstance(target, ast.Tuple | ast.List):
        _fail(target, ctx, "tuple assignment is not supported", "assign one name a line")
    if not isinstance(target, ast.Name):
        _fail(target, ctx, "the left side of '=' must be a name", "e.g. t1 = exp(x)")
    _check_name(target, ctx, target=True)
    return target


def _assignments(body: list[ast.stmt], ctx: _Context) -> dict[str, tuple[int, int]]:
    """Which statement assigns each name, after checking every statement's shape."""
    assigned: dict[str, tuple[int, int]] = {}
    for index, stmt in enumerate(body):
        if isinstance(stmt, ast.Expr):
            if index < len(body) - 1:
                _fail(stmt, ctx, "only the last statement may be a bare expression", _BARE)
            continue
        target = _target(stmt, ctx)
        if target.id in assigned:
            message = f"'{target.id}' is assigned twice (first on line {assigned[target.id][1]})"
            _fail(target, ctx, message, "use a new name for each line")
        assigned[target.id] = (index, stmt.lineno)
    return assigned


def _program(module: ast.Module, source: _Source) -> Program:
    assigned = _assignments(module.body, _Context(source, {}))
    lines = []
    for index, stmt in enumerate(module.body):
        if isinstance(stmt, ast.Assign):
            name = stmt.targets[0].id  # type: ignore[attr-defined]
        else:  # a final bare expression is the output f, or y if f is taken, ...
            used = {n.id for n in ast.walk(module) if isinstance(n, ast.Name)}
            name = next(n for n in chain("fy", (f"f{i}" for i in count(1))) if n not in used)
        value = _expr(stmt.value, _Context(source, assigned, index), 0)  # type: ignore[attr-defined]
        lines.append((sympy.Symbol(name, real=True), value))
    return Program(tuple(lines), lines[-1][0])


def parse_expr_text(text: str) -> sympy.Expr:
    """Parse one expression, such as ``"exp(x)^2 + sigmoid(y)"``.

    Raises
    ------
    ParseError
        For anything but a single whitelisted expression.
    """
    return _expression(*_parse_module(text))


def parse_program(text: str) -> Program:
    """Parse lines ``name = expression``; the last may be a bare expression, named f (or y).

    Raises
    ------
    ParseError
        Naming the line, for a name assigned twice or used before its line, and the like.
    """
    return _program(*_parse_module(text))


def parse(text: str) -> sympy.Expr | Program:
    r"""Parse text into a SymPy expression, or a :class:`Program` if it has assignments.

    Names become real symbols; ``^`` is a power; ``e`` and ``pi`` are constants.

    Examples
    --------
    >>> parse("x^2 + e^y")
    x**2 + exp(y)
    >>> parse("where(x > 0, x, -x)")
    Piecewise((x, x > 0), (-x, True))
    >>> program = parse("t1 = exp(u1)\nf = t1 * u2")
    >>> program.output, program.lines[1]
    (f, (f, t1*u2))
    >>> parse("expp(x)")
    Traceback (most recent call last):
    symgraph.parse.ParseError: line 1, column 1: unknown function 'expp' (did you mean 'exp'?)
    """
    module, source = _parse_module(text)
    if len(module.body) == 1 and isinstance(module.body[0], ast.Expr):
        return _expression(module, source)
    return _program(module, source)
