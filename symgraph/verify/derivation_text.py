r"""A derivation as text: its lines, each line's chain ``lhs = rhs = ...``, and what the
left side names.

A derivation is what a person writes, a line per step: plain lines, LaTeX (a line per
``\\`` break, ``align``/``align*``, ``equation``, ``\[ \]``, ``$$ $$``, ``$ $``; ``&=``
is ``=``) or Markdown with its math between dollars. When the text has math delimiters,
only the math is read (the prose around it is not a step); blank lines and comments
(``%`` to the end of the line, a line starting with ``#``) are skipped, and every line
keeps its line number in the text.

>>> [(p.line_no, p.text) for p in pieces("t_1 = e^{u_1}\n% a comment\n\n\\bar f = 1")]
[(1, 't_1 = e^{u_1}'), (4, '\\bar f = 1')]
>>> [(p.line_no, p.text) for p in pieces("\\begin{align*}\n a &= 1 \\\\\n b &= 2\n\\end{align*}")]
[(2, 'a = 1'), (3, 'b = 2')]
>>> pieces(r"t_3 &= t_1 + t_2 && \text{(the sum)} \label{eq:sum}")[0].text
't_3 = t_1 + t_2'
>>> chain(r"\bar t_3 = e^{t_3} \approx 17.40")
['\\bar t_3', 'e^{t_3}', '17.40']
>>> [tuple(target(name)) for name in ("tbar_3", "df_du1", "a")]
[('adjoint', 't3', ''), ('partial', 'f', 'u1'), ('value', 'a', '')]
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import NamedTuple

from ..parse import MAX_TEXT_CHARS, ParseError

#: The most lines a derivation may have, and the most characters in all.
MAX_LINES, MAX_CHARS = 500, 20 * MAX_TEXT_CHARS

_ENV = r"(?:align|equation|gather|multline|eqnarray|flalign)\*?"
_DELIMITER = re.compile(r"\$\$|\$|\\\[|\\\]|\\begin\{" + _ENV + r"\}|\\end\{" + _ENV + r"\}")
#: Not part of a step: labels, tags, and an align row's notes after ``&&``.
_DROP = re.compile(r"&&.*$|\\(?:label|tag|intertext)\{[^{}]*\}|\\nonumber\b|\\notag\b|&", re.DOTALL)
_RELATION = re.compile(r":=|\\approx\b|\\simeq\b|≈|=")
_NAME = re.compile(r"[A-Za-z_]\w*")
#: LaTeX's marks: a backslash, a brace, ``^``, ``$``, or a one-letter name's subscript
#: (``u_1``; formula text's own ``tbar_3`` has a longer name).
LATEX_HINT = re.compile(r"[\\{}^$]|(?<![A-Za-z0-9_])[A-Za-z]_\w")
_PARTIAL_TEXT = re.compile(r"^\s*[d∂]\s*([A-Za-z]\w*)\s*/\s*[d∂]\s*([A-Za-z]\w*)\s*$")


class Piece(NamedTuple):
    """One line of a derivation: its number in the text (from 1) and its text."""

    line_no: int
    text: str


class Target(NamedTuple):
    """What a line's left side names: a ``value`` (a step or a name of one's own), an
    ``adjoint`` or a ``tangent`` of the node ``name``, or the ``partial`` of ``name`` by ``wrt``."""

    kind: str
    name: str
    wrt: str = ""


def _comment_free(line: str) -> str:
    """The line without its ``%`` comment (``\\%`` is a percent sign, not a comment)."""
    m = re.search(r"(?<!\\)%", line)
    return line if m is None else line[: m.start()]


def _segments(text: str) -> Iterator[tuple[int, str, bool]]:
    """(line number, text, inside math) of every stretch between math delimiters."""
    inside = False
    for no, line in enumerate(text.splitlines(), 1):
        line, start = _comment_free(line), 0
        for m in _DELIMITER.finditer(line):
            yield no, line[start : m.start()], inside
            opening = m.group() in ("\\[",) or m.group().startswith("\\begin")
            inside = opening or (m.group() in ("$", "$$") and not inside)
            start = m.end()
            yield no, "\n", inside  # a delimiter ends a piece
        yield no, line[start:] + "\n", inside


def _cleaned(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[\s,.;]+$", "", _DROP.sub(" ", text))).strip()


def pieces(text: str) -> list[Piece]:
    """The lines of a derivation written as one text (see the module's docstring).

    Raises
    ------
    ParseError
        For a text longer than :data:`MAX_CHARS` or of more than :data:`MAX_LINES` lines.
    """
    if not isinstance(text, str):
        raise ParseError(f"a derivation is a str or a list of str, not {type(text).__name__}")
    if len(text) > MAX_CHARS:
        raise ParseError(f"derivation too long: {len(text):,} characters, at most {MAX_CHARS:,}")
    math_only = _DELIMITER.search(text) is not None
    out, current, first = [], "", None
    for no, chunk, inside in _segments(text):
        if math_only and not inside:
            chunk = "\n"
        for k, part in enumerate(re.split(r"\\\\|\n", chunk)):
            if k:  # a line break: the piece so far is a line
                out.append(Piece(first or no, current))
                current, first = "", None
            if part.strip() and first is None:
                first = no
            current += part
    out.append(Piece(first or 0, current))
    found = [Piece(p.line_no, _cleaned(p.text)) for p in out]
    found = [p for p in found if p.text and not p.text.startswith("#")]
    return _bounded(found)


def _bounded(found: list[Piece]) -> list[Piece]:
    if len(found) > MAX_LINES:
        raise ParseError(f"derivation too long: {len(found)} lines, at most {MAX_LINES}")
    return found


def from_lines(lines: Sequence[str]) -> list[Piece]:
    """A list of lines, each one step numbered by its place (from 1); blank ones skipped."""
    if len(lines) > MAX_LINES:
        raise ParseError(f"derivation too long: {len(lines)} lines, at most {MAX_LINES}")
    out = []
    for no, line in enumerate(lines, 1):
        if not isinstance(line, str):
            raise ParseError(f"line {no} of the derivation is a {type(line).__name__}, not a str")
        if len(line) > MAX_TEXT_CHARS:
            out.append(Piece(no, line))  # refused by the reader, with its reason
            continue
        text = _cleaned(_comment_free(_DELIMITER.sub(" ", line)).replace("\\\\", " "))
        if text and not text.startswith("#"):
            out.append(Piece(no, text))
    return out


def chain(text: str) -> list[str]:
    r"""``lhs = rhs = rhs2 ...`` split at its relations (``=``, ``:=``, ``\approx``)."""
    return [part.strip() for part in _RELATION.split(text)]


def plain_lhs(text: str) -> str:
    """A plain left side as formula text: ``df/du1`` and ``∂f/∂u1`` are ``df_du1``."""
    m = _PARTIAL_TEXT.match(text)
    return f"d{m.group(1)}_d{m.group(2)}" if m else text.strip()


def split_name(name: str, accent: str) -> str | None:
    """``tbar_3`` -> ``t3``, ``Wbar`` -> ``W`` (accent ``bar``); None if not accented so."""
    m = re.fullmatch(rf"([A-Za-z]\w*?){accent}(?:_([A-Za-z0-9]+))?", name)
    return None if m is None else m.group(1) + (m.group(2) or "")


def target(lhs: str) -> Target | None:
    """What the formula text ``lhs`` names; None if it is not one name."""
    if not _NAME.fullmatch(lhs):
        return None
    m = re.fullmatch(r"d([A-Za-z][A-Za-z0-9]*)_d([A-Za-z]\w*)", lhs)
    if m:
        return Target("partial", m.group(1), m.group(2))
    for accent, kind in (("bar", "adjoint"), ("dot", "tangent")):
        base = split_name(lhs, accent)
        if base is not None:
            return Target(kind, base)
    return Target("value", lhs)


def names_in(text: str) -> list[str]:
    """The names in formula text, in order (a function's name too)."""
    return _NAME.findall(text)


def renamed(text: str, table: dict[str, str]) -> str:
    """Formula text with each name in ``table`` replaced, all at once."""
    return _NAME.sub(lambda m: table.get(m.group(), m.group()), text)
