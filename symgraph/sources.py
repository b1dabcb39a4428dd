"""A source as the builder's lines: text, a SymPy expression, a matrix of entries, a list,
a dict or a program, each normalised to ``(name, rhs)`` lines (a name None is an output to
be named), checked and bounded; and the outputs a caller picks among them by name.

>>> lines, program = lines_of("x*y, sin(x)")
>>> [str(rhs) for _, rhs in lines], program is None
(['x*y', 'sin(x)'], True)
"""

from __future__ import annotations

import keyword
from collections.abc import Mapping, Sequence
from itertools import product

import sympy
from sympy import Basic, Expr, Symbol
from sympy.matrices.expressions import MatrixExpr

from . import naming
from .parse import ParseError, Program, parse, parse_expr_text
from .parse.guards import MAX_NAME_CHARS, MAX_PROGRAM_LINES, MAX_TEXT_CHARS, check_tree
from .parse.latex import parse_latex
from .parse.names import reserved

Source = str | Expr | Sequence | Mapping | Program
Outputs = Sequence[str | Symbol] | str | None


def _as_real(e: Basic) -> Expr:
    """``e``, checked: a bounded scalar or matrix expression without complex numbers.

    Its plain symbols are made real (so d|x|/dx = sign(x)) as it is built (see
    ``domain.real_twins``), not here: rebuilding the whole tree costs more than building."""
    if not isinstance(e, Expr | MatrixExpr):
        raise ParseError(f"expected a scalar expression, got {type(e).__name__}: {e}")
    check_tree(e)
    if e.has(sympy.I):
        raise ParseError(f"complex numbers are not supported: {e}")
    return e


def lines_of(
    source: Source, shapes: Mapping | None = None
) -> tuple[list[tuple[Symbol | None, Expr]], Program | None]:
    """Normalise a source into (name, rhs) lines, names None being outputs to be named,
    and the program they come from (if they do)."""
    if isinstance(source, str):  # the parser's own output is bounded and real already
        source = parse(source, shapes)
        if isinstance(source, list):  # "[x*y, sin(x)]": a vector function
            _count(len(source))
            return [(None, v) for v in source], None
        if not isinstance(source, Program):
            return [(None, source)], None
    if isinstance(source, Program):
        return list(source.lines), source
    if isinstance(source, sympy.MatrixBase):  # explicit entries: one output each, f_ij
        _count(source.rows * source.cols)
        cells = product(range(source.rows), range(source.cols))
        names = [Symbol(naming.entry_name("f", i, j), real=True) for i, j in cells]
        return list(zip(names, map(_as_real, source), strict=True)), None
    if isinstance(source, Basic):
        return [(None, _as_real(source))], None
    if isinstance(source, Mapping):
        _count(len(source), _text_length(source.values()))
        return [(_output_name(k), _expr(v, shapes)) for k, v in source.items()], None
    if isinstance(source, Sequence) and not isinstance(source, bytes | bytearray):
        _count(len(source), _text_length(source))
        return [(None, _expr(v, shapes)) for v in source], None
    raise ParseError(f"cannot make a graph from {type(source).__name__}: {source!r:.80}")


def _count(outputs: int, chars: int = 0) -> None:
    if not outputs:
        raise ParseError("nothing to build: no outputs", hint="give at least one expression")
    if outputs > MAX_PROGRAM_LINES:
        raise ParseError(f"more than {MAX_PROGRAM_LINES} outputs", hint="split the function")
    if chars > MAX_TEXT_CHARS:
        raise ParseError(f"input too long: {chars:,} characters, at most {MAX_TEXT_CHARS:,}")


def _text_length(values) -> int:
    return sum(len(v) for v in values if isinstance(v, str))


def _output_name(key: object) -> Symbol:
    """A dict key as an output's name: a name the parser would accept as a variable."""
    name = key if isinstance(key, str) else getattr(key, "name", None)
    valid = isinstance(name, str) and name.isidentifier() and not keyword.iskeyword(name)
    if not valid or name.startswith("_") or len(name) > MAX_NAME_CHARS or name in reserved():
        hint = "names like f, loss or y2"
        raise ParseError(f"an output must be named by a valid name, not {key!r:.40}", hint=hint)
    return Symbol(name, real=True)


def _expr(v, shapes: Mapping | None = None) -> Expr:
    return parse_expr_text(v, shapes) if isinstance(v, str) else _as_real(v)


def chosen_outputs(
    outputs: Outputs, lines: Sequence[tuple[Symbol | None, Expr]], program: Program | None
) -> list[Symbol]:
    """The lines ``outputs`` names, in its order: a program's names (a rebound name is its
    last version, ``c`` is ``c_3``; a version by its own name, ``c_2``, is that version),
    or the outputs of a list (``f1``, ``f2``, ...) or a dict (its keys)."""
    names = [outputs] if isinstance(outputs, str) else list(outputs)
    names = [getattr(n, "name", n) for n in names]
    if not names:
        raise ParseError("outputs is empty", hint="name at least one line, e.g. outputs=['f']")
    given = [name for name, _ in lines if name is not None]
    if not given:  # a list of expressions: its outputs are named f1, f2, ...
        given = list(naming.output_names(len(lines), _used_names(lines)))
    by_name = {s.name: s for s in given}
    chosen = []
    for name in names:
        symbol = by_name.get(name) if program is None else _final(program, name)
        if symbol is None:
            known = ", ".join(s.name for s in given)
            hint = f"the lines are {known:.200}" if program else f"the outputs are {known:.200}"
            raise ParseError(f"outputs names {name!r}, which no line assigns", hint=hint)
        if symbol in chosen:
            raise ParseError(f"outputs names {name!r} twice", hint="name each output once")
        chosen.append(symbol)
    return chosen


def _final(program: Program, name: object) -> Symbol | None:
    try:
        return program.final(name) if isinstance(name, str) else None
    except KeyError:
        return None


def _used_names(lines: Sequence[tuple[Symbol | None, Expr]]) -> set[str]:
    return {s.name for _, rhs in lines for s in rhs.free_symbols}


def from_latex(source: Source, shapes: Mapping | None = None) -> Source:
    """A text source read as one LaTeX formula; other sources are refused."""
    if not isinstance(source, str):
        raise ParseError(f"latex=True reads a str, not {type(source).__name__}")
    return parse_latex(source, shapes)
