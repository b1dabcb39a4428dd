"""Text to SymPy without ``eval``: the entry points, programs and Python's syntax errors.

Python's own :mod:`ast` parser reads the text and a whitelist walk (:mod:`symgraph.parse.grammar`)
turns the tree into SymPy: numbers, names (real symbols), ``+ - * / ** ^``, calls of the
known functions, and conditions inside ``where``/``piecewise``. With ``shapes={"W": (3, 2)}``
those names are matrices (``MatrixSymbol``), with ``*``/``@`` products, ``M.T``,
``hadamard``, ``sum``, ``trace``, ``inverse``, ``det``, ``logdet``, ``norm``, ``diag``,
``softmax``, ``logsumexp``, entrywise ``A/B`` (also ``A./B``) and ``A.^p``, and the scalar
functions entry by entry; a 1×1 product added to a scalar, compared, divided by or raised
to a power is the scalar it holds (:mod:`symgraph.parse.matrices`). Nothing the user
writes is ever executed, and every refusal is a :class:`ParseError` with a line, a
column and a hint. The limits that keep hostile input fast (``MAX_TEXT_CHARS``,
``MAX_DEPTH``, ...) are described in :mod:`symgraph.parse.guards` and importable from here.
"""

from __future__ import annotations

import ast
import keyword
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import chain, count
from typing import Any

import sympy
from sympy.matrices.expressions import MatrixSymbol

from .grammar import check_name, walk
from .guards import (
    MAX_CONST_BITS,
    MAX_CONST_EXPONENT,
    MAX_CONST_MAGNITUDE,
    MAX_DEPTH,
    MAX_FOLD_BITS,
    MAX_LITERAL_DIGITS,
    MAX_MINMAX_ARGS,
    MAX_NAME_CHARS,
    MAX_PIECES,
    MAX_PROGRAM_LINES,
    MAX_ROOT_BITS,
    MAX_SHAPE_DIM,
    MAX_SHAPE_ENTRIES,
    MAX_TEXT_CHARS,
    SPLIT,
)
from .matrices import is_matrix, validate_shapes
from .names import reserved
from .source import Context, ParseError, Source, fail

__all__ = [
    "MAX_CONST_BITS",
    "MAX_CONST_EXPONENT",
    "MAX_CONST_MAGNITUDE",
    "MAX_DEPTH",
    "MAX_FOLD_BITS",
    "MAX_LITERAL_DIGITS",
    "MAX_MINMAX_ARGS",
    "MAX_NAME_CHARS",
    "MAX_PIECES",
    "MAX_PROGRAM_LINES",
    "MAX_ROOT_BITS",
    "MAX_SHAPE_DIM",
    "MAX_SHAPE_ENTRIES",
    "MAX_TEXT_CHARS",
    "ParseError",
    "Program",
    "parse",
    "parse_expr_text",
    "parse_program",
]

Shapes = Mapping[str, tuple[int, int]] | None
_BARE = "name it, or wrap an expression that spans lines in parentheses"


@dataclass(frozen=True)
class Program:
    """A straight-line program: one ``name = expression`` a line, in order.

    Attributes
    ----------
    lines : tuple of (Symbol, Expr)
        Each line's name and right-hand side; later lines use earlier names as symbols.
        A line whose right-hand side is a matrix names a ``MatrixSymbol`` of its shape.
    output : Symbol
        The last line's name.
    """

    lines: tuple[tuple[sympy.Symbol | MatrixSymbol, sympy.Basic], ...]
    output: sympy.Symbol | MatrixSymbol


# ---------------------------------------------------------------- Python's syntax errors

_SYNTAX_MESSAGES = (  # (fragment of Python's message, our message, hint)
    ("too many nested parentheses", "nested too deeply", SPLIT),
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


def _syntax_error(exc: SyntaxError, source: Source) -> ParseError:
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


def _parse_module(text: str) -> tuple[ast.Module, Source]:
    if not isinstance(text, str):
        hint = "sg.graph takes SymPy objects" if isinstance(text, sympy.Basic) else None
        raise ParseError(f"parse takes a str, not {type(text).__name__}", hint=hint)
    if len(text) > MAX_TEXT_CHARS:
        raise ParseError(f"input too long: {len(text):,} characters, at most {MAX_TEXT_CHARS:,}")
    source = Source(text)
    try:
        with warnings.catch_warnings():  # '1and x' warns; a caller's 'error' filter would
            warnings.simplefilter("ignore", SyntaxWarning)  # also turn it into SyntaxError
            module = ast.parse(source.code, mode="exec")
    except SyntaxError as exc:
        raise _syntax_error(exc, source) from None
    except (RecursionError, MemoryError):  # Python's parser on very long or deep input
        raise ParseError("too long or nested too deeply for the parser", hint=SPLIT) from None
    except ValueError as exc:  # null bytes, on some Python versions
        raise ParseError(f"unreadable text: {exc}") from None
    if not module.body:
        raise ParseError("empty input", hint="write an expression such as x^2 + 1")
    if len(module.body) > MAX_PROGRAM_LINES:
        message = f"a program of {len(module.body):,} lines; at most {MAX_PROGRAM_LINES:,}"
        raise ParseError(message, hint="split it into functions of fewer lines")
    return module, source


def _expression(module: ast.Module, source: Source, shapes: Shapes) -> sympy.Basic:
    ctx = Context(source, {}, shapes or {})
    first, *rest = module.body
    if rest:
        fail(rest[0], ctx, "one expression expected, found more statements", "use parse_program")
    if not isinstance(first, ast.Expr):
        fail(first, ctx, "an expression is expected", "use parse_program for assignments")
    return walk(first.value, ctx, 0)


def _target(stmt: ast.stmt, ctx: Context) -> ast.Name:
    if isinstance(stmt, ast.AugAssign):
        fail(stmt, ctx, "augmented assignment is not supported", "use a new name: t2 = t1 + 1")
    if not isinstance(stmt, ast.Assign):
        fail(stmt, ctx, "only 'name = expression' lines are allowed", "and a final expression")
    if len(stmt.targets) > 1:
        fail(stmt.targets[1], ctx, "chained assignment is not supported", "one name a line")
    target = stmt.targets[0]
    if isinstance(target, ast.Tuple | ast.List):
        fail(target, ctx, "tuple assignment is not supported", "assign one name a line")
    if not isinstance(target, ast.Name):
        fail(target, ctx, "the left side of '=' must be a name", "e.g. t1 = exp(x)")
    check_name(target, ctx, target=True)
    return target


def _assignments(body: list[ast.stmt], ctx: Context) -> dict[str, tuple[int, int]]:
    """Which statement assigns each name, after checking every statement's shape."""
    assigned: dict[str, tuple[int, int]] = {}
    for index, stmt in enumerate(body):
        if isinstance(stmt, ast.Expr):
            if index < len(body) - 1:
                fail(stmt, ctx, "only the last statement may be a bare expression", _BARE)
            continue
        target = _target(stmt, ctx)
        if target.id in assigned:
            message = f"'{target.id}' is assigned twice (first on line {assigned[target.id][1]})"
            fail(target, ctx, message, "use a new name for each line")
        assigned[target.id] = (index, stmt.lineno)
    return assigned


def _program(module: ast.Module, source: Source, shapes: Shapes) -> Program:
    assigned = _assignments(module.body, Context(source, {}))
    known = dict(shapes or {})  # grows: a line whose value is a matrix gives its name a shape
    lines = []
    for index, stmt in enumerate(module.body):
        if isinstance(stmt, ast.Assign):
            name = stmt.targets[0].id  # type: ignore[attr-defined]
        else:  # a final bare expression is the output f, or y if f is taken, ...
            used = {n.id for n in ast.walk(module) if isinstance(n, ast.Name)}
            name = next(n for n in chain("fy", (f"f{i}" for i in count(1))) if n not in used)
        ctx = Context(source, assigned, known, index)
        value = walk(stmt.value, ctx, 0)  # type: ignore[attr-defined]
        lines.append((_line_name(name, value, stmt, ctx), value))
    return Program(tuple(lines), lines[-1][0])


def _line_name(name: str, value: sympy.Basic, stmt: Any, ctx: Context):
    """The symbol a line assigns: a matrix of the value's shape, recorded for later lines."""
    given = ctx.shapes.get(name)
    if given and (not is_matrix(value) or value.shape != given):
        made = f"{value.rows}×{value.cols}" if is_matrix(value) else "a scalar"
        message = f"'{name}' has shape {given[0]}×{given[1]} in shapes; its line makes it {made}"
        fail(stmt.targets[0], ctx, message, "fix its shape or its line")
    if not is_matrix(value):
        return sympy.Symbol(name, real=True)
    ctx.shapes[name] = value.shape  # type: ignore[index]
    return MatrixSymbol(name, *value.shape)


def _checked(shapes: Shapes) -> dict[str, tuple[int, int]]:
    return validate_shapes(shapes, reserved())


def parse_expr_text(text: str, shapes: Shapes = None) -> sympy.Basic:
    """Parse one expression, such as ``"exp(x)^2 + sigmoid(y)"``.

    ``shapes`` maps names to ``(rows, columns)``: those names are matrices.

    Raises
    ------
    ParseError
        For anything but a single whitelisted expression, or a shape mismatch.
    """
    shapes = _checked(shapes)
    return _expression(*_parse_module(text), shapes)


def parse_program(text: str, shapes: Shapes = None) -> Program:
    """Parse lines ``name = expression``; the last may be a bare expression, named f (or y).

    ``shapes`` maps names to ``(rows, columns)``; a line whose value is a matrix makes its
    name a matrix of that shape for the lines after it.

    Raises
    ------
    ParseError
        Naming the line, for a name assigned twice or used before its line, and the like.
    """
    shapes = _checked(shapes)
    return _program(*_parse_module(text), shapes)


def parse(text: str, shapes: Shapes = None) -> sympy.Basic | Program:
    r"""Parse text into a SymPy expression, or a :class:`Program` if it has assignments.

    Names become real symbols, or matrices (``MatrixSymbol``) if ``shapes`` gives them
    ``(rows, columns)``; ``^`` is a power; ``e`` and ``pi`` are constants.

    Examples
    --------
    >>> parse("x^2 + e^y")
    x**2 + exp(y)
    >>> parse("where(x > 0, x, -x)")
    Piecewise((x, x > 0), (-x, True))
    >>> program = parse("t1 = exp(u1)\nf = t1 * u2")
    >>> program.output, program.lines[1]
    (f, (f, t1*u2))
    >>> parse("sum(sigmoid(W*x + b))", shapes={"W": (3, 2), "x": (2, 1), "b": (3, 1)})
    sum(sigmoid(W*x + b))
    >>> parse("W*b", shapes={"W": (3, 2), "b": (3, 1)})
    Traceback (most recent call last):
    symgraph.parse.ParseError: line 1, column 3: cannot multiply W (3×2) by b (3×1): the inner ...
    >>> parse("expp(x)")
    Traceback (most recent call last):
    symgraph.parse.ParseError: line 1, column 1: unknown function 'expp' (did you mean 'exp'?)
    """
    shapes = _checked(shapes)
    module, source = _parse_module(text)
    if len(module.body) == 1 and isinstance(module.body[0], ast.Expr):
        return _expression(module, source, shapes)
    return _program(module, source, shapes)
