"""The command line's input and output: arguments read strictly, files read within bounds,
output that any terminal, pipe or JSON reader takes.

Every problem with what the user typed or pointed at is a :class:`UsageError` (a
``ValueError``), which the CLI prints as one line and exits 2 with.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import stat
import sys
import unicodedata
from collections.abc import Iterable

from ..errors import SymgraphError
from ..parse import MAX_TEXT_CHARS

MAX_BYTES = 4 * MAX_TEXT_CHARS  # UTF-8 takes at most 4 bytes a character
_ASCII = str.maketrans(
    {"✓": "ok", "✗": "X", "∂": "d", "≈": "~", "−": "-", "·": "*", "×": "x", "…": "...",
     "²": "^2", "ᵀ": "^T", "σ": "sigma", "→": "->", "≤": "<=", "≥": ">=", "≠": "!=",
     "\u0304": "bar", "\u0307": "dot"}
)  # fmt: skip


class UsageError(SymgraphError):
    """Bad command-line input: an option, a file, a value."""


class ArgumentError(UsageError):
    """What argparse refuses (an unknown option, a missing argument), as an exception."""


class Parser(argparse.ArgumentParser):
    """argparse that raises :class:`ArgumentError` instead of printing usage and exiting."""

    def error(self, message: str):
        raise ArgumentError(f"{message} (see '{self.prog} --help')")


class Once(argparse.Action):
    """An option that may be given once: a second value would silently replace the first."""

    def __call__(self, parser, namespace, values, option_string=None):
        given = namespace.__dict__.setdefault("_given", set())
        if self.dest in given:
            parser.error(f"{option_string} given twice; give it once")
        given.add(self.dest)
        setattr(namespace, self.dest, values)


# ---------------------------------------------------------------- values


def pairs(text: str, option: str) -> list[tuple[str, str]]:
    """``a=1,b=2`` -> [("a", "1"), ("b", "2")]; a name given twice is an error."""
    out: dict[str, str] = {}
    for item in text.split(","):
        name, value = _assignment(item, f"{option} wants name=value pairs separated by commas")
        if name in out:
            raise UsageError(f"{option} gives {name} twice ({out[name]} and {value})")
        out[name] = value
    return list(out.items())


def _assignment(item: str, wants: str) -> tuple[str, str]:
    """``name=value`` as its two stripped sides, or a UsageError saying what was wanted."""
    name, eq, value = item.partition("=")
    name, value = name.strip(), value.strip()
    if not eq or not name or not value:
        raise UsageError(f"{wants}, not {item!r}")
    return name, value


def number(text: str, what: str) -> float:
    """A finite float, or a UsageError naming ``what``."""
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{what}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise UsageError(f"{what}: {text!r} is not a finite number")
    return value


def shapes(text: str | None) -> dict[str, tuple[int, int]] | None:
    """``W=3x2,x=2x1`` -> {"W": (3, 2), "x": (2, 1)}."""
    if text is None:
        return None
    out = {}
    for name, value in pairs(text, "--shapes"):
        rows, x, cols = value.lower().partition("x")
        dims = (rows, cols)
        if not (x and all(d.isascii() and d.isdigit() and int(d) > 0 for d in dims)):
            raise UsageError(
                f"--shapes: write a shape as ROWSxCOLS, e.g. {name}=3x2, not {value!r}"
            )
        out[name] = (int(rows), int(cols))
    return out


# ---------------------------------------------------------------- reading EXPR


def source(text: str) -> str:
    """The expression: the argument itself, '-' for stdin, or @FILE (a regular file)."""
    if text == "-":
        stream = getattr(sys.stdin, "buffer", None)
        if stream is None:  # a text stream (a test's StringIO): bounded all the same
            return _bounded(sys.stdin.read(MAX_TEXT_CHARS + 1), "standard input")
        return _decode(stream.read(MAX_BYTES + 1), "standard input")
    if text.startswith("@"):
        return read_file(text[1:])
    return text


def read_file(path: str) -> str:
    """A regular file's text, refused before it is read if it is anything else or too big.

    Opened without blocking, so a FIFO cannot hang the open; devices (``/dev/zero``,
    ``/dev/urandom``), directories and FIFOs are refused, so nothing reads forever.
    """
    return _decode(read_bytes(path), path)


def read_bytes(path: str, what: str = "a formula") -> bytes:
    """A regular file's bytes (at most ``MAX_BYTES + 1``), as :func:`read_file` reads them."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UsageError(f"cannot read {path}: not a regular file (@FILE reads a file)")
        if info.st_size > MAX_BYTES:
            raise UsageError(f"cannot read {path}: {info.st_size:,} bytes, too long for {what}")
        data = _read(fd, MAX_BYTES + 1)
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror}") from None
    finally:
        os.close(fd)
    return data


def _read(fd: int, limit: int) -> bytes:
    """At most ``limit`` bytes (fewer at the end of the file)."""
    chunks, left = [], limit
    while left > 0:
        chunk = os.read(fd, min(left, 1 << 16))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _decode(data: bytes, where: str) -> str:
    if len(data) > MAX_BYTES:
        raise UsageError(f"{where}: more than {MAX_BYTES:,} bytes, too long for a formula")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise UsageError(f"{where}: not UTF-8 text (byte {err.start} cannot be decoded)") from None
    return _bounded(text, where)


def _bounded(text: str, where: str) -> str:
    if "\x00" in text:
        raise UsageError(f"{where}: a NUL character: this is not a text file")
    if len(text) > MAX_TEXT_CHARS:
        raise UsageError(f"{where}: more than {MAX_TEXT_CHARS:,} characters, too long")
    return text


# ---------------------------------------------------------------- output


def jsonable(value):
    """Plain JSON data: arrays as lists, and NaN/±inf (no JSON numbers) as null."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "tolist"):  # NumPy arrays and scalars
        return jsonable(value.tolist())
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return str(value)


def dumps(data: dict) -> str:
    """JSON text: strict (no NaN), ASCII-only (\\u escapes), so any stream takes it."""
    return json.dumps(jsonable(data), indent=2, allow_nan=False)


def write(stream, text: str) -> None:
    """Write ``text``; on a stream that cannot encode it, in ASCII notation (∂ -> d)."""
    try:
        stream.write(text)
    except UnicodeEncodeError:
        encoding = getattr(stream, "encoding", None) or "ascii"
        spelled = unicodedata.normalize("NFD", text).translate(_ASCII)  # ṫ: t, a dot: tdot
        stream.write(spelled.encode(encoding, "replace").decode(encoding))


def one_line(parts: Iterable[str], limit: int = 500) -> str:
    """The parts joined, whitespace collapsed to single spaces, cut at ``limit``."""
    text = " ".join(" ".join(parts).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
