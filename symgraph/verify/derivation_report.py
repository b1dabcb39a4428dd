r"""The verdicts of :func:`symgraph.verify.derivation.check_derivation`: one a line, and a
report a teacher can hand back, as text, JSON, LaTeX (each line marked ``\checkmark`` or
``\times``, the correction beside it), HTML, and a table in Jupyter.

>>> v = LineVerdict(True, "right", 3, "t_3 = t_1 + t_2", about="t3")
>>> print(DerivationReport((v,)))
all 1 lines are right
✓ line 3: t_3 = t_1 + t_2  (right)
"""

from __future__ import annotations

import html
import json
import re
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
    tex : str
        The line as it was read, typeset (LaTeX); empty for a line not understood.
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
    tex: str = ""

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
    first wrong line, None when none is.
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

    def to_latex(self, standalone: bool = False) -> str:
        r"""The report as a LaTeX list: ``\checkmark`` or ``\times``, the line, the correction.

        Lines the reader understood are typeset from what it read (never the raw text,
        so nothing a person wrote reaches TeX); the others are shown as escaped text.
        """
        items = [_latex_item(v) for v in self.lines]
        body = "\\begin{itemize}\n" + "\n".join(items) + "\n\\end{itemize}\n"
        body = f"\\noindent {_tex_text(self._head())}\n" + body
        if not standalone:
            return body
        return (
            "\\documentclass{article}\n\\usepackage[utf8]{inputenc}\n"
            "\\usepackage{amsmath,amssymb}\n\\begin{document}\n" + body + "\\end{document}\n"
        )

    def to_html(self) -> str:
        """The report as an HTML table: mark, line, verdict, correction."""
        rows = ["<tr><th></th><th>line</th><th>as written</th><th>verdict</th>"
                "<th>should be</th></tr>"]  # fmt: skip
        for v in self.lines:
            mark = "✓" if v.ok else "✗"
            color = "green" if v.ok else "#b00"
            verdict = _WORDS[v.kind] + (f": {v.slip}" if v.slip else "")
            if v.follows_from is not None:
                verdict += f" (follows from line {v.follows_from})"
            note = v.reason
            fix = "" if v.ok or v.should_be is None else f"{v.about} = {_shown(v.should_be)}"
            cells = [html.escape(c) for c in (str(v.line_no), _short(v.text), verdict, fix)]
            cells[2] += f"<br><small>{html.escape(note)}</small>" * bool(note)
            rows.append(
                f'<tr><td style="color:{color}">{mark}</td>'
                + "".join(f"<td>{c}</td>" for c in cells)
                + "</tr>"
            )
        head = f"<p>{html.escape(self._head())}</p>"
        return head + '<table class="symgraph-derivation">' + "".join(rows) + "</table>"

    def _repr_html_(self) -> str:
        return self.to_html()


# ---------------------------------------------------------------- LaTeX


_TEX_SPECIAL = {c: "\\" + c for c in "#$%&_{}"}
_TEX_SPECIAL.update({"\\": r"\textbackslash{}", "^": r"\^{}", "~": r"\~{}"})


def _tex_text(s: str) -> str:
    """Text for TeX: its special characters escaped, the non-ASCII ones dropped to words."""
    s = "".join(_TEX_SPECIAL.get(c, c) for c in s)
    for old, new in (("∂", r"$\partial$"), ("×", r"$\times$"), ("·", r"$\cdot$"),
                     ("\u0304", ""), ("ᵀ", r"$^\top$"), ("→", r"$\to$")):  # fmt: skip
        s = s.replace(old, new)
    return re.sub(r"[^\x00-\x7f]", "?", s)


def _tex_value(value) -> str:
    from ..export.printer import number, tex  # the exports import the verdicts, not back

    return tex(value) if isinstance(value, Basic) else number(value)


def _latex_item(v: LineVerdict) -> str:
    mark = r"$\checkmark$" if v.ok else r"$\times$"
    words = _tex_text(_WORDS[v.kind] + (f": {v.slip}" if v.slip else ""))
    if v.follows_from is not None:
        words += f" (follows from line {v.follows_from})"
    shown = f"$\\displaystyle {v.tex}$" if v.tex else rf"\texttt{{{_tex_text(_short(v.text))}}}"
    out = f"\\item[{mark}] line {v.line_no}: {shown} --- {words}"
    if not v.ok and v.should_be is not None:
        out += f"\\\\\n  should be: $\\displaystyle {_tex_value(v.should_be)}$"
    if v.reason:
        out += f"\\\\\n  {{\\small {_tex_text(v.reason)}}}"
    return out
