"""Matrix functions as SymPy classes: norms, logsumexp, diag, the diagonal, softmax.

Scalars of a matrix (``norm``, its square ``sqnorm``, ``logsumexp``) are Functions, as
:class:`~symgraph.functions.msum` is; the matrix-valued ones (``diag``, ``diagonal``,
``softmax``) are matrix expressions with a shape. Each prints as the parser spells it
(``str``) and as a lecture writes it (LaTeX: ‖x‖, diag, softmax), never by its class name;
their records (rules, values) are in :mod:`symgraph.rules_linalg`.

>>> import sympy
>>> x = sympy.MatrixSymbol("x", 3, 1)
>>> str(norm(x)), str(sqnorm(x)), str(diag(x)), diag(x).shape
('norm(x)', 'norm(x)**2', 'diag(x)', (3, 3))
"""

from __future__ import annotations

import sympy
from sympy.matrices.expressions import MatrixExpr
from sympy.matrices.expressions.diagonal import DiagMatrix, DiagonalOf
from sympy.printing.precedence import PRECEDENCE

from .functions import OfMatrix


class norm(OfMatrix):
    """‖X‖: the 2-norm of a vector, the Frobenius norm of a matrix (the same number:
    ``sqrt(sum(X∘X))``); ``norm(x)`` in symgraph's parser. Not differentiable at 0.

    >>> import sympy
    >>> X = sympy.MatrixSymbol("X", 2, 2)
    >>> str(norm(X)), sympy.latex(norm(X)), norm(sympy.Matrix([[3], [4]]))
    ('norm(X)', '\\\\left\\\\lVert X\\\\right\\\\rVert', 5)
    """

    is_nonnegative = True
    _spelling = "norm"

    @staticmethod
    def _explicit(entries):
        return sympy.sqrt(sympy.Add(*(e**2 for e in entries)))

    def _latex(self, printer, exp=None):
        tex = rf"\left\lVert {printer._print(self.args[0])}\right\rVert"
        return tex if exp is None else f"{tex}^{{{exp}}}"


class sqnorm(OfMatrix):
    """‖X‖², the squared norm, smooth everywhere (its gradient is 2X); the parser reads
    ``norm(X)**2`` as this, and prints it so.

    >>> import sympy
    >>> x = sympy.MatrixSymbol("x", 3, 1)
    >>> str(2 * sqnorm(x)), sympy.latex(sqnorm(x))
    ('2*norm(x)**2', '\\\\left\\\\lVert x\\\\right\\\\rVert^{2}')
    """

    is_nonnegative = True
    precedence = PRECEDENCE["Pow"]  # parenthesised as the base of a power: (‖x‖²)³

    @staticmethod
    def _explicit(entries):
        return sympy.Add(*(e**2 for e in entries))

    def _sympystr(self, printer):
        return f"norm({printer._print(self.args[0])})**2"

    def _latex(self, printer, exp=None):
        tex = rf"\left\lVert {printer._print(self.args[0])}\right\rVert^{{2}}"
        return tex if exp is None else rf"\left({tex}\right)^{{{exp}}}"


class logsumexp(OfMatrix):
    """log Σ exp(v_i) over the entries of a vector (or matrix); its gradient is softmax(v).

    >>> import sympy
    >>> v = sympy.MatrixSymbol("v", 3, 1)
    >>> str(logsumexp(v)), sympy.latex(logsumexp(v))
    ('logsumexp(v)', '\\\\operatorname{logsumexp}\\\\left(v\\\\right)')
    """

    _spelling = "logsumexp"

    @staticmethod
    def _explicit(entries):
        return sympy.log(sympy.Add(*(sympy.exp(e) for e in entries)))


class _MatrixOfMatrix(MatrixExpr):
    """A matrix made from one matrix argument; ``doit`` keeps the class (SymPy's own
    ``doit`` of DiagMatrix and the like would return SymPy's class, printed by its name)."""

    _tex = ""

    def doit(self, **hints):
        arg = self.args[0].doit(**hints) if hints.get("deep", True) else self.args[0]
        if isinstance(arg, sympy.MatrixBase):  # explicit entries: the explicit matrix
            rows, cols = self.shape
            made = type(self)(arg)
            return sympy.ImmutableMatrix(rows, cols, lambda i, j: made._entry(i, j))
        return type(self)(arg)

    def _sympystr(self, printer):
        return f"{type(self).__name__}({printer._print(self.args[0])})"

    def _latex(self, printer):
        return rf"\operatorname{{{self._tex}}}\left({printer._print(self.args[0])}\right)"


class diag(_MatrixOfMatrix, DiagMatrix):
    """diag(v): the n×n diagonal matrix of an n×1 (or 1×n) vector.

    >>> import sympy
    >>> v = sympy.MatrixSymbol("v", 3, 1)
    >>> diag(v).shape, str(diag(v)), sympy.latex(diag(v))
    ((3, 3), 'diag(v)', '\\\\operatorname{diag}\\\\left(v\\\\right)')
    """

    _tex = "diag"

    def __new__(cls, vector):
        return DiagMatrix.__new__(cls, vector)


class diagonal(_MatrixOfMatrix, DiagonalOf):
    """The n×1 column of the diagonal of a square matrix, ``diag(M)`` in the parser.

    >>> import sympy
    >>> M = sympy.MatrixSymbol("M", 3, 3)
    >>> diagonal(M).shape, str(diagonal(M)), sympy.latex(diagonal(M))
    ((3, 1), 'diag(M)', '\\\\operatorname{diag}\\\\left(M\\\\right)')
    """

    _tex = "diag"

    def __new__(cls, m):
        return MatrixExpr.__new__(cls, m)

    @property
    def shape(self):  # SymPy's reads sympy integers only; explicit matrices have ints
        rows, cols = self.args[0].shape
        return (sympy.Integer(min(rows, cols)), sympy.S.One)

    def _sympystr(self, printer):
        return f"diag({printer._print(self.args[0])})"


class softmax(_MatrixOfMatrix):
    """softmax(v) = exp(v) / Σ exp(v_i), a column of the vector's shape.

    >>> import sympy
    >>> v = sympy.MatrixSymbol("v", 3, 1)
    >>> softmax(v).shape, str(softmax(v)), sympy.latex(softmax(v))
    ((3, 1), 'softmax(v)', '\\\\operatorname{softmax}\\\\left(v\\\\right)')
    """

    _tex = "softmax"

    def __new__(cls, v):
        return MatrixExpr.__new__(cls, v)

    @property
    def shape(self):
        return self.args[0].shape

    def _entry(self, i, j, **kwargs):
        v = self.args[0]
        rows, cols = v.shape
        entries = [v._entry(r, c) for r in range(rows) for c in range(cols)]
        return sympy.exp(v._entry(i, j)) / sympy.Add(*map(sympy.exp, entries))
