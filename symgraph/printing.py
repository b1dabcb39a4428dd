"""Expressions as text a person reads: the parser's language, without SymPy's class names.

SymPy's own ``str`` writes ``HadamardProduct(X*w, y)``, ``Trace(w.T*x)`` and the ones
matrix as a bare ``1``; :func:`text` writes ``(X*w) ∘ y``, ``w.T*x`` (the trace of a
1×1 matrix is its entry) and ``ones(3, 1)``, with ``sum(...)``, ``tr(...)``, ``det(...)``,
``inverse(...)`` and transposes as ``.T``, so most of it pastes back into the parser.
:func:`picture` is the notation of a picture or a slide (``t̄ xᵀ``, ``Wᵀ t̄``,
``t̄ ∘ σ'(z)``): products side by side, transposes and inverses as superscripts.
An object's own ``_sympystr`` (symgraph's functions, an operation registered later) is
used as it is, by both.

>>> from sympy import HadamardProduct, MatrixSymbol, OneMatrix, Trace
>>> X, w, y = MatrixSymbol("X", 3, 2), MatrixSymbol("w", 2, 1), MatrixSymbol("y", 3, 1)
>>> text(HadamardProduct(X * w, y)), text(Trace(w.T * w) + 1), text(OneMatrix(3, 1))
('(X*w) ∘ y', 'w.T*w + 1', 'ones(3, 1)')
>>> picture(X.T * y), picture(HadamardProduct(-X * w, y))
('Xᵀ y', '(-X w) ∘ y')
"""

from __future__ import annotations

import re

from sympy import Add, Basic, Mul, Pow, sympify
from sympy.core.function import _coeff_isneg
from sympy.matrices.expressions import (
    HadamardPower,
    KroneckerProduct,
    MatAdd,
    MatMul,
    MatPow,
    Trace,
)
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.str import StrPrinter

from .functions import elementwise, sigmoid
from .graph import Step
from .ops import records

_STAR = re.compile(r"(?<!\*)\*(?!\*)")  # a product's *, not a power's **

__all__ = ["PicturePrinter", "TextPrinter", "operation", "picture", "text", "written"]

#: The words for the operations written with an operator (they have no spelling in the
#: parser's table of functions); the others are named as the parser spells them.
_OPERATORS = {
    Add: "add",
    Mul: "multiply",
    Pow: "power",
    MatAdd: "add",
    MatMul: "matrix product",
    MatPow: "matrix power",
    KroneckerProduct: "Kronecker product",
    HadamardPower: "entrywise power",
}


def _scalar_trace(e: Basic) -> bool:
    """A trace of a 1×1 matrix: the matrix's one entry, written as the matrix."""
    return isinstance(e, Trace) and tuple(e.arg.shape) == (1, 1)


class TextPrinter(StrPrinter):
    """SymPy's ``str`` in the parser's language, without class names (see :func:`text`)."""

    def parenthesize(self, item, level, strict=False):
        if _scalar_trace(item):  # printed as its argument, so bracketed as that is
            item = item.arg
        return super().parenthesize(item, level, strict)

    def _print_HadamardProduct(self, expr) -> str:
        # a product inside ∘ is bracketed: X*w ∘ y would leave the reader guessing
        return " ∘ ".join(self.parenthesize(a, PRECEDENCE["Mul"], strict=False) for a in expr.args)

    def _print_KroneckerProduct(self, expr) -> str:
        return " ⊗ ".join(self.parenthesize(a, PRECEDENCE["Mul"], strict=False) for a in expr.args)

    def _print_MatMul(self, expr) -> str:
        c, factors = expr.as_coeff_mmul()
        top, bottom = c.as_numer_denom()
        if bottom == 1:
            return self._product(expr)
        # ones(2, 2)/sum(B), not 1/sum(B)*ones(2, 2)
        over = MatMul(top, *factors.args) if top != 1 else MatMul(*factors.args)
        level = PRECEDENCE["Mul"]
        return f"{self.parenthesize(over, level, strict=True)}/{self.parenthesize(bottom, level)}"

    #: What joins the factors of a product: ``W*x``, or ``W x`` in a picture.
    times = "*"

    def _product(self, expr) -> str:
        # the scalar factors as one coefficient, unbracketed: t1*t̄*inverse(X), not (t1*t̄)*...
        c, factors = expr.as_coeff_mmul()
        sign = "-" if c.could_extract_minus_sign() else ""
        c = -c if sign else c
        mul = PRECEDENCE["Mul"]
        parts = [] if c == 1 else [self.parenthesize(c, mul, strict=True)]
        parts += [self.parenthesize(a, mul) for a in factors.args]
        return sign + self.times.join(parts)

    def _print_OneMatrix(self, expr) -> str:
        return "ones({}, {})".format(*map(self._print, expr.shape))

    def _print_ZeroMatrix(self, expr) -> str:
        return "zeros({}, {})".format(*map(self._print, expr.shape))

    def _print_MatrixBase(self, expr) -> str:
        # explicit entries as the CLI's --at writes a matrix: [[2*y, 2*x], [2*x, 0]]
        rows = (", ".join(self._print(e) for e in expr.row(i)) for i in range(expr.rows))
        return "[" + ", ".join(f"[{row}]" for row in rows) + "]"

    def _print_Trace(self, expr) -> str:
        if _scalar_trace(expr):
            return self._print(expr.arg)
        return f"tr({self._print(expr.arg)})"

    def _print_Determinant(self, expr) -> str:
        return f"det({self._print(expr.arg)})"

    def _print_Inverse(self, expr) -> str:
        return f"inverse({self._print(expr.arg)})"

    def _print(self, expr, **kwargs) -> str:
        if isinstance(expr, ElementwiseApplyFunction):  # SymPy's own (applyfunc) too
            return self._elementwise(elementwise(expr.function, expr.expr))
        return super()._print(expr, **kwargs)

    def _elementwise(self, expr: elementwise) -> str:
        """``sigmoid(z)``, ``sigmoid'(z)``; another function as ``(d -> body).(z)``."""
        if expr._named() is not None:
            return expr._sympystr(self)
        (v,) = expr.function.variables
        body, arg = self._print(expr.function.expr), self._print(expr.expr)
        return f"({self._print(v)} -> {body}).({arg})"

    def _print_Dummy(self, expr) -> str:
        return expr.name  # a bound variable: d, not _d

    def _print_Exp1(self, expr) -> str:
        return "e"  # as the parser spells it: E is a variable's name there

    def _print_Float(self, expr) -> str:
        # the shortest text of the float (10.0, 0.5), not SymPy's 15 digits (10.0000000000000)
        value = float(expr)
        return repr(value) if value == expr else super()._print_Float(expr)


class PicturePrinter(TextPrinter):
    """The notation of a picture or slide: ``Wᵀ t̄``, ``X⁻¹``, ``σ'(z)`` (:func:`picture`)."""

    times = " "

    def _print_Mul(self, expr) -> str:
        # SymPy's product (its fractions and signs), the factors side by side: t1 t̄
        return _STAR.sub(" ", super()._print_Mul(expr))

    def _print_Transpose(self, expr) -> str:
        return self.parenthesize(expr.arg, PRECEDENCE["Pow"]) + "ᵀ"

    def _print_OneMatrix(self, expr) -> str:
        return "𝟏"  # its shape is the node's

    def _print_ZeroMatrix(self, expr) -> str:
        return "𝟎"

    def _print_Inverse(self, expr) -> str:
        return self.parenthesize(expr.arg, PRECEDENCE["Pow"]) + "⁻¹"

    def _print(self, expr, **kwargs) -> str:
        if isinstance(expr, sigmoid):
            return f"σ({self._print(expr.args[0])})"
        return super()._print(expr, **kwargs)

    def _elementwise(self, expr: elementwise) -> str:
        named = expr._named()
        if named is not None and named[0] is sigmoid:
            return f"σ{named[1]}({self._print(expr.expr)})"
        return super()._elementwise(expr)


_TEXT, _PICTURE = TextPrinter(), PicturePrinter()


def text(expr) -> str:
    """``expr`` as text in the parser's language, without SymPy's class names.

    >>> from sympy import MatrixSymbol, OneMatrix
    >>> from symgraph.functions import msum
    >>> B = MatrixSymbol("B", 2, 2)
    >>> text(OneMatrix(2, 2) / msum(B)), text(B.T * B)
    ('ones(2, 2)/sum(B)', 'B.T*B')
    """
    return _TEXT.doprint(sympify(expr))


def picture(expr) -> str:
    """``expr`` in a picture's notation: ``Wᵀ t̄``, ``t̄ ∘ σ'(z)``, ``X⁻¹``.

    >>> from sympy import MatrixSymbol
    >>> W, t = MatrixSymbol("W", 3, 2), MatrixSymbol("t̄", 3, 1)
    >>> picture(W.T * t), picture(t * MatrixSymbol("x", 2, 1).T)
    ('Wᵀ t̄', 't̄ xᵀ')
    """
    return _PICTURE.doprint(sympify(expr))


def operation(expr: Basic) -> str:
    """The operation of a step, as a reader names it: its spelling in the parser
    (``exp``, ``sum``, ``hadamard``), or a word for an operator (``matrix product``);
    an elementwise function says so (``sigmoid entrywise``).

    >>> from sympy import MatrixSymbol, Symbol, exp
    >>> W, x = MatrixSymbol("W", 3, 2), MatrixSymbol("x", 2, 1)
    >>> operation(W * x), operation(exp(Symbol("u"))), operation(W.T)
    ('matrix product', 'exp', 'transpose')
    """
    if _scalar_trace(expr):
        return "1×1 as a number"
    if isinstance(expr, ElementwiseApplyFunction):
        named = elementwise(expr.function, expr.expr)._named()
        inner = f"{named[0].__name__}{named[1]}" if named else "a function"
        return f"{inner} entrywise"
    table = records()
    for cls in type(expr).__mro__:
        if cls in _OPERATORS:
            return _OPERATORS[cls]
        op = table.get(cls)
        if op is not None and op.names:
            return op.names[0]
    return type(expr).__name__  # a user's own function: its name is the user's


def written(sweep, node: Basic, printer: TextPrinter = _TEXT) -> list[str]:
    """The forms of a node's tangent or adjoint as a board writes them, and as the LaTeX
    does: the sum over its neighbours term by term (each neighbour's accented name and
    the local partial, a matrix edge's map as it is), then the board form; a form that
    repeats the one before it is left out. ``printer`` is the notation (text, picture).

    >>> from symgraph import graph
    >>> rv = graph("exp(exp(u1) + exp(2*u2)) + sigmoid(exp(u1) + exp(2*u2))").reverse()
    >>> written(rv, rv.graph.symbol("t3")), written(rv, rv.graph.symbol("u2"))
    (['tbar_4*t4 + tbar_5*t5*(1 - t5)', 't4 + t5*(1 - t5)'], ['tbar_2*2*t2', '2*t2*tbar_3'])
    >>> written(rv, rv.graph.symbol("u2"), _PICTURE)
    ['tbar_2 · 2 t2', '2 t2 tbar_3']
    """
    mode, g = sweep.mode, sweep.graph
    tokens = [("+", printer.doprint(sweep.seed[node]))] if node in sweep.seed else []
    for m, d in sweep.terms.get(node, ()):
        if g.edges[mode.edge(node, m)].partial is None:  # a matrix edge: its map, written
            tokens.append(_signed(printer.doprint(d)))
        else:
            tokens.append(_term(printer, printer.doprint(mode.accent(m)), d, mode.accent_left))
    forms = [_joined(tokens), printer.doprint(sweep.carried[node])]
    return [f for i, f in enumerate(forms) if i == 0 or f != forms[i - 1]]


def _term(printer: TextPrinter, accent: str, d, left: bool) -> tuple[str, str]:
    """One term ``accent · d`` (or ``d · accent``): its sign and its text."""
    # a negative coefficient only, as the LaTeX's: t̄ (1 - t²) stays, never -t̄ (t² - 1)
    sign = "-" if _coeff_isneg(d) else "+"
    d = -d if sign == "-" else d
    if d == 1:
        return sign, accent
    factor = printer.parenthesize(d, PRECEDENCE["Mul"], strict=True)
    # t̄ · 2 t2 in a picture: a number after a name would read as its index
    between = " · " if left and printer.times == " " and factor[:1].isdigit() else printer.times
    return sign, between.join([accent, factor] if left else [factor, accent])


def _signed(t: str) -> tuple[str, str]:
    return ("-", t[1:]) if t.startswith("-") else ("+", t)


def _joined(tokens: list[tuple[str, str]]) -> str:
    """``a + b - c``; ``0`` for no term."""
    if not tokens:
        return "0"
    (op, first), rest = tokens[0], tokens[1:]
    return ("-" if op == "-" else "") + first + "".join(f" {o} {t}" for o, t in rest)


def _step_text(step: Step) -> str:
    return f"{step.name} = {text(step.expr)}"


# str(step), str(graph): attached here, so graph.py imports no printing (as the stages do)
Step.__str__ = _step_text
