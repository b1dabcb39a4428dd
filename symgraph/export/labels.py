"""The notation of a picture's labels: names typeset (t̄₁, ṫ₃, u₁, W₂₁), powers raised.

Graphviz draws text, not LaTeX, so a picture writes a name as a board does with Unicode:
an adjoint's bar and a tangent's dot over the letter (combining marks), an index as a
subscript, an integer power as a superscript; an index with no Unicode subscript (``x_y``)
is marked up as ``<SUB>`` in the HTML-like label (:func:`html` turns the marks into tags).
Products stand side by side, as in :func:`symgraph.printing.picture`.

>>> from sympy import Symbol
>>> label(Symbol("tbar_1")), label(Symbol("tdot_3") * Symbol("t4") ** 2), label(Symbol("W_21"))
('t̄₁', 't₄² ṫ₃', 'W₂₁')
>>> html(label(Symbol("x_y") + 1))
'x<SUB>y</SUB> + 1'
"""

from __future__ import annotations

import unicodedata

from sympy import Basic, sympify
from sympy.printing.conventions import split_super_sub
from sympy.printing.precedence import PRECEDENCE

from ..printing import PicturePrinter

#: The marks a name's accent is written with: a combining macron (t̄) and dot above (ṫ).
ACCENTS = {"bar": "\u0304", "dot": "\u0307", "hat": "\u0302", "tilde": "\u0303"}
_SUB = str.maketrans("0123456789+-=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ")
_SUP = str.maketrans("0123456789+-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻")
#: Marks for the tags of a subscript in a name (characters no text holds), so that the
#: label's text can be escaped as a whole and the tags put in afterwards.
_OPEN, _CLOSE = "\x01", "\x02"


def name(text: str) -> str:
    """A symbol's name typeset: ``tbar_1`` -> ``t̄₁``, ``u1`` -> ``u₁``, ``x_y`` -> x with a
    subscript y (marked, see :func:`html`); a name it cannot read stays as it is.

    >>> name("ubar_2"), name("Wdot"), name("alpha1"), name("f"), name("a&b")
    ('ū₂', 'Ẇ', 'α₁', 'f', 'a&b')
    """
    base, supers, subs = split_super_sub(text)
    if not base:
        return text
    for word, mark in ACCENTS.items():
        if base.endswith(word) and len(base) > len(word):
            base = base[: -len(word)] + mark
            break
    base = unicodedata.normalize("NFC", _greek(base))  # ṫ, ū as one character where there is one
    return base + _index(subs, _SUB, _OPEN, _CLOSE) + _index(supers, _SUP, "^(", ")")


def _greek(base: str) -> str:
    """``alpha`` -> ``α`` (as SymPy's own pretty printer names them)."""
    from sympy.printing.pretty.pretty_symbology import greek_unicode

    letters = base.rstrip("".join(ACCENTS.values()))
    marks = base[len(letters) :]
    return greek_unicode.get(letters, letters) + marks


def _index(parts: list[str], table: dict, open_: str, close: str) -> str:
    if not parts:
        return ""
    joined = ",".join(parts)
    raised = joined.translate(table)
    if all(a != b or a == "," for a, b in zip(joined, raised, strict=True)):
        return raised
    return open_ + joined + close


class LabelPrinter(PicturePrinter):
    """:class:`~symgraph.printing.PicturePrinter` with names typeset and integer powers
    raised (``t₄²``); see :func:`label`."""

    def _print_Symbol(self, expr) -> str:
        return name(expr.name)

    def _print_MatrixSymbol(self, expr) -> str:
        return name(expr.name)

    def _print_Max(self, expr) -> str:  # as the parser spells it, not SymPy's Max
        return "max(" + ", ".join(map(self._print, expr.args)) + ")"

    def _print_Min(self, expr) -> str:
        return "min(" + ", ".join(map(self._print, expr.args)) + ")"

    def _print_Pow(self, expr, rational=False) -> str:
        base, exp = expr.args
        if exp.is_Integer and exp > 1:
            return self.parenthesize(base, PRECEDENCE["Pow"], strict=False) + str(exp).translate(
                _SUP
            )
        return super()._print_Pow(expr, rational)


#: The one label printer (it keeps no state between expressions).
LABELS = LabelPrinter()


def label(expr: Basic) -> str:
    """``expr`` in a picture's notation with names typeset (:class:`LabelPrinter`)."""
    return LABELS.doprint(sympify(expr))


def html(text: str) -> str:
    """Escape text for a Graphviz HTML-like label, the marked subscripts as ``<SUB>`` tags.

    >>> html('a<b & "c"')
    'a&lt;b &amp; &quot;c&quot;'
    """
    escaped = (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )
    return escaped.replace(_OPEN, "<SUB>").replace(_CLOSE, "</SUB>")
