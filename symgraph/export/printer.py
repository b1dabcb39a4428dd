r"""The LaTeX printer: SymPy's own, with names made safe and matrices as a slide writes them.

Names SymPy cannot typeset (``α1``, ``a&b``) are made safe for ``pdflatex``; the ones
matrix is ``\mathbf{1}``, a transpose ``^{\top}``, a trace ``\operatorname{tr}`` (of a
1×1 matrix: its entry), a determinant ``\det``, and a slope entry by entry ``\tanh'``.
An object's own ``_latex`` is used as it is. :func:`number` writes the numbers.

>>> from sympy import MatrixSymbol, OneMatrix
>>> tex(MatrixSymbol("x", 3, 1).T * OneMatrix(3, 1))
'x^{\\top} \\mathbf{1}_{3}'
"""

from __future__ import annotations

import math
import re
import unicodedata

import sympy
from sympy import Expr, Symbol
from sympy.core.function import _coeff_isneg
from sympy.matrices.expressions import MatAdd, MatMul, Trace
from sympy.printing.latex import LatexPrinter, greek_letters_set, tex_greek_dictionary
from sympy.printing.precedence import PRECEDENCE
from sympy.simplify import fraction

from ..functions import elementwise
from ..lazynp import np
from .typeset import Token, width

_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_NAME = re.compile(r"\\?[A-Za-z]+|\\operatorname\{[A-Za-z]+\}")  # \tanh, \operatorname{relu}
_SPECIAL = {c: "\\" + c for c in "#$%&_{}"}
_MATH = {
    **_SPECIAL,
    "\\": r"\backslash ",
    "^": r"\hat{}",
    "~": r"\sim ",
    "|": r"\vert ",
    " ": r"\ ",
}


class Printer(LatexPrinter):
    r"""SymPy's LaTeX printer; names it cannot typeset are made safe for ``pdflatex``.

    >>> print(Printer().doprint(Symbol("α1")), Printer().doprint(Symbol("a&b")))
    \alpha_{1} \mathrm{a\&b}
    """

    def _print_Symbol(self, expr: Symbol, style: str = "plain") -> str:
        spelled = "".join(_greek_word(c) or c for c in expr.name)  # α1 -> alpha1 -> \alpha_{1}
        if _PLAIN.fullmatch(spelled):
            return super()._print_Symbol(Symbol(spelled), style)
        return r"\mathrm{" + "".join(_math_char(c) for c in expr.name) + "}"

    # ---- matrices as a slide writes them: 𝟏, ∘, ^⊤, tr, det; no class names

    def parenthesize(self, item, level, is_neg=False, strict=False) -> str:
        if _scalar_trace(item):  # printed as its argument, so bracketed as that is
            item = item.arg
        return super().parenthesize(item, level, is_neg, strict)

    def _print_OneMatrix(self, expr) -> str:
        r"""The ones matrix: ``\mathbf{1}_{3}`` (a column), ``\mathbf{1}_{3}^{\top}`` (a row),
        ``\mathbf{1}_{m \times n}``."""
        m, n = (self._print(k) for k in expr.shape)
        if expr.shape[1] == 1:
            return rf"\mathbf{{1}}_{{{m}}}"
        if expr.shape[0] == 1:
            return rf"\mathbf{{1}}_{{{n}}}^{{\top}}"
        return rf"\mathbf{{1}}_{{{m} \times {n}}}"

    def _print_ZeroMatrix(self, expr) -> str:
        r"""The zero matrix, ``\mathbf{0}_{m \times n}`` (SymPy writes a bare 0)."""
        m, n = (self._print(k) for k in expr.shape)
        return rf"\mathbf{{0}}_{{{m} \times {n}}}"

    def _print_Transpose(self, expr) -> str:
        return super()._print_Transpose(expr).removesuffix("^{T}") + r"^{\top}"

    def _print_Trace(self, expr) -> str:
        if _scalar_trace(expr):
            return self._print(expr.arg)
        return rf"\operatorname{{tr}}\left({self._print(expr.arg)}\right)"

    def _print_Determinant(self, expr) -> str:
        return rf"\det\left({self._print(expr.arg)}\right)"

    def _print_MatMul(self, expr) -> str:
        first, *rest = expr.args
        if first.is_Rational and not first.is_Integer and rest:  # ½ W, not (½) W
            sign = "- " if first < 0 else ""
            tail = rest[0] if len(rest) == 1 else MatMul(*rest)
            rest_tex = self.parenthesize(tail, PRECEDENCE["Mul"], strict=True)
            return f"{sign}{self._print(abs(first))} {rest_tex}"
        return super()._print_MatMul(expr)

    def _print_ElementwiseApplyFunction(self, expr) -> str:
        return self._print(elementwise(expr.function, expr.expr))

    def _print(self, expr, **kwargs) -> str:
        if isinstance(expr, elementwise) and (named := expr._named()) and named[1]:
            slope = self._slope(*named, expr.expr)
            if slope is not None:
                return slope
        return super()._print(expr, **kwargs)

    def _slope(self, f: type, primes: str, arg) -> str | None:
        r"""``f'`` entry by entry: ``\sigma'\left(z\right)``, ``\tanh'\left(z\right)``
        (SymPy writes ``\tanh{\left(z \right)}``: the prime goes after the name, not
        inside its braces); None if ``f`` is not written as a name (``|z|``)."""
        head = super()._print(f(Symbol("PLACEHOLDER"))).partition("PLACEHOLDER")[0]
        head = head.removesuffix(r"\left(").removesuffix("{").rstrip()
        if not _NAME.fullmatch(head):
            return None
        return rf"{head}{primes}\left({self._print(arg)}\right)"

    def terms(self, expr: Expr, room: int | None = None) -> tuple[Token, ...]:
        """``expr`` as tokens, one per term of a sum, as :meth:`_print_Add` writes them; a
        term wider than ``room`` (a long product) one token a factor, joined by ``*``
        (juxtaposed, and ``\\cdot`` where the line breaks)."""
        if not (expr.is_Add or isinstance(expr, MatAdd)):  # a matrix sum breaks like a sum
            return self._factors("", expr, room)
        out = []
        for i, term in enumerate(self._as_ordered_terms(expr, order=None)):
            op = "" if i == 0 else "-" if _negative(term) else "+"
            t = self.doprint(-term if op == "-" else term)
            if self._needs_add_brackets(term):
                out.append((op, rf"\left({t}\right)"))
            else:
                out += self._factors(op, -term if op == "-" else term, room, t)
        return tuple(out)

    def _factors(self, op: str, term: Expr, room: int | None, t: str = "") -> list[Token]:
        """A term as one token, or, wider than ``room``, as a product's factors."""
        t = t or self.doprint(term)
        if room is None or width(t) <= room or not term.is_Mul or fraction(term)[1] != 1:
            return [(op, t)]
        sign = "- " if term.could_extract_minus_sign() else ""
        term = -term if sign else term
        factors = term.as_ordered_factors()
        if factors[0] == 1:  # an unevaluated product keeps its 1
            factors = factors[1:]
        texts = [
            rf"\left({self.doprint(f)}\right)"
            if self._needs_mul_brackets(f, first=i == 0, last=i == len(factors) - 1)
            else self.doprint(f)
            for i, f in enumerate(factors)
        ]
        # 2 \cdot 3^{x}, as SymPy writes a number after a factor: never "2 3^{x}"
        return [(op, sign + texts[0]), *(("." if x[:1].isdigit() else "*", x) for x in texts[1:])]

    def product(self, left: str, factor: Expr, right: str = "") -> Token:
        """``left · factor · right`` as a signed token; a factor of 1 is left out."""
        op = "-" if _negative(factor) else "+"
        factor = -factor if op == "-" else factor
        body = "" if factor == 1 else self.parenthesize(factor, PRECEDENCE["Mul"], strict=True)
        # f̄ · ½, not f̄ ½ (nor f̄ 1 read as "f̄1")
        number = body[:1].isdigit() or (factor.is_Number and factor != 1)
        body = r"\cdot " + body if left and number else body
        return op, " ".join(p for p in (left, body, right) if p) or "1"


def _negative(term: Expr) -> bool:
    """A term written with a minus sign: ``-2 x`` and ``-W x`` alike."""
    if isinstance(term, MatMul):
        return term.args[0].is_number and term.args[0].is_negative
    return _coeff_isneg(term)


def _scalar_trace(e) -> bool:
    """A trace of a 1×1 matrix: its one entry, written as the matrix (``w^{\\top} x``)."""
    return isinstance(e, Trace) and tuple(e.arg.shape) == (1, 1)


def _greek_word(char: str) -> str:
    """``α`` -> ``alpha``, ``Λ`` -> ``Lamda``: a name SymPy typesets; '' if not Greek."""
    found = re.fullmatch(r"GREEK (SMALL|CAPITAL) LETTER (\w+)", unicodedata.name(char, ""))
    if not found:
        return ""
    word = found[2].lower() if found[1] == "SMALL" else found[2].capitalize()
    return word if word in tex_greek_dictionary or word.lower() in greek_letters_set else ""


def _math_char(c: str) -> str:
    """One character of a name, escaped for math mode (and MathJax)."""
    if c.isascii():
        return _MATH.get(c, c)
    word = _greek_word(c)
    return tex_greek_dictionary.get(word, "\\" + word) + " " if word else f"U{{+}}{ord(c):04X}"


#: The one printer (it keeps no state between expressions).
PRINTER = Printer()


def tex(expr) -> str:
    """LaTeX of a SymPy expression (or a number) with :class:`Printer`."""
    return PRINTER.doprint(sympy.sympify(expr))


def number(value, digits: int = 5) -> str:
    """A number for a reader: ``3``, ``17.402``, ``1.2346 \\cdot 10^{-7}``; arrays as matrices.

    >>> number(3.0), number(17.40223), number(-1.23456e-7)
    ('3', '17.402', '-1.2346 \\\\cdot 10^{-7}')
    """
    if getattr(value, "ndim", 0):
        rows = _entries(np.asarray(value, dtype=float).reshape(np.shape(value)[0], -1), digits)
        return r"\begin{bmatrix}" + r" \\ ".join(" & ".join(r) for r in rows) + r"\end{bmatrix}"
    v = float(value)
    if v != v:  # NaN: a partial with no number at this point
        return r"\text{undefined}"
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    mantissa, _, exponent = f"{v:.{digits}g}".partition("e")
    return mantissa + (rf" \cdot 10^{{{int(exponent)}}}" if exponent else "")


def _entries(a: np.ndarray, digits: int) -> list[list[str]]:
    """A matrix's entries with one number of decimals, so its columns line up: as few as
    write every entry exactly, at most what gives the largest ``digits`` significant
    digits; each entry on its own where that would round one to 0 (or is too large).

    >>> _entries(np.array([[0.15868, 0.317372], [0.0214, -0.085448]]), 5)
    [['0.15868', '0.31737'], ['0.02140', '-0.08545']]
    >>> _entries(np.array([[0.5, -1.0], [2.0, 0.25]]), 5), _entries(np.array([[1e-9, 1.0]]), 5)
    ([['0.50', '-1.00'], ['2.00', '0.25']], [['1 \\\\cdot 10^{-9}', '1']])
    """
    size = float(np.max(np.abs(a))) if a.size and np.isfinite(a).all() else 0.0
    if not 0 < size < 10**digits:
        return [[number(v, digits) for v in row] for row in a]
    most = max(0, digits - 1 - math.floor(math.log10(size)))
    decimals = next(d for d in range(most + 1) if np.array_equal(a.round(d), a.round(most)))
    shown = a.round(decimals)
    if np.any((a != 0) & (shown == 0)):
        return [[number(v, digits) for v in row] for row in a]
    return [[f"{v + 0.0:.{decimals}f}" for v in row] for row in shown]  # + 0.0: no -0.00
