"""The parser's whitelist walk: a Python ``ast`` tree to SymPy, refusing everything else.

Numbers, names (real symbols, or matrices when given a shape), ``+ - * / ** ^ @``, the
entrywise ``.^`` and ``./`` (:mod:`symgraph.parse.source` marks them), ``M.T``, calls of
the known functions (also as methods: ``x.relu()`` is ``relu(x)``), and conditions inside
``where``/``piecewise``. Nothing the user writes is ever executed; each SymPy
constructor runs through :func:`build`, so its refusals (the guards of
:mod:`symgraph.parse.guards`, the shape checks of :mod:`symgraph.parse.matrices`) and
failures become a :class:`ParseError` at the node.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Callable
from itertools import pairwise
from typing import Any, NoReturn

import sympy
from sympy.matrices.exceptions import ShapeError

import symgraph.parse.matrices as mx  # the module, not the package (no cycle through it)

from .domain import applying, construct
from .guards import (
    MAX_DEPTH,
    MAX_PIECES,
    SPLIT,
    check_value,
    folding,
    literal,
    power,
)
from .names import CONSTANTS, CONSTANTS_TEXT, SPECIAL, Signature, reserved, spellings, variable
from .source import Context, ParseError, fail


def build(func: Callable[..., Any], args: Any, node: ast.AST, ctx: Context, check: bool = True):
    """Call a SymPy constructor; its refusals and failures become a ParseError at ``node``."""
    try:
        result = func(*args)
        if check:
            check_value(result)
    except ParseError as exc:
        fail(node, ctx, exc.message, exc.hint)
    except ShapeError as exc:  # our own checks come first; this is a safety net
        fail(node, ctx, "shape mismatch: " + (str(exc).splitlines() or ["invalid"])[0])
    except (Exception, RecursionError, MemoryError) as exc:  # SymPy's own bugs too
        fail(node, ctx, "cannot build this: " + (str(exc).splitlines() or ["invalid"])[0])
    return result


# ---------------------------------------------------------------- the whitelist

_NOT_ELEMENTWISE = "entry by entry, max(A, B) = B + relu(A - B) and min(A, B) = A - relu(A - B)"
_NO_CONDITIONS = "conditions on matrices are not supported; use relu, abs or heaviside"
_COLLECTIONS = (ast.List, ast.Set, ast.Dict, ast.ListComp, ast.SetComp, ast.DictComp)
_REFUSED: dict[type, tuple[str, str | None]] = {
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
    ast.Mod: ("'%' is not supported", None),
    ast.FloorDiv: ("'//' is not supported", "use / for division"),
    ast.Not: ("'not' is only allowed in conditions", "use where(cond, a, b)"),
    **dict.fromkeys(_BITS, ("bit operators are not supported", "write powers as x^2 or x**2")),
}
_RELATIONS = {ast.Lt: sympy.Lt, ast.LtE: sympy.Le, ast.Gt: sympy.Gt, ast.GtE: sympy.Ge}
_SUM, _PRODUCT = (ast.Add, ast.Sub), (ast.Mult, ast.Div, ast.MatMult)
_FOLD = {_SUM: folding(sympy.Add), _PRODUCT: folding(sympy.Mul)}


# ---------------------------------------------------------------- the walk


def negated(value: sympy.Expr) -> sympy.Expr:
    """``-value``, its domain kept (``-(log(x) - log(x))`` must not become 0)."""
    return construct(sympy.Mul, sympy.S.NegativeOne, value)


def _deeper(node: ast.AST, ctx: Context, depth: int) -> int:
    if depth >= MAX_DEPTH:
        fail(node, ctx, "nested too deeply", SPLIT)
    return depth + 1


def walk(node: ast.AST, ctx: Context, depth: int) -> sympy.Expr:
    """The SymPy value of an expression node, or a ParseError."""
    depth = _deeper(node, ctx, depth)
    handler = _EXPRESSIONS.get(type(node))
    if handler is None:
        fail(node, ctx, *_REFUSED.get(type(node), ("unsupported syntax", None)))
    return handler(node, ctx, depth)


def _chain(node: ast.BinOp, ctx: Context, depth: int) -> sympy.Expr:
    """A chain such as ``a - b + c`` or ``a*b/c``, walked in a loop, so a sum of thousands
    of terms neither recurses nor counts as deep nesting."""
    top, kind, pending = node, _SUM if isinstance(node.op, _SUM) else _PRODUCT, []
    while isinstance(node, ast.BinOp) and isinstance(node.op, kind):
        pending.append((type(node.op), _unmarked(node.right, ctx)))
        node = node.left
    operands = [(None, node), *reversed(pending)]
    values = [walk(operand, ctx, depth) for _, operand in operands]
    if kind is _SUM and mx.one_by_one_or_scalars(values):
        values = [mx.as_scalar(v) for v in values]  # w.T*x + b: the 1×1 is a scalar
    if any(map(mx.is_matrix, values)):
        return (_matrix_sum if kind is _SUM else _matrix_product)(operands, values, top, ctx)
    if ast.MatMult in (op for op, _ in operands):
        _scalar_matmul(operands, ctx)
    terms = []
    for (op, operand), value in zip(operands, values, strict=True):
        if op is ast.Sub:
            value = build(negated, (value,), operand, ctx)
        elif op is ast.Div:
            value = build(power, (value, sympy.S.NegativeOne), operand, ctx)
        terms.append(value)
    return build(_FOLD[kind], terms, top, ctx)


def _unmarked(node: ast.AST, ctx: Context) -> ast.AST:
    """The divisor of ``A./B``: ``B`` (division by a matrix is entrywise anyway)."""
    return node.operand if ctx.source.entrywise(node) else node


def _scalar_matmul(operands: list, ctx: Context) -> NoReturn:
    at = next(i for i, (op, _) in enumerate(operands) if op is ast.MatMult)
    left = ctx.source.label(operands[0][1], operands[at - 1][1])
    message = f"@ multiplies matrices, but {left} is a scalar"
    fail(operands[0][1], ctx, message, mx.scalar_hint(left))


def _matrix_product(operands: list, values: list, top: ast.AST, ctx: Context) -> sympy.Expr:
    """``2*W*x/c`` or ``A @ B``: scalars gathered into one coefficient, matrix factors checked
    pairwise; the error names the factor that does not fit and everything left of it."""
    scalars, factors, label = [], [], ctx.source.label
    for i, ((op, operand), value) in enumerate(zip(operands, values, strict=True)):
        left = (factors[0].rows, factors[-1].cols) if factors else None
        shapes = left, mx.shape_of(value)
        labels = label(operands[0][1], operands[i - 1][1]), label(operand)  # lazy: read on error
        if op is ast.MatMult:
            at = operand if factors else operands[0][1]  # the scalar side
            build(mx.check_matmul_operator, (*shapes, labels), at, ctx, check=False)
        if op is ast.Div and mx.is_matrix(value) and value.shape != (1, 1):
            factors = build(mx.divided, (factors, value, labels), operand, ctx, check=False)
        elif op is ast.Div:
            value = mx.as_scalar(value)  # dividing by a 1×1 is dividing by its entry
            scalars.append(build(power, (value, sympy.S.NegativeOne), operand, ctx))
        elif mx.is_matrix(value):
            build(mx.check_product, (*shapes, labels), operand, ctx, check=False)
            inner, rest = mx.coefficient_and_rest(value)
            scalars += inner
            factors.append(rest)
        else:
            scalars.append(value)
    coefficient = build(_FOLD[_PRODUCT], scalars, top, ctx)
    if not factors:  # y/(w.T*x): every matrix was a 1×1 divisor
        return coefficient
    return build(mx.product, (coefficient, factors), top, ctx, check=False)


def _matrix_sum(operands: list, values: list, top: ast.AST, ctx: Context) -> sympy.Expr:
    """``W*x + b - y``: every term a matrix of the same shape."""
    terms, first = [], mx.shape_of(values[0])
    for i, ((op, operand), value) in enumerate(zip(operands, values, strict=True)):
        if i:
            labels = ctx.source.label(operands[0][1], operands[i - 1][1]), ctx.source.label(operand)
            args = (first, mx.shape_of(value), labels, op is ast.Sub)
            build(mx.check_sum, args, operand, ctx, check=False)
        terms.append(mx.scale(sympy.S.NegativeOne, value) if op is ast.Sub else value)
    return build(mx.matrix_sum, (terms,), top, ctx, check=False)


def _binop(node: ast.BinOp, ctx: Context, depth: int) -> sympy.Expr:
    if isinstance(node.op, _SUM + _PRODUCT):
        return _chain(node, ctx, depth)
    if isinstance(node.op, ast.Pow):
        return _power(node, ctx, depth)
    fail(node, ctx, *_OPERATORS.get(type(node.op), ("unsupported operator", None)))


def _power(node: ast.BinOp, ctx: Context, depth: int) -> sympy.Expr:
    entrywise, right = ctx.source.entrywise(node.right), _unmarked(node.right, ctx)
    base, exponent = walk(node.left, ctx, depth), walk(right, ctx, depth)
    labels = ctx.source.label(node.left), ctx.source.label(right)
    return build(mx.raised, (base, exponent, entrywise, labels), node, ctx)


def _unary(node: ast.UnaryOp, ctx: Context, depth: int) -> sympy.Expr:
    negative = False
    while isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        negative ^= isinstance(node.op, ast.USub)  # a run of signs is one level, not many
        node = node.operand
    if isinstance(node, ast.UnaryOp):
        fail(node, ctx, *_OPERATORS.get(type(node.op), ("unsupported operator", None)))
    value = walk(node, ctx, depth)
    if negative and mx.is_matrix(value):
        return mx.scale(sympy.S.NegativeOne, value)  # not -M, which distributes transposes
    return build(negated, (value,), node, ctx) if negative else value


def _attribute(node: ast.Attribute, ctx: Context, depth: int) -> sympy.Expr:
    if node.attr != "T":  # checked before the value: W.T.__class__ never walks W.T
        known = node.attr in spellings().scalar or node.attr in spellings().matrix
        hint = f"call it: x.{node.attr}()" if known else "only M.T, a transpose, or x.relu()"
        fail(node, ctx, "attribute access (a.b) is not allowed", hint)
    value = walk(node.value, ctx, depth)
    return build(mx.transpose, (value, ctx.source.label(node.value)), node, ctx, check=False)


def _call(node: ast.Call, ctx: Context, depth: int) -> sympy.Expr:
    name, builder, given = _signature(node, ctx, depth)
    if name in _SPECIAL:
        return builder(node, ctx, depth)
    args = [argument(a, ctx, depth) for a in given]
    labels = [ctx.source.label(a) for a in given]
    if name in spellings().matrix:
        return build(builder, (args, labels), node, ctx, check=False)
    if name not in spellings().elementwise and mx.one_by_one_or_scalars(args):
        args = [mx.as_scalar(a) for a in args]  # max(w.T*x, 0): the 1×1 is a scalar
    if any(map(mx.is_matrix, args)):
        if name not in spellings().elementwise:
            hint = _NOT_ELEMENTWISE if name in ("max", "min") else None
            fail(node, ctx, f"{name}() does not take matrices", hint)
        return build(mx.elementwise, (builder, args, name, labels), node, ctx, check=False)
    return build(builder, args, node, ctx)


def _signature(node: ast.Call, ctx: Context, depth: int) -> tuple[str, Callable[..., Any], list]:
    """The called function's name, its builder and its argument nodes, after checking the
    call's form. ``x.relu()`` (micrograd's spelling) is ``relu(x)``, and ``x.log(2)`` is
    ``log(x, 2)``: the value before the dot is the first argument."""
    func, given = node.func, list(node.args)
    if isinstance(func, ast.Attribute):
        name, given, known = func.attr, [func.value, *given], _method(func, ctx)
    elif isinstance(func, ast.Name):
        name, table = func.id, spellings()
        known = _SPECIAL.get(name) or table.scalar.get(name) or table.matrix.get(name)
    else:
        if type(func) in _REFUSED:
            walk(func, ctx, depth)  # refuses subscripts, lambdas, ...
        fail(node, ctx, "only the known functions can be called", "write a*(b) to multiply")
    if isinstance(func, ast.Name) and name in CONSTANTS:
        message = f"'{name}' is a constant, not a function (the constants are {CONSTANTS_TEXT})"
        fail(func, ctx, message, f"write {name}*(...) to multiply")
    builder, low, high = known or _unknown(func, ctx)
    if node.keywords:
        fail(node.keywords[0], ctx, "keyword arguments are not supported", "pass them in order")
    for arg in node.args:
        if isinstance(arg, ast.Starred):
            fail(arg, ctx, "starred arguments are not allowed")
    if not low <= len(given) <= (high or len(given)):
        takes = f"{low} or {high}" if high and high > low else str(low) if high else f">= {low}"
        method = isinstance(func, ast.Attribute)
        hint = "the value before the dot is the first argument" if method else None
        fail(node, ctx, f"{name}() takes {takes} argument(s), not {len(given)}", hint)
    return name, builder, given


def _method(func: ast.Attribute, ctx: Context) -> Signature:
    """The function a method call names: any known function but ``where``/``piecewise``."""
    table = spellings()
    known = table.scalar.get(func.attr) or table.matrix.get(func.attr)
    if known:
        return known
    at = ast.Name(func.attr, lineno=func.end_lineno)  # the name after the dot, for the column
    at.col_offset = max(func.end_col_offset - len(func.attr.encode()), 0)
    if func.attr == "T":
        fail(at, ctx, "'.T' is a transpose, not a method", "write M.T, without parentheses")
    if func.attr in SPECIAL:
        fail(at, ctx, f"{func.attr}() is not a method", f"write {func.attr}(...)")
    names = sorted({*table.scalar, *table.matrix}, key=str.lower)
    close = difflib.get_close_matches(func.attr, names, n=1)
    hint = f"did you mean '.{close[0]}()'?" if close else "known functions: " + ", ".join(names)
    fail(at, ctx, f"unknown method '.{func.attr}()': not a known function", hint)


def argument(node: ast.AST, ctx: Context, depth: int) -> sympy.Expr:
    """An argument of a function or a comparison. SymPy decides signs of constant arguments
    by numeric evaluation, which can run for minutes when the constant itself holds a
    function value (``max(softplus(-1), 1/3)``, ``sin(exp(10**50))``): refuse those."""
    value = walk(node, ctx, depth)
    if value.is_number and value.atoms(sympy.Function):
        message = "a constant holding a function, like log(2), cannot be an argument here"
        fail(node, ctx, message, "write its value as a decimal number")
    return value


def _unknown(func: ast.Name, ctx: Context) -> NoReturn:
    known = sorted(reserved() - set(CONSTANTS), key=str.lower)
    close = difflib.get_close_matches(func.id, known, n=1)
    hint = f"did you mean '{close[0]}'?" if close else "known functions: " + ", ".join(known)
    fail(func, ctx, f"unknown function '{func.id}'", hint)


def _scalars(node: ast.AST, ctx: Context, values: list, name: str) -> list:
    values = [mx.as_scalar(v) for v in values]  # a 1×1 product is a scalar here
    if any(map(mx.is_matrix, values)):
        fail(node, ctx, f"{name}() does not take matrices", _NO_CONDITIONS)
    return values


def _where(node: ast.Call, ctx: Context, depth: int) -> sympy.Expr:
    condition = _condition(node.args[0], ctx, depth)
    then, otherwise = _scalars(node, ctx, [walk(a, ctx, depth) for a in node.args[1:]], "where")
    return _pieces(node, ctx, [(then, condition), (otherwise, sympy.true)])


def _pieces(node: ast.Call, ctx: Context, pairs: list) -> sympy.Expr:
    result = build(sympy.Piecewise, pairs, node, ctx)
    if isinstance(result, sympy.Piecewise) and len(result.args) > MAX_PIECES:
        fail(node, ctx, f"a piecewise of more than {MAX_PIECES} branches", SPLIT)
    return result


def _piecewise(node: ast.Call, ctx: Context, depth: int) -> sympy.Expr:
    if len(node.args) > MAX_PIECES:
        fail(node, ctx, f"piecewise takes at most {MAX_PIECES} branches", SPLIT)
    pairs = []
    for arg in node.args:
        if not (isinstance(arg, ast.Tuple) and len(arg.elts) == 2):
            hint = "e.g. piecewise((x, x > 0), (0, True))"
            fail(arg, ctx, "piecewise takes (value, condition) pairs", hint)
        (value,) = _scalars(arg, ctx, [walk(arg.elts[0], ctx, depth)], "piecewise")
        pairs.append((value, _condition(arg.elts[1], ctx, depth)))
    if pairs[-1][1] is not sympy.true:
        message = "the last pair of piecewise needs the condition True"
        fail(node.args[-1], ctx, message, "add an otherwise branch such as (0, True)")
    return _pieces(node, ctx, pairs)


def _condition(node: ast.AST, ctx: Context, depth: int) -> sympy.Basic:
    depth = _deeper(node, ctx, depth)
    if isinstance(node, ast.Compare):
        if not all(type(op) in _RELATIONS for op in node.ops):
            fail(node, ctx, "only <, <=, >, >= may compare", "== and != make no sense for reals")
        sides = [mx.as_scalar(argument(n, ctx, depth)) for n in (node.left, *node.comparators)]
        if any(map(mx.is_matrix, sides)):
            fail(node, ctx, "a condition cannot compare matrices", _NO_CONDITIONS)
        if any(side.has(sympy.Piecewise) for side in sides):  # SymPy would fold and solve it
            fail(node, ctx, "a condition cannot contain where or piecewise", "name it first")
        relations = [
            build(applying(_RELATIONS[type(op)]), pair, node, ctx, check=False)
            for op, pair in zip(node.ops, pairwise(sides), strict=True)
        ]
        return build(sympy.And, relations, node, ctx, check=False)
    if isinstance(node, ast.BoolOp):
        parts = [_condition(v, ctx, depth) for v in node.values]
        both = sympy.And if isinstance(node.op, ast.And) else sympy.Or
        return build(both, parts, node, ctx, check=False)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return build(sympy.Not, [_condition(node.operand, ctx, depth)], node, ctx, check=False)
    if isinstance(node, ast.Constant) and node.value is True:
        return sympy.true
    fail(node, ctx, "a condition is expected here", "e.g. x > 0, 0 < x <= 1, x > 0 and y < 1")


_EXPRESSIONS: dict[type, Callable[..., sympy.Expr]] = {
    ast.Constant: lambda node, ctx, depth: literal(node, ctx),
    ast.Name: lambda node, ctx, depth: variable(node, ctx),
    ast.BinOp: _binop,
    ast.UnaryOp: _unary,
    ast.Attribute: _attribute,
    ast.Call: _call,
}
_SPECIAL: dict[str, tuple[Callable[..., sympy.Expr], int, int | None]] = dict(
    zip(SPECIAL, [(_where, 3, 3), (_piecewise, 1, None)], strict=True)
)
