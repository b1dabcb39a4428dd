"""``--at`` (and ``--wrt``'s direction): names and values, read strictly.

A value is a number, written plainly or exactly (``1/2``, ``pi``, ``sqrt(2)``, read by
the safe parser), a matrix as JSON rows, or a piece ``@FILE`` (a JSON object or a NumPy
``.npz`` archive). Every problem is a :class:`~symgraph.cli.io.UsageError`.
"""

from __future__ import annotations

import json
import math
import zipfile
from io import BytesIO

import sympy

from ..lazynp import np
from ..parse import ParseError, parse
from .io import MAX_BYTES, UsageError, _assignment, _decode, number, read_bytes

#: One value of ``--at``: a number, or an array (a flat list is 1-d until fitted).
Value = float | np.ndarray


def point(text: str | None, option: str = "--at") -> dict[str, Value] | None:
    """``u1=1,W=[[1,2],[3,4]],@p.json`` -> names and values (numbers or arrays).

    Pieces are separated by the commas outside brackets and parentheses; a number may be
    written exactly, with constants (``1/2``, ``pi``, ``sqrt(2)``, ``-1/3``), read by the
    safe parser; ``@FILE`` reads a JSON object (name -> number or nested list) or a
    NumPy ``.npz`` archive. A name given twice is an error.

    >>> point("u=1,x=[1,2],h=1/2,a=pi")
    {'u': 1.0, 'x': array([1., 2.]), 'h': 0.5, 'a': 3.141592653589793}
    """
    if text is None:
        return None
    out: dict[str, Value] = {}
    for piece in _top_level(text, option):
        found = (
            _file_point(piece[1:], option)
            if piece.startswith("@")
            else [_value_pair(piece, option)]
        )
        for name, value in found:
            if name in out:
                raise UsageError(f"{option} gives {name} twice; give each name once")
            out[name] = value
    return out


def _top_level(text: str, option: str = "--at") -> list[str]:
    """``text`` cut at the commas outside brackets and parentheses (a matrix has commas
    of its own, and so may a constant: ``atan2(1, 2)``)."""
    pieces, open_, start = [], [], 0
    for i, char in enumerate(text):
        if char in _CLOSING:
            open_.append(char)
        elif char in _OPENING:
            if not open_ or _CLOSING[open_.pop()] != char:
                raise UsageError(f"{option}: a '{char}' without its '{_OPENING[char]}' in {text!r}")
        elif char == "," and not open_:
            pieces.append(text[start:i])
            start = i + 1
    if open_:
        raise UsageError(
            f"{option}: a '{open_[-1]}' without its '{_CLOSING[open_[-1]]}' in {text!r}"
        )
    return [*pieces, text[start:]]


_CLOSING = {"[": "]", "(": ")"}  # an opening bracket's closing one
_OPENING = {"]": "[", ")": "("}


def _value_pair(item: str, option: str = "--at") -> tuple[str, Value]:
    wants = f"{option} wants name=value pieces (a value: a number or [..] list) or @FILE"
    name, value = _assignment(item, wants)
    where = f"{option} {name}"
    if value.startswith("["):  # a list: JSON, never eval
        return name, _nested(_json(value, where), where)
    return name, exact_number(value, where)


def exact_number(text: str, what: str) -> float:
    """A finite float written as a number or exactly (``1/2``, ``pi``, ``e``, ``sqrt(2)``),
    read by symgraph's safe parser (no eval); a name or anything non-constant is refused.

    >>> exact_number("-1/3", "x"), exact_number("e", "x")
    (-0.3333333333333333, 2.718281828459045)
    """
    try:
        return number(text, what)
    except UsageError:
        if _is_float_text(text):  # inf, nan, 1e999: the plain number's own message
            raise
    try:
        expr = parse(text)
    except ParseError as err:
        raise UsageError(f"{what}: {text!r} is not a number ({err})") from None
    free = sorted(map(str, getattr(expr, "free_symbols", ()) or ()))
    if free or not isinstance(expr, sympy.Expr):
        named = f" (it names {', '.join(free)})" if free else ""
        raise UsageError(
            f"{what}: {text!r} is not a number{named}; write a number, a constant such as "
            "pi or e, or an exact one such as 1/2 or sqrt(2)"
        )
    try:
        value = float(expr.evalf())
    except (TypeError, ValueError, OverflowError):  # a complex or undefined constant
        raise UsageError(f"{what}: {text!r} is not a real number") from None
    if not math.isfinite(value):
        raise UsageError(f"{what}: {text!r} is not a finite number")
    return value


def _is_float_text(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _json(text: str, where: str):
    """JSON data, never NaN or infinity; deep nesting and huge integers are errors too."""

    def refuse(constant: str):
        raise UsageError(f"{where}: {constant} is not a finite number")

    try:
        return json.loads(text, parse_constant=refuse)
    except (ValueError, RecursionError) as err:
        if isinstance(err, UsageError):
            raise
        raise UsageError(f"{where}: not a number or a [..] list of numbers ({err})") from None


def _nested(data, where: str) -> Value:
    """A number, a list of numbers, or a list of equally long rows, as floats."""
    if _is_number(data):
        return number(repr(data), where)
    if not isinstance(data, list) or not data:
        raise UsageError(f"{where}: want a number, [..] of numbers or [[..], ..] rows")
    if all(_is_number(v) for v in data):
        return _finite(data, where)
    if not all(isinstance(r, list) and r and all(map(_is_number, r)) for r in data):
        raise UsageError(f"{where}: a matrix is a list of rows of numbers, e.g. [[1,2],[3,4]]")
    if len({len(r) for r in data}) > 1:
        lengths = ", ".join(str(len(r)) for r in data)
        raise UsageError(f"{where}: rows of different lengths ({lengths}); a matrix is rectangular")
    return _finite(data, where)


def _is_number(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _finite(data, where: str) -> np.ndarray:
    try:
        array = np.array(data, dtype=float)
    except OverflowError:  # an integer beyond any float
        array = np.array([math.inf])
    if not np.isfinite(array).all():
        raise UsageError(f"{where}: every entry must be a finite number")
    return array


def _file_point(path: str, option: str = "--at") -> list[tuple[str, Value]]:
    """The names and values in a ``.json`` object or a ``.npz`` archive."""
    data = read_bytes(path, "a point")
    if len(data) > MAX_BYTES:
        raise UsageError(f"{path}: more than {MAX_BYTES:,} bytes, too long for a point")
    if data.startswith(b"PK"):  # a zip archive: NumPy's .npz
        return _npz_point(data, path)
    found = _json(_decode(data, path), f"{option} @{path}")
    if not isinstance(found, dict):
        raise UsageError(f'{option} @{path}: want a JSON object of names, e.g. {{"x": [1, 2]}}')
    return [(name, _nested(v, f"{option} @{path}: {name}")) for name, v in found.items()]


def _npz_point(data: bytes, path: str) -> list[tuple[str, Value]]:
    """A NumPy archive's arrays, each checked unpacked size first (no zip bomb, no pickle)."""
    try:
        archive = zipfile.ZipFile(BytesIO(data))
        if sum(info.file_size for info in archive.infolist()) > 8 * MAX_BYTES:
            raise UsageError(f"--at @{path}: its arrays unpack to too many bytes")
        with np.load(BytesIO(data), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        if isinstance(err, UsageError):
            raise
        raise UsageError(f"--at @{path}: not a NumPy .npz archive ({err})") from None
    return [(name, _npz_value(a, f"--at @{path}: {name}")) for name, a in arrays.items()]


def _npz_value(array: np.ndarray, where: str) -> Value:
    if array.dtype.kind not in "iuf" or array.ndim > 2 or array.size == 0:
        raise UsageError(f"{where}: want real numbers in at most 2 dimensions, not {array.dtype}"
                         f" of shape {array.shape}")  # fmt: skip
    array = _finite(array, where)
    return float(array) if array.ndim == 0 else array


def fit(
    values: dict[str, Value] | None,
    shapes: dict[str, tuple[int, int] | None],
    option: str = "--at",
):
    """Each value in its input's shape (a flat list as a column or a row), or a UsageError.

    ``shapes`` maps an input to its shape, ``None`` for a scalar input; other names pass.

    >>> fit({"x": np.array([1.0, 2.0])}, {"x": (2, 1)})["x"].shape
    (2, 1)
    """
    if values is None:
        return None
    return {n: _fitted(n, v, shapes[n], option) if n in shapes else v for n, v in values.items()}


def _fitted(name: str, value: Value, shape: tuple[int, int] | None, option: str) -> Value:
    given = {0: "a number", 1: f"a flat list of {np.size(value)}"}.get(
        np.ndim(value), f"a {_dims(np.shape(value))} value"
    )
    if shape is None:
        if np.ndim(value) == 0:
            return value
        raise UsageError(f"{option} {name}: {given}, but {name} is a number (a scalar input)")
    if np.ndim(value) == 0 and shape == (1, 1):
        return np.full(shape, value)
    if np.ndim(value) == 1 and 1 in shape and np.size(value) == shape[0] * shape[1]:
        return np.reshape(value, shape)  # a flat list: the column or the row it fills
    if np.shape(value) == shape:
        return value
    hint = f"; write its {shape[0]} rows, e.g. [[1,2],[3,4]]" if np.ndim(value) == 1 else ""
    raise UsageError(
        f"{option} {name}: {given}, but {name} has shape {shape} ({_dims(shape)}){hint}"
    )


def _dims(shape) -> str:
    return "x".join(map(str, shape))
