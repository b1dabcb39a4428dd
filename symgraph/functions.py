"""Activation functions as first-class SymPy functions.

Each is a ``sympy.Function`` with ``fdiff`` (so SymPy's own ``diff`` agrees with
symgraph's rule table), a LaTeX form and a rewrite into elementary functions, so
the board form ``t_4 = \\sigma(t_3)`` stays one readable step.

Examples
--------
>>> from sympy import Symbol, diff
>>> x = Symbol("x", real=True)
>>> diff(sigmoid(x), x)
(1 - sigmoid(x))*sigmoid(x)
>>> sigmoid(x).rewrite("exp")
1/(1 + exp(-x))
>>> relu(-2), relu(3), softplus(0)
(0, 3, log(2))
"""

from __future__ import annotations

import sympy
from sympy import Function, Heaviside, Max, exp, log
from sympy.matrices.expressions import MatrixExpr
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.printing.precedence import PRECEDENCE

from .ops import local_partial, records


class _Activation(Function):
    """What the activations share: one real argument, a value from an elementary
    ``_form`` (SymPy has no number of its own for them), LaTeX by ``_tex``."""

    nargs = 1
    _tex = ""
    _positive = True  # at every real argument (relu: only nonnegative)
    _form = staticmethod(lambda x: x)

    def _eval_evalf(self, prec):
        return _evalf_via(self, self._form(self.args[0]), prec)

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_is_positive(self):
        return self.args[0].is_real if self._positive else None

    def _eval_is_nonnegative(self):
        return self.args[0].is_real

    def _latex(self, printer, exp=None):
        # exp: SymPy's LaTeX printer writes a function's power as f^{2}(x)
        head = self._tex if exp is None else rf"{self._tex}^{{{exp}}}"
        return rf"{head}\left({printer._print(self.args[0])}\right)"


class sigmoid(_Activation):
    """The logistic function σ(x) = 1 / (1 + e^{-x}); σ' = σ (1 − σ)."""

    _tex = r"\sigma"
    _form = staticmethod(lambda x: 1 / (1 + exp(-x)))

    @classmethod
    def eval(cls, x):
        if x.is_zero:
            return sympy.S.Half
        if x.is_Float:
            return cls._form(x)
        return None

    def fdiff(self, argindex=1):
        return self * (1 - self)

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return self._form(x)


class relu(_Activation):
    """The rectifier relu(x) = max(0, x); relu'(x) = H(x), a kink at 0."""

    _tex, _positive = r"\operatorname{relu}", False
    _form = staticmethod(lambda x: Max(0, x))

    @classmethod
    def eval(cls, x):
        if x.is_number and x.is_real:
            return Max(0, x)
        if x.is_nonnegative:
            return x
        if x.is_nonpositive:
            return sympy.S.Zero
        return None

    def fdiff(self, argindex=1):
        return Heaviside(self.args[0])

    def _eval_rewrite_as_Max(self, x, **kwargs):
        return Max(0, x)

    def _eval_rewrite_as_Piecewise(self, x, **kwargs):
        return sympy.Piecewise((0, x < 0), (x, True))


class softplus(_Activation):
    """softplus(x) = log(1 + e^x), a smooth relu; softplus' = σ."""

    _tex = r"\operatorname{softplus}"
    # log(1 + e^x) = max(x, 0) + log(1 + e^-|x|): no overflow, no lost digits at large |x|
    _form = staticmethod(lambda x: _softplus_form(x))

    @classmethod
    def eval(cls, x):
        if x.is_Float:  # log(1 + e^x) in floats loses e^x << 1 (softplus(-40) is not 0)
            return _softplus_form(sympy.Rational(x)).evalf(sympy.core.evalf.prec_to_dps(x._prec))
        if x.is_zero:
            return log(2)
        return None

    def fdiff(self, argindex=1):
        return sigmoid(self.args[0])

    def _eval_rewrite_as_log(self, x, **kwargs):
        return log(1 + exp(x))

    _eval_rewrite_as_exp = _eval_rewrite_as_log


def _softplus_form(x):
    return Max(x, 0) + log(1 + exp(-sympy.Abs(x)))


def _evalf_via(f: Function, form, prec):
    """``f``'s value from an elementary form, when its argument is a number."""
    if not f.args[0].is_number:
        return None
    return (
        form._eval_evalf(prec)
        if hasattr(form, "_eval_evalf")
        else form.evalf(sympy.core.evalf.prec_to_dps(prec))
    )


class OfMatrix(Function):
    r"""A real scalar of one matrix argument (``sum(M)``, ``norm(M)``, ``logsumexp(M)``);
    ``eval`` gives the value of explicit entries, and it prints as the parser spells it
    (``_spelling``), in LaTeX as ``\operatorname{spelling}(M)``."""

    nargs = 1
    is_real = True
    _spelling = ""

    @classmethod
    def eval(cls, m):
        if isinstance(m, sympy.MatrixBase):  # explicit entries: the number itself
            return cls._explicit(list(m))
        return None

    def _sympystr(self, printer):
        return f"{self._spelling}({printer._print(self.args[0])})"

    def _latex(self, printer, exp=None):
        tex = rf"\operatorname{{{self._spelling}}}\left({printer._print(self.args[0])}\right)"
        return tex if exp is None else rf"{tex}^{{{exp}}}"


class msum(OfMatrix):
    """The sum of a matrix's entries, a scalar: ``sum(M)`` in symgraph's parser."""

    _spelling = "sum"

    @staticmethod
    def _explicit(entries):
        return sympy.Add(*entries)


class elementwise(ElementwiseApplyFunction):
    """A scalar function applied entry by entry to a matrix: ``sigmoid(W*x + b)``.

    Built without SymPy's shortcut (which turns ``sqrt`` of a 1×1 matrix into a matrix
    power); printed as the lecture writes it, ``σ(t2)``, and a derivative as ``σ'(t2)``.

    >>> import sympy
    >>> d, z = sympy.Dummy("d", real=True), sympy.MatrixSymbol("z", 3, 1)
    >>> s = elementwise(sympy.Lambda(d, sigmoid(d)), z)
    >>> str(s), sympy.latex(s)
    ('sigmoid(z)', '\\\\sigma\\\\left(z\\\\right)')
    >>> str(elementwise(sympy.Lambda(d, sigmoid(d) * (1 - sigmoid(d))), z))
    "sigmoid'(z)"
    """

    def __new__(cls, function, expr):
        return MatrixExpr.__new__(cls, function, expr)

    def _named(self):
        """``(f, primes)`` when the body is ``f(d)``, ``f'(d)`` or ``f''(d)`` of a known f."""
        (v,) = self.function.variables
        body = self.function.expr
        named = [cls for cls, op in records().items() if op.elementwise and op.names]
        if body.args == (v,) and body.func in named:
            return body.func, ""
        slopes = {f: local_partial(f(v), v) for f in named}
        for f, slope in slopes.items():
            if body == slope:
                return f, "'"
        for f, slope in slopes.items():  # a Hessian's σ'': the slope's own slope
            curvature = local_partial(slope, v)
            if body == curvature or sympy.expand(body - curvature) == 0:
                return f, "''"
        return None

    def _power(self):
        """``(c, p)`` when the body is ``c*d**p`` for numbers ``c`` and ``p`` (``c A.^p``,
        the derivatives of powers too), else None."""
        (v,) = self.function.variables
        c, rest = self.function.expr.as_coeff_Mul()
        base, p = rest.as_base_exp()
        if base == v and p.is_number and not p.atoms(sympy.Function):
            return c, p
        return None

    @property
    def precedence(self) -> int:
        """A scaled power ``2*A`` prints as a product (parenthesised inside another)."""
        power = self._power()
        if power is not None and power[0] != 1:
            return PRECEDENCE["Mul"]
        return PRECEDENCE["Atom"] if power is None or power[1] == 1 else PRECEDENCE["Pow"]

    def _powers(self, printer, hadamard) -> str:
        c, p = self._power()
        text = printer.parenthesize(self.expr, PRECEDENCE["Pow"], strict=False)
        if p != 1:
            text = hadamard(text, p)
        if c == 1:
            return text
        sign, c = ("-", -c) if c < 0 else ("", c)
        return sign + (text if c == 1 else f"{printer._print(c)}{printer._mul}{text}")

    def _sympystr(self, printer):
        if self._power() is not None:  # A.^2, as matrixcalculus.org writes it (the parser too)
            printer._mul = "*"
            return self._powers(printer, lambda base, p: f"{base}.^{_exponent(printer, p)}")
        arg = printer._print(self.expr)
        named = self._named()
        if named is None:
            (v,) = self.function.variables
            return f"({v} -> {printer._print(self.function.expr)}).({arg})"
        f, prime = named
        return f"{f.__name__}{prime}({arg})"

    def _latex(self, printer):
        if self._power() is not None:  # the Hadamard power A^{∘2}
            printer._mul = " "
            return self._powers(printer, lambda b, p: rf"{b}^{{\circ {printer._print(p)}}}")
        named, arg = self._named(), printer._print(self.expr)
        if named is not None:
            f, prime = named
            text = printer._print(f(sympy.Symbol("PLACEHOLDER")))
            if not prime:
                return text.replace("PLACEHOLDER", arg)
            head, paren, _ = text.partition(r"\left(")
            if paren:  # SymPy's \tanh{\left(z \right)}: the prime goes after the name
                return rf"{head.removesuffix('{').rstrip()}{prime}\left({arg}\right)"
        (v,) = self.function.variables
        body = printer._print(self.function.expr)
        return rf"\left({printer._print(v)} \mapsto {body}\right)_{{\circ}}\left({arg}\right)"


def _exponent(printer, p) -> str:
    return printer._print(p) if p.is_Integer else f"({printer._print(p)})"
