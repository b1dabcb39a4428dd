r"""Aligned rows laid out as LaTeX: line breaking, ``align*``, notebook and document forms.

A :class:`Row` is ``lhs = part = part ... && = value``, each part a sequence of terms;
a row is broken before ``=``, ``+`` or ``-`` where it would get wider than the page,
judged by a rough width of the typeset text (:func:`width`).

>>> row = Row("t_{1}", ((("", "x"), ("+", "y")),), "= 3")
>>> print(fragment([Section("Primal trace", (row,))]))
\begin{align*}
\intertext{\textbf{Primal trace}}
t_{1} &= x + y && = 3
\end{align*}
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

#: Lines wider than this (in rough characters of typeset output) are broken.
WIDTH = 80
_COMMAND = re.compile(r"\\(left|right|[A-Za-z]+|.)")
_WIDTHS = {"{": 0, "}": 0, "_": 0, "^": 0, " ": 0, "=": 2, "+": 2, "-": 2}
#: Commands wider than one character: spaces, and the names set upright (\tanh, \log).
_COMMAND_WIDTHS = {
    **{"left": 0, "right": 0, "quad": 2, "qquad": 4, "mathbb": 0, "mathbf": 0, "mathrm": 0},
    **{"operatorname": 0, "text": 0, "top": 1, "circ": 2, "cdot": 2, "times": 2, "in": 2},
    **{f: len(f) for f in ("sin", "cos", "tan", "tanh", "sinh", "cosh", "exp", "log", "det")},
}
_SPECIAL = {c: "\\" + c for c in "#$%&_{}"}
_TEXT = {
    **_SPECIAL,
    "\\": r"\textbackslash{}",
    "^": r"\textasciicircum{}",
    "~": r"\textasciitilde{}",
}


#: (the operator joining it to the token before: "", "+", "-", or "*" for the next factor
#: of a product, juxtaposed, and ``\cdot`` where a line breaks before it ("." : always
#: ``\cdot``, before a number); LaTeX)
Token = tuple[str, str]
#: How a token is written after the one before it, and at the start of a broken line.
_INLINE = {"*": "{}", ".": r"\cdot {}"}
_BROKEN = {"*": r"\cdot {}", ".": "{}"}


class Row(NamedTuple):
    """One aligned line ``lhs = part = part ... && shape && = value``; a part may break
    at ``±``. ``shape`` (``\\in \\mathbb{R}^{3 \\times 2}``) has a column of its own, so
    the shapes of a section line up."""

    lhs: str
    parts: tuple[tuple[Token, ...], ...]
    value: str = ""
    shape: str = ""


class Section(NamedTuple):
    """A titled block of rows: a trace, the kinks, the closed forms."""

    title: str
    rows: tuple[Row, ...]


def text(s: str) -> str:
    """Escape plain text for LaTeX's text mode (``\\text{}``, ``\\intertext{}``)."""
    return "".join(_TEXT.get(c, c) for c in s)


def width(tex_text: str) -> int:
    """A rough width of typeset LaTeX: a command counts one (an upright name its letters,
    a space its ems), a fraction its wider half, a matrix its widest entries."""
    out, i = 0, 0
    while i < len(tex_text):
        if tex_text.startswith(_MATRIX[0], i):
            end = tex_text.find(_MATRIX[1], i)
            end = len(tex_text) if end < 0 else end
            out += _matrix_width(tex_text[i + len(_MATRIX[0]) : end])
            i = end + len(_MATRIX[1])
        elif tex_text.startswith(r"\frac", i):
            num, i = _group(tex_text, i + 5)
            den, i = _group(tex_text, i)
            out += max(width(num), width(den))
        elif command := _COMMAND.match(tex_text, i):
            out += _COMMAND_WIDTHS.get(command[1], 1)
            i = command.end()
        else:
            out += _WIDTHS.get(tex_text[i], 1)
            i += 1
    return out


_MATRIX = (r"\begin{bmatrix}", r"\end{bmatrix}")


def _matrix_width(body: str) -> int:
    """A matrix is as wide as its widest entries, column by column (and its brackets)."""
    rows = [[width(cell) for cell in row.split("&")] for row in body.split(r"\\")]
    columns = [
        max(row[j] if j < len(row) else 0 for row in rows) for j in range(max(map(len, rows)))
    ]
    return sum(columns) + 2 * len(columns)


def _group(s: str, i: int) -> tuple[str, int]:
    """The brace group starting at ``s[i]``, and the index after it."""
    depth, start = 0, i
    while i < len(s):
        depth += {"{": 1, "}": -1}.get(s[i], 0)
        i += 1
        if depth == 0:
            break
    return s[start + 1 : i - 1], i


def joined(part: Sequence[Token]) -> str:
    """The tokens of a part as one LaTeX string: ``x + y``."""
    return "".join((" " + _INLINE.get(op, op + " {}").format(t) if op else t) for op, t in part)


# ---------------------------------------------------------------- layout


def lines(row: Row, room: int, shaped: bool = False) -> tuple[list[str], int]:
    """The row as aligned lines, broken before ``=``, ``+`` or ``-`` where the right-hand
    side would get wider than ``room`` (a part moves down whole if it can); and the
    widest right-hand side. In a ``shaped`` section the last line has a shape column
    (empty for a scalar) before the value."""
    out, used, widest = [row.lhs + (" &" if not row.parts else "")], 0, 0
    for i, part in enumerate(row.parts):
        for j, (op, t) in enumerate(part):
            piece = f"= {t}" if j == 0 else _INLINE.get(op, op + " {}").format(t)
            need = width(joined(part)) + 2 if j == 0 else width(piece)
            if (i or j) and used + min(need, room) > room:
                piece = piece if j == 0 else _BROKEN.get(op, "{}").format(piece)
                out.append(("&" if j == 0 else r"&\quad ") + piece)
                used = (0 if j == 0 else 2) + width(piece)
            else:
                out[-1] += (" &" if i == j == 0 else " ") + piece
                used += width(piece)
            widest = max(widest, used)
    out[-1] += (" && " + row.shape).rstrip() if shaped else ""
    out[-1] += " && " + row.value if row.value else ""
    return out, widest


def layout(section: Section, limit: int = WIDTH) -> tuple[list[list[str]], int]:
    """A section's rows as lines within ``limit``, and its widest line (all columns).

    An ``align`` column is as wide as its widest entry, so the right-hand sides get
    the room the widest left-hand side and the widest value leave.
    """
    left = max((width(r.lhs) for r in section.rows), default=0)
    values = max((width(r.value) for r in section.rows), default=0)
    shapes = max((width(r.shape) for r in section.rows), default=0)
    reserve = left + (values + 4 if values else 0) + (shapes + 4 if shapes else 0)
    laid = [lines(r, limit - reserve, shaped=bool(shapes)) for r in section.rows]
    return [x for x, _ in laid], reserve + max((w for _, w in laid), default=0)


def _body(section_list: Sequence[Section], heading: str, limit: int) -> str:
    out = []
    for section in section_list:
        out.append(heading.format(text(section.title)))
        out.extend(" \\\\\n".join(r) + " \\\\" for r in layout(section, limit)[0])
    return "\n".join(out).removesuffix(" \\\\")


def fragment(section_list: Sequence[Section], limit: int = WIDTH) -> str:
    """An ``align*`` environment (amsmath) with ``\\intertext`` headings."""
    body = _body(section_list, r"\intertext{{\textbf{{{}}}}}", limit)
    return "\\begin{align*}\n" + body + "\n\\end{align*}"


def notebook(section_list: Sequence[Section], limit: int = WIDTH) -> str:
    """``$$\\begin{aligned}...\\end{aligned}$$``, which Jupyter's MathJax renders."""
    body = _body(section_list, r"&\textbf{{{}}} \\", limit)
    return "$$\\begin{aligned}\n" + body + "\n\\end{aligned}$$"


_PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[utf8]{inputenc}
\usepackage[a4paper,margin=2cm%s]{geometry}
\usepackage{amsmath,amssymb,mathtools}
%% numbers in a matrix line up on the right (on a page of the same width they would anyway)
\renewenvironment{bmatrix}{\begin{bmatrix*}[r]}{\end{bmatrix*}}
\allowdisplaybreaks
\setlength{\jot}{6pt}
\begin{document}
"""


def document(
    section_list: Sequence[Section], title: str, limit: int = WIDTH, *, about: str = ""
) -> str:
    """A complete ``article`` that compiles with ``pdflatex``, ``about`` (LaTeX text) under
    its title; landscape if lines stay wide."""
    laid = [layout(section, limit) for section in section_list]
    wide = any(widest > limit for _, widest in laid)
    out = [_PREAMBLE % (",landscape" if wide else ""), rf"\section*{{{text(title)}}}"]
    out += [about] if about else []
    for section, (rows, _) in zip(section_list, laid, strict=True):
        # alignat: the columns (expression, shape, value) as wide as their entries, a
        # \qquad apart; align* would spread them over the page
        body = re.sub("&&", r"&& \\qquad", " \\\\\n".join(" \\\\\n".join(r) for r in rows))
        out.append(rf"\subsection*{{{text(section.title)}}}")
        out.append("\\begin{alignat*}{3}\n" + body + "\n\\end{alignat*}")
    return "\n".join(out) + "\n\\end{document}\n"
