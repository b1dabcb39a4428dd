"""The parser's text: :class:`ParseError`, and positions in the user's own text.

``ast`` reports byte offsets in the code it was given (``^`` spelled ``**``, a common
indentation removed); :class:`Source` maps them back to the user's line and column, so
every refusal names the place the user sees.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

from ..errors import SymgraphError


@dataclass(eq=False)
class ParseError(SymgraphError):
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


ParseError.__module__ = "symgraph.parse"  # its public home, in tracebacks and doctests


# ---------------------------------------------------------------- source and positions

_NEWLINE = re.compile(r"\r\n|\r|\n")


class Source:
    """The user's text and the code given to ``ast.parse``, with a column map between them.

    A common indentation is removed (an indented triple-quoted program is fine) and ``^``
    is spelled ``**``: Python's ``^`` is xor, with the wrong precedence, and the language
    has no strings, so the replacement is safe.
    """

    def __init__(self, text: str) -> None:
        # Python ends a line at \r\n, \r or \n; so must the map, or a bare \r puts
        # Python's line numbers past the end of ours
        self.lines = _NEWLINE.split(text)
        indents = [s[: len(s) - len(s.lstrip())] for s in self.lines]
        code = [i for s, i in zip(self.lines, indents, strict=True) if s.strip()[:1] not in "#"]
        margin = min(code, key=len, default="")
        margin = margin if all(i.startswith(margin) for i in code) else ""
        self.cuts = [len(margin) if i.startswith(margin) else len(i) for i in indents]
        spelled = [_spelled(s, c) for s, c in zip(self.lines, self.cuts)]  # noqa: B905
        self.code_lines = [code for code, _, _ in spelled]
        self.origins = [origin for _, origin, _ in spelled]
        self.marks = [marks for _, _, marks in spelled]
        self.code = "\n".join(self.code_lines)
        self._encoded: dict[int, bytes] = {}

    def line_text(self, line: int | None) -> str | None:
        return self.lines[line - 1] if line and 1 <= line <= len(self.lines) else None

    def column(self, line: int, index: int) -> int:
        """The 1-based column in the user's line of character ``index`` of the code line."""
        if not 1 <= line <= len(self.lines):
            return index + 1
        origin = self.origins[line - 1]
        return (origin[index] if index < len(origin) else len(self.lines[line - 1])) + 1

    def entrywise(self, node: Any) -> bool:
        """Whether ``node`` is the ``~`` marking an entrywise ``.^`` or ``./``, not the
        user's own ``~`` (which is refused)."""
        if not (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Invert)):
            return False
        index = len(self._bytes(node.lineno)[: node.col_offset].decode(errors="ignore"))
        return 1 <= node.lineno <= len(self.marks) and index in self.marks[node.lineno - 1]

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

    def label(self, first: Any, last: Any = None) -> Label:
        """The code from ``first`` to ``last`` (a node, or a run of operands), read lazily."""
        return Label(self, first, last)

    def text(self, first: Any, last: Any = None, width: int = 40) -> str:
        """The code from ``first`` to ``last`` on one line, shortened to ``width``."""
        last = last or first
        rows = [self._bytes(n) for n in range(first.lineno, last.end_lineno + 1)]
        rows[-1] = rows[-1][: last.end_col_offset]
        rows[0] = rows[0][first.col_offset :]  # after the end: they may be the same row
        text = " ".join(b" ".join(rows).decode(errors="ignore").split())
        text = text.replace("**~", ".^").replace("/~", "./")  # the user's spelling
        return text if len(text) <= width else text[: width - 1] + "…"


def _entrywise_dot(line: str, i: int) -> bool:
    """Whether the ``.`` at ``i`` starts ``.^`` or ``./`` after a name or a bracket (after
    digits it ends a number: ``2.^2`` is ``2.0**2``)."""
    if line[i + 1 : i + 2] not in ("^", "/") or line[i + 1 : i + 3] == "//":
        return False
    end = len(line[:i].rstrip())  # (A + B) .^ 2 too
    j = end
    while j > 0 and (line[j - 1].isalnum() or line[j - 1] == "_"):
        j -= 1
    word = line[j:end]
    return word[:1].isidentifier() if word else (end > 0 and line[end - 1] in ")]")


#: The operators people type or paste from a page, in Python's spelling: ``^`` and the
#: multiplication signs ``·`` (U+00B7), ``×`` (U+00D7) and ``⋅`` (U+22C5), the minus sign
#: ``−`` (U+2212) and ``÷``. Python would read ``x·y`` as one name (``·`` may continue an
#: identifier) and refuse the others; each is one character, so columns stay right.
SPELLINGS = {"^": "**", "·": "*", "×": "*", "⋅": "*", "−": "-", "÷": "/"}
_RESPELLED = re.compile("[" + re.escape("".join(SPELLINGS)) + "]|\\./")


def _spelled(line: str, cut: int) -> tuple[str, list[int], frozenset[int]]:
    """The code of one line (from column ``cut``), the index in ``line`` of each code
    character, and where the marks of the entrywise operators are.

    ``^`` is ``**`` and the other :data:`SPELLINGS` are Python's; ``A.^p`` is ``A**~p``
    and ``A./B`` is ``A/~B``: Python has no operator of that precedence to spare, and
    ``~`` (refused otherwise) marks them.
    """
    if not _RESPELLED.search(line):  # most lines: the text itself
        return line[cut:], list(range(cut, len(line))), frozenset()
    code: list[str] = []
    origin: list[int] = []
    marks: set[int] = set()
    i = cut
    while i < len(line):
        c = line[i]
        if c == "." and _entrywise_dot(line, i):
            spelled = "**~" if line[i + 1] == "^" else "/~"
            marks.add(len(code) + len(spelled) - 1)
            code += spelled
            origin += [i] * len(spelled)
            i += 2
            continue
        spelled = SPELLINGS.get(c, c)
        code += spelled
        origin += [i] * len(spelled)
        i += 1
    return "".join(code), origin, frozenset(marks)


@dataclass(frozen=True)
class Label:
    """Code for a message, read only when one is written: a chain of thousands of operands
    must not copy its text once for each operand."""

    source: Source
    first: Any
    last: Any = None

    def __str__(self) -> str:
        return self.source.text(self.first, self.last)


@dataclass(frozen=True)
class Context:
    """Where the walk is: the source, in a program which statement assigns each name, and
    the names that are matrices (given shapes, and earlier lines whose value is a matrix),
    and the version each rebound name stands for now (``c`` after ``c += 1`` is ``c_2``)."""

    source: Source
    assigned: dict[str, tuple[int, int]]  # name -> (statement index, line) of its first
    shapes: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    statement: int = 0
    versions: Mapping[str, str] = field(default_factory=dict)  # name -> its latest version


def fail(node: ast.AST, ctx: Context, message: str, hint: str | None = None) -> NoReturn:
    line, column = ctx.source.position(node)
    raise ParseError(message, line, column, hint, ctx.source.line_text(line))
