r"""The verdicts of :func:`symgraph.verify.derivation.check_derivation`: one a line, and a
report a teacher can hand back, as text and JSON; :mod:`symgraph.export.derivation` adds
its LaTeX (each line marked ``\checkmark`` or ``\times``, the correction beside it),
HTML, and a table in Jupyter (``to_latex``, ``to_html``, ``_repr_html_``).

>>> v = LineVerdict(True, "right", 3, "t_3 = t_1 + t_2", about="t3")
>>> print(DerivationReport((v,)))
all 1 lines are right
✓ line 3: t_3 = t_1 + t_2  (right)
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sympy import Basic

from ..lazynp import np as numpy
from ..printing import text as plain
from .values import fmt_point, fmt_value
from .verdicts import Counterexample

#: The kinds of verdict a line gets.
KINDS = ("right", "right_other_form", "wrong", "not_understood")
_WORDS = {"right": "right", "right_other_form": "right, in another form", "wrong": "wrong",
          "not_understood": "not understood"}  # fmt: skip


@dataclass(frozen=True)
class LineVerdict:
    """The verdict on one line of a derivation.

    Attributes
    ----------
    ok : bool
        The line is right (in the form of the board or another one).
    kind : str
        ``"right"``, ``"right_other_form"``, ``"wrong"`` or ``"not_understood"``.
    line_no, text
        The line's number in the text (from 1) and the line as written.
    about : str
        What the line speaks about, in the graph's names: ``t3``, ``t̄3 = ∂f/∂t3``, ``∂f/∂u1``.
    should_be
        What the line should be: a formula in step names, or the number at the point.
    slip : str or None
        The kind of slip (``"sign"``, ``"factor 0.5"``, ``"missing contribution through t4"``,
        ``"forgotten transpose"``, ``"finite difference passed off as a derivative"``...).
    counterexample : Counterexample or None
        A point where the line is wrong, with its value and the right one.
    follows_from : int or None
        The line number of an earlier wrong line this one is right *given*.
    reason : str
        Why, in words.
    read : tuple
        The line's sides as they were read (SymPy; a partial as an unevaluated
        ``Derivative``), for typesetting; empty for a line not understood.
    """

    ok: bool
    kind: str
    line_no: int
    text: str
    about: str = ""
    should_be: Basic | float | numpy.ndarray | None = None
    slip: str | None = None
    counterexample: Counterexample | None = None
    follows_from: int | None = None
    reason: str = ""
    read: tuple = ()

    def __str__(self) -> str:
        mark = "✓" if self.ok else "✗"
        head = f"{mark} line {self.line_no}: {_short(self.text)}  ({_WORDS[self.kind]}"
        head += f": {self.slip})" if self.slip else ")"
        lines = [head]
        if self.follows_from is not None:
            lines.append(f"    follows from line {self.follows_from}")
        if self.should_be is not None and not self.ok:
            lines.append(f"    should be: {self.about} = {_shown(self.should_be)}")
        if self.counterexample is not None:
            at, mine, right = self.counterexample
            lines.append(
                f"    at {fmt_point(at)}: yours {fmt_value(mine)}, right {fmt_value(right)}"
            )
        if self.reason:
            lines.append(f"    {self.reason}")
        return "\n".join(lines)

    def as_dict(self) -> dict:
        """The verdict as plain data (formulas as text, numbers as floats or nested lists)."""
        counter = None
        if self.counterexample is not None:
            at, mine, right = self.counterexample
            counter = {"at": {str(k): _data(v) for k, v in at.items()},
                       "yours": _data(mine), "right": _data(right)}  # fmt: skip
        return {
            "line_no": self.line_no, "text": self.text, "ok": self.ok, "kind": self.kind,
            "about": self.about, "should_be": _data(self.should_be), "slip": self.slip,
            "follows_from": self.follows_from, "reason": self.reason, "counterexample": counter,
        }  # fmt: skip


#: The most characters of a line a report shows (a hostile one may be huge).
SHOWN_CHARS = 160


def _short(text: str) -> str:
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def _shown(value) -> str:
    return plain(value) if isinstance(value, Basic) else fmt_value(value)


def _data(value):
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Basic):
        return plain(value)
    a = numpy.asarray(value, dtype=float)
    return float(a) if a.ndim == 0 else a.tolist()


@dataclass(frozen=True)
class DerivationReport:
    """Verdicts on a derivation, a line each, in the order written.

    ``ok`` when every line is right; ``first_wrong`` is the index (into ``lines``) of the
    first wrong line, None when none is. ``str()`` and ``to_json()`` here; ``to_latex()``,
    ``to_html()`` and the Jupyter table from :mod:`symgraph.export.derivation`.
    """

    lines: tuple[LineVerdict, ...]

    @property
    def ok(self) -> bool:
        return all(v.ok for v in self.lines)

    @property
    def first_wrong(self) -> int | None:
        return next((i for i, v in enumerate(self.lines) if v.kind == "wrong"), None)

    def __repr__(self) -> str:  # the report as it reads
        return str(self)

    def __str__(self) -> str:
        return "\n".join([self._head(), *map(str, self.lines)])

    def _head(self) -> str:
        n, wrong = len(self.lines), sum(v.kind == "wrong" for v in self.lines)
        unread = sum(v.kind == "not_understood" for v in self.lines)
        if self.ok:
            return f"all {n} lines are right"
        parts = [f"{wrong} of {n} lines wrong"] + [f"{unread} not understood"] * bool(unread)
        if self.first_wrong is not None:
            parts.append(f"the first wrong line is line {self.lines[self.first_wrong].line_no}")
        return "; ".join(parts)

    def as_dict(self) -> dict:
        return {"ok": self.ok, "first_wrong": self.first_wrong,
                "lines": [v.as_dict() for v in self.lines]}  # fmt: skip

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.as_dict(), indent=indent, ensure_ascii=False)
