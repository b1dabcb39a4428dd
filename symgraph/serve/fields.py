"""The request's text fields, read strictly: the point, the shapes, the claims.

They are what the page's URL holds (``at=u1=1,u2=-1``, ``shapes=W=3x2,x=2x1``,
``claims=u1=47.3``), so each is one string. Numbers go through the safe parser (``pi/4``,
``1/2``); a matrix is JSON rows. Nothing here imports NumPy (the Pyodide build may lack it)
or the CLI (an outer layer). Every problem is a :class:`FieldError`.
"""

from __future__ import annotations

import json
import math

from ..errors import SymgraphError
from ..parse import ParseError, parse

#: The longest field the API reads (a formula has its own budget in :mod:`.api`).
MAX_FIELD_CHARS = 20_000


class FieldError(SymgraphError):
    """A field of the request that cannot be read; ``field`` names it (``at``, ``shapes``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def pieces(text: str, field: str) -> list[str]:
    """``text`` cut at the commas (and new lines) outside brackets and parentheses.

    >>> pieces("u=1, W=[[1,2],[3,4]], c=max(u, 2)", "at")
    ['u=1', 'W=[[1,2],[3,4]]', 'c=max(u, 2)']
    """
    if len(text) > MAX_FIELD_CHARS:
        raise FieldError(field, f"longer than {MAX_FIELD_CHARS:,} characters")
    out, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += (char in "([") - (char in ")]")
        if depth < 0:
            raise FieldError(field, f"a '{char}' without its opening bracket")
        if char in ",\n" and depth == 0:
            out.append(text[start:i])
            start = i + 1
    if depth:
        raise FieldError(field, "a bracket is not closed")
    return [p.strip() for p in [*out, text[start:]] if p.strip()]


def assignments(text: str | None, field: str) -> dict[str, str]:
    """``name=value`` pieces as a dict of texts; a name given twice is an error.

    >>> assignments("u1=1,u2=-1", "at")
    {'u1': '1', 'u2': '-1'}
    """
    out: dict[str, str] = {}
    for piece in pieces(text or "", field):
        name, eq, value = piece.partition("=")
        name = name.strip()
        if not eq or not name.isidentifier() or not value.strip():
            raise FieldError(field, f"{piece!r} is not name=value")
        if name in out:
            raise FieldError(field, f"{name} is given twice; give each name once")
        out[name] = value.strip()
    return out


def number(text: str, where: str) -> float:
    """A finite number, written plainly or exactly (``1/2``, ``-pi/4``, ``sqrt(2)``).

    >>> number("-1", "at u2"), round(number("pi/4", "at x"), 6)
    (-1.0, 0.785398)
    """
    try:
        value = float(text)
    except ValueError:
        try:
            expr = parse(text)
        except ParseError as err:
            raise FieldError(where, f"{text!r} is not a number ({err.message})") from None
        if getattr(expr, "free_symbols", True):
            raise FieldError(where, f"{text!r} is not a number (it has names in it)") from None
        try:
            value = float(expr.evalf())
        except (TypeError, ValueError):
            raise FieldError(where, f"{text!r} is not a real number") from None
    if not math.isfinite(value):
        raise FieldError(where, f"{text!r} is not finite")
    return value


def point(text: str | None) -> dict[str, object] | None:
    """``at``: names and numbers, a matrix as JSON rows (an array: it needs NumPy).

    >>> point("u1=1,u2=-1")
    {'u1': 1.0, 'u2': -1.0}
    """
    if not (text or "").strip():
        return None
    return {name: _value(value, f"at {name}") for name, value in assignments(text, "at").items()}


def _value(text: str, where: str):
    if not text.startswith("["):
        return number(text, where)
    try:
        rows = json.loads(text)
    except json.JSONDecodeError:
        raise FieldError(where, "a matrix is JSON rows, e.g. [[1,2],[3,4]]") from None
    flat = rows if not rows or not isinstance(rows[0], list) else [x for r in rows for x in r]
    if not all(isinstance(x, int | float) and math.isfinite(x) for x in flat):
        raise FieldError(where, "a matrix's entries are finite numbers")
    try:
        import numpy
    except ImportError:  # the Pyodide build without NumPy
        raise FieldError(where, "matrix values need NumPy, which is not available here") from None
    return numpy.array(rows, dtype=float)


def shapes(text: str | None) -> dict[str, tuple[int, int]] | None:
    """``shapes``: ``W=3x2,x=2x1`` -> ``{"W": (3, 2), "x": (2, 1)}``.

    >>> shapes("W=3x2, x=2x1")
    {'W': (3, 2), 'x': (2, 1)}
    """
    found = {}
    for name, value in assignments(text, "shapes").items():
        rows, x, cols = value.lower().replace("×", "x").partition("x")
        if not (x and rows.strip().isdigit() and cols.strip().isdigit()):
            raise FieldError("shapes", f"{name}={value}: write ROWSxCOLS, e.g. {name}=3x2")
        found[name] = (int(rows), int(cols))
    return found or None


def claims(text: str | None) -> dict[str, object]:
    """``claims``: a number or a formula for each name, as :func:`symgraph.check` takes.

    >>> claims("u1=47.3, x=2*x*sin(x)")
    {'u1': 47.3, 'x': '2*x*sin(x)'}
    """
    out: dict[str, object] = {}
    for name, value in assignments(text, "claims").items():
        try:
            out[name] = float(value)
        except ValueError:
            out[name] = value  # a formula: the checker parses it safely
    return out
