"""Text to SymPy without ``eval``: the entry points and Python's syntax errors.

Python's own :mod:`ast` parser reads the text and a whitelist walk (:mod:`symgraph.parse.grammar`)
turns the tree into SymPy: numbers, names (real symbols), ``+ - * / ** ^`` (also ``·``,
``×``, ``⋅`` for ``*``, ``−`` for ``-`` and ``÷`` for ``/``), calls of the known functions,
written ``relu(x)`` or as a method ``x.relu()``, and conditions inside
``where``/``piecewise``.

**Names.** The constants are ``e`` (Euler's number) and ``pi`` (or ``π``); the function
names are not variables. Every other name is a real variable: ``E``, ``I``, ``N``, ``S``,
``O``, ``Q``, ``oo`` or ``gamma`` never stands for one of SymPy's objects.

**Forms.** One expression; a vector function, ``[x*y, sin(x)]`` or ``x*y, sin(x)`` (a
list of expressions: outputs ``f1, f2``; nested lists are refused, a matrix of outputs is a
``sympy.Matrix``); or a program, one ``name = expression`` a line, whose names may be
rebound (``c = c + 1``, ``c += 1``): each assignment is a new version, ``c``, ``c_2``,
``c_3`` (:mod:`symgraph.parse.programs`).

**Matrices.** With ``shapes={"W": (3, 2)}``
those names are matrices (``MatrixSymbol``), with ``*``/``@`` products, ``M.T``,
``hadamard``, ``sum``, ``trace``, ``inverse``, ``det``, ``logdet``, ``norm``, ``diag``,
``softmax``, ``logsumexp``, entrywise ``A/B`` (also ``A./B``) and ``A.^p``, and the scalar
functions entry by entry; a 1×1 product added to a scalar, compared, divided by or raised
to a power is the scalar it holds (:mod:`symgraph.parse.matrices`).

Nothing the user writes is ever executed, and every refusal is a :class:`ParseError`
with a line, a column and a hint. The limits that keep hostile input fast
(``MAX_TEXT_CHARS``, ``MAX_DEPTH``, ...) are described in :mod:`symgraph.parse.guards` and
importable from here.
"""

from __future__ import annotations

import ast
import keyword
import re
import warnings
from collections.abc import Mapping

import sympy

from .grammar import walk
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
from .matrices import validate_shapes
from .names import reserved
from .programs import Program, program
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
_NESTED = (
    "a vector function is a flat list [f1, f2]; for a matrix of outputs pass a sympy.Matrix,"
    " or name matrices with shapes="
)


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
    ("augmented assignment", "the left side of an assignment must be a single name", None),
)
_LOOKALIKES = {"≤": "<=", "≥": ">=", "²": "^2"}  # −, ×, · and ÷ are read as -, * and /


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
    if isinstance(first.value, ast.List | ast.Tuple):
        hint = "a list [f1, f2] is a vector function: give it to parse or sg.graph"
        fail(first.value, ctx, "one expression expected, found a list", hint)
    return walk(first.value, ctx, 0)


def _vector(node: ast.List | ast.Tuple, source: Source, shapes: Shapes) -> list[sympy.Basic]:
    """``[x*y, sin(x)]`` or ``x*y, sin(x)``: a vector function, one expression an entry."""
    ctx = Context(source, {}, shapes or {})
    if not node.elts:
        fail(node, ctx, "an empty list has no outputs", "give at least one: [x*y, sin(x)]")
    for item in node.elts:
        if isinstance(item, ast.List | ast.Tuple):
            fail(item, ctx, "a list inside a list is not supported", _NESTED)
    return [walk(item, ctx, 0) for item in node.elts]


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

    A name assigned again (``c = c + 1``, ``c += 1``) is a new version of it: ``c_2``,
    ``c_3``, ... (:mod:`symgraph.parse.programs`). ``shapes`` maps names to ``(rows,
    columns)``; a line whose value is a matrix makes its name a matrix of that shape for
    the lines after it.

    Raises
    ------
    ParseError
        Naming the line, for a name used before its first line, and the like.
    """
    shapes = _checked(shapes)
    return program(*_parse_module(text), shapes)


def parse(text: str, shapes: Shapes = None) -> sympy.Basic | Program | list[sympy.Basic]:
    r"""Parse text into a SymPy expression, a :class:`Program` if it has assignments, or
    a list of expressions for a vector function (``"[x*y, sin(x)]"`` or ``"x*y, sin(x)"``).

    Names become real symbols, or matrices (``MatrixSymbol``) if ``shapes`` gives them
    ``(rows, columns)``; ``^`` is a power; ``·``, ``×`` and ``⋅`` multiply and ``−`` is a
    minus; ``x.relu()`` is ``relu(x)``. The constants are ``e`` and ``pi`` (or ``π``);
    every other name, ``E`` and ``I`` among them, is a variable.

    Examples
    --------
    >>> parse("x^2 + e^y")
    x**2 + exp(y)
    >>> parse("where(x > 0, x, -x)")
    Piecewise((x, x > 0), (-x, True))
    >>> program = parse("t1 = exp(u1)\nf = t1 * u2")
    >>> program.output, program.lines[1]
    (f, (f, t1*u2))
    >>> parse("c = a·b\nc += (b − a).relu()").lines
    ((c, a*b), (c_2, c + relu(-a + b)))
    >>> parse("[x*y, sin(x)]")
    [x*y, sin(x)]
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
        value = module.body[0].value
        if isinstance(value, ast.List | ast.Tuple):
            return _vector(value, source, shapes)
        return _expression(module, source, shapes)
    return program(module, source, shapes)
