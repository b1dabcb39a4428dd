"""Matrix expressions for the parser: shape-checked builders that keep the graph's sharing.

Names given a shape (``shapes={"W": (3, 2)}``) are ``MatrixSymbol``\\ s. The builders here
make SymPy's matrix classes *unevaluated*: SymPy's own operators call ``doit()``, which
distributes a transpose (``(W x - y)ᵀ`` becomes ``xᵀ Wᵀ - yᵀ``) and turns ``A A`` into
``A**2``, destroying the subexpressions the graph shares. Each builder checks the shapes
first, so a mismatch is a :class:`ParseError` naming the operation and both shapes; the
grammar adds the position.

Division by a matrix is entry by entry (``A/B`` for equal shapes, ``c/A``; ``A./B`` says
so explicitly), and so is ``A.^p`` (``exp(p log A)`` for a symbol or a matrix ``p``);
``A**2`` is refused (entrywise or a matrix product? the hint names both). A 1×1 matrix
used as a scalar (added to one, compared, divided by, raised to a power, an argument of
``max``) is its trace, the scalar it holds: ``w.T*x + b`` with a scalar ``b`` is
``tr(wᵀx) + b``. ``norm(X)**2`` is the squared norm, one smooth operation (its gradient
2X, also at 0).

>>> W, x = sympy.MatrixSymbol("W", 3, 2), sympy.MatrixSymbol("x", 2, 1)
>>> product(-2, [W, x])
-2*W*x
>>> check_product(W.shape, W.shape, ("W", "W"))  # doctest: +ELLIPSIS
Traceback (most recent call last):
symgraph.parse.ParseError: cannot multiply W (3×2) by W (3×2): the inner dimensions 2 and 3 ...
"""

from __future__ import annotations

import keyword
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import sympy
from sympy import Determinant, HadamardProduct, Inverse, Lambda, MatAdd, MatMul, Trace, Transpose
from sympy.matrices.expressions import MatrixExpr, ZeroMatrix

from .. import functions
from ..functions import msum
from ..matrix_functions import diag, diagonal, logsumexp, norm, softmax, sqnorm
from .guards import MAX_NAME_CHARS, check_shape, power
from .source import ParseError

Shape = tuple[int, int]

#: The one variable of every elementwise function, so equal applications are equal.
ENTRY = sympy.Dummy("d", real=True)


def is_matrix(value: Any) -> bool:
    return isinstance(value, MatrixExpr)


def shape_of(value: Any) -> Shape | None:
    """``(rows, columns)`` of a matrix, None for a scalar."""
    return value.shape if is_matrix(value) else None


def described(label: object, shape: Shape | None) -> str:
    """``W (3×2)`` or ``c (a scalar)``; a label is code, or a lazy :class:`Label` of code."""
    return f"{label} ({f'{shape[0]}×{shape[1]}' if shape else 'a scalar'})"


def scalar_hint(label: object) -> str:
    name = str(label)
    if not name.isidentifier():
        return "names become matrices with shapes={'W': (rows, columns)}"
    return f"to make {name} a matrix, pass shapes={{'{name}': (rows, columns)}}"


def _grouped(label: object) -> str:
    text = str(label)
    return text if text.replace(".T", "").isidentifier() else f"({text})"


# ---------------------------------------------------------------- shapes


def validate_shapes(shapes: Mapping[str, Any] | None, reserved: Collection[str]) -> dict:
    """``shapes`` checked: names that may be variables, each with two positive integers."""
    if shapes is None:
        return {}
    if not isinstance(shapes, Mapping):
        raise ParseError(f"shapes must be a dict name -> (rows, columns), not {shapes!r}")
    return {_shape_name(name, reserved): _shape(name, shape) for name, shape in shapes.items()}


def _shape_name(name: Any, reserved: Collection[str]) -> str:
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise ParseError(
            f"shapes has {name!r}, which is not a name", hint="e.g. shapes={'W': (3, 2)}"
        )
    if name in reserved:
        raise ParseError(f"shapes has '{name}', a function or constant, not a variable")
    if name.startswith("_") or len(name) > MAX_NAME_CHARS:
        raise ParseError(f"shapes has '{name[:MAX_NAME_CHARS]}', which is not a valid name")
    return name


def _shape(name: str, shape: Any) -> Shape:
    return check_shape(f"shapes['{name}']", shape)


# ---------------------------------------------------------------- products and sums


def check_product(left: Shape | None, right: Shape | None, labels: tuple) -> None:
    """Refuse ``left * right`` when the inner dimensions of two matrices differ."""
    if not (left and right) or left[1] == right[0]:
        return
    a, b = (described(label, shape) for label, shape in zip(labels, (left, right), strict=True))
    if left[0] == right[0]:
        hint = f"{_grouped(labels[0])}.T*{_grouped(labels[1])} would fit"
    elif left[1] == right[1]:
        hint = f"{_grouped(labels[0])}*{_grouped(labels[1])}.T would fit"
    else:
        hint = "sum(...) makes a 1×1 matrix a scalar" if (1, 1) in (left, right) else None
    message = f"cannot multiply {a} by {b}: the inner dimensions {left[1]} and {right[0]} differ"
    raise ParseError(message, hint=hint)


def check_matmul_operator(left: Shape | None, right: Shape | None, labels: tuple) -> None:
    """``@`` multiplies two matrices; a scalar side is an error."""
    for label, shape in zip(labels, (left, right), strict=True):
        if not shape:
            hint = "use * for a scalar multiple" if left or right else scalar_hint(label)
            raise ParseError(f"@ multiplies matrices, but {label} is a scalar", hint=hint)


def coefficient_and_rest(m: MatrixExpr) -> tuple[list[sympy.Expr], MatrixExpr]:
    """A scalar multiple ``c*A*B`` as ``([c], A*B)``: scalars float to the front of a product."""
    if not isinstance(m, MatMul):
        return [], m
    scalars = [a for a in m.args if not is_matrix(a)]
    matrices = [a for a in m.args if is_matrix(a)]
    return scalars, (matrices[0] if len(matrices) == 1 else MatMul(*matrices))


def product(coefficient: sympy.Expr, factors: Sequence[MatrixExpr]) -> MatrixExpr:
    """``coefficient * factors[0] * factors[1] ...``, factors checked and free of scalars."""
    rows, cols = factors[0].rows, factors[-1].cols
    if coefficient == 0:
        return ZeroMatrix(rows, cols)
    if len(factors) == 1 and isinstance(factors[0], MatMul):
        factors = factors[0].args  # -(W*x) is -W*x, as SymPy writes it
    if coefficient == 1:
        return factors[0] if len(factors) == 1 else MatMul(*factors)
    return MatMul(coefficient, *factors)


def scale(coefficient: sympy.Expr, m: MatrixExpr) -> MatrixExpr:
    """``coefficient * m``, merged into ``m``'s own coefficient."""
    scalars, rest = coefficient_and_rest(m)
    return product(sympy.Mul(coefficient, *scalars), [rest])


def check_sum(left: Shape | None, right: Shape | None, labels: tuple, subtract: bool) -> None:
    """Refuse a sum of a matrix and a scalar, or of matrices of different shapes."""
    if left == right:
        return
    a, b = (described(label, shape) for label, shape in zip(labels, (left, right), strict=True))
    message = f"cannot subtract {b} from {a}" if subtract else f"cannot add {a} and {b}"
    if left and right:
        raise ParseError(message + ": the shapes differ")
    if (left or right) == (1, 1):
        raise ParseError(message, hint="sum(M) or trace(M) makes a 1×1 matrix a scalar")
    hint = "a scalar has no shape; to add one to every entry, make it a matrix input"
    raise ParseError(message, hint=hint)


def matrix_sum(operands: Sequence[MatrixExpr]) -> MatrixExpr:
    """The sum of same-shape matrices, one flat ``MatAdd`` as SymPy writes ``a + (b + c)``."""
    flat = [t for m in operands for t in (m.args if isinstance(m, MatAdd) else (m,))]
    return MatAdd(*flat)


def as_scalar(value: Any) -> Any:
    """A 1×1 matrix used as a scalar (added to one, compared, divided by): ``tr(M)``, its
    one entry; anything else as it is."""
    return Trace(value) if is_matrix(value) and value.shape == (1, 1) else value


def one_by_one_or_scalars(values: Sequence[Any]) -> bool:
    """A mix of scalars and 1×1 matrices (and no other matrix): a scalar context."""
    shapes = {shape_of(v) for v in values}
    return None in shapes and shapes - {None} == {(1, 1)}


def entrywise_power(base: MatrixExpr, exponent: Any, labels: tuple) -> MatrixExpr:
    """``A.^p``: every entry to the power ``p``. A number ``p`` is one step (``A.^2``); a
    scalar expression ``p``, or a matrix ``P`` of A's shape, is ``exp(p log A)`` entry by
    entry (so ``p`` has an adjoint too), defined where A's entries are positive."""
    if is_matrix(exponent) and exponent.shape != base.shape:
        exponent = as_scalar(exponent)
    if is_matrix(exponent) and exponent.shape != base.shape:
        a, p = described(labels[0], base.shape), described(labels[1], exponent.shape)
        raise ParseError(f"cannot raise {a} to {p} entry by entry: the shapes differ")
    if not is_matrix(exponent) and exponent.is_number and not exponent.atoms(sympy.Function):
        return functions.elementwise(Lambda(ENTRY, ENTRY**exponent), base)
    logs = functions.elementwise(Lambda(ENTRY, sympy.log(ENTRY)), base)
    scaled = HadamardProduct(exponent, logs) if is_matrix(exponent) else scale(exponent, logs)
    return functions.elementwise(Lambda(ENTRY, sympy.exp(ENTRY)), scaled)


def reciprocal(m: MatrixExpr) -> MatrixExpr:
    """``1/M`` entry by entry (division by a matrix is otherwise undefined)."""
    return functions.elementwise(Lambda(ENTRY, 1 / ENTRY), m)


def divided(factors: list, right: MatrixExpr, labels: tuple) -> list:
    """The factors of a product after ``/ right``, entry by entry: ``c/B`` (no factors
    yet: the scalars so far stay the coefficient of 1/B) and ``A/B`` of equal shapes."""
    if not factors:
        return [reciprocal(right)]
    left = product(sympy.S.One, factors)
    if left.shape != right.shape:
        a, b = described(labels[0], left.shape), described(labels[1], right.shape)
        square = right.rows == right.cols
        hint = f"inverse({labels[1]}) for a matrix inverse" if square else None
        raise ParseError(f"cannot divide {a} by {b} entry by entry: the shapes differ", hint=hint)
    return [HadamardProduct(left, reciprocal(right))]


def raised(base: Any, exponent: Any, entrywise: bool, labels: tuple) -> Any:
    """``base**exponent``; ``A.^p`` entry by entry; a 1×1 base is the scalar it holds;
    ``norm(X)**2`` the squared norm (smooth at 0). A matrix power is refused."""
    if entrywise and is_matrix(base):
        return entrywise_power(base, exponent, labels)
    if not is_matrix(exponent):
        base = as_scalar(base)
    if is_matrix(base) or is_matrix(exponent):
        refuse_power(shape_of(base), shape_of(exponent), labels)
    squared = norm_power(base, exponent)
    return squared if squared is not None else power(base, exponent)


def refuse_power(base: Shape | None, exponent: Shape | None, labels: tuple) -> None:
    if exponent:
        raise ParseError(f"a matrix cannot be an exponent: {described(labels[1], exponent)}")
    name = _grouped(labels[0])
    hint = f"{name}.^2 squares each entry; {name}*{name} is a matrix product"
    raise ParseError(f"cannot raise the matrix {described(labels[0], base)} to a power", hint=hint)


def norm_power(base: sympy.Expr, exponent: sympy.Expr) -> sympy.Expr | None:
    """``norm(X)**(2k)`` as ``sqnorm(X)**k`` (smooth at 0, its gradient 2X for k = 1),
    or None for any other power."""
    if type(base) is norm and exponent.is_Integer and exponent > 0 and exponent % 2 == 0:
        return sqnorm(base.args[0]) ** (exponent // 2)
    return None


# ---------------------------------------------------------------- transpose and functions


def transpose(m: Any, label: str) -> MatrixExpr:
    """``Mᵀ``, unevaluated (``M.T`` would distribute it over a sum or a product)."""
    if not is_matrix(m):
        raise ParseError(
            f"only a matrix has a transpose, but {label} is a scalar", hint=scalar_hint(label)
        )
    return m.arg if isinstance(m, Transpose) else Transpose(m)


def elementwise(
    func: Callable[..., sympy.Expr], args: Sequence[Any], name: str, labels: Sequence[str]
):
    """A scalar function applied to each entry: ``sigmoid(M)`` as ``Lambda(d, sigmoid(d)).(M)``."""
    matrix, *rest = args
    if not is_matrix(matrix) or any(is_matrix(a) or not a.is_number for a in rest):
        raise ParseError(
            f"{name}() applies to a matrix entry by entry; its other arguments must be numbers"
        )
    function = Lambda(ENTRY, func(ENTRY, *rest))
    return functions.elementwise(function, matrix)  # not SymPy's sqrt(1×1) -> M**(1/2)


def _one_matrix(name: str, values: Sequence[Any], labels: Sequence[str], square: bool = False):
    (m,), (label,) = values, labels
    if not is_matrix(m):
        raise ParseError(
            f"{name}() takes a matrix, but {label} is a scalar", hint=scalar_hint(label)
        )
    if square and m.rows != m.cols:
        raise ParseError(f"{name}() takes a square matrix, but {described(label, m.shape)} is not")
    return m


def _hadamard(values: Sequence[Any], labels: Sequence[str]) -> MatrixExpr:
    for value, label in zip(values, labels, strict=True):
        _one_matrix("hadamard", [value], [label])
        if value.shape != values[0].shape:
            pair = f"{described(labels[0], values[0].shape)} and {described(label, value.shape)}"
            raise ParseError(f"cannot take hadamard of {pair}: the shapes differ")
    return HadamardProduct(*values)


def _vector(name: str, values: Sequence[Any], labels: Sequence[str]) -> MatrixExpr:
    m = _one_matrix(name, values, labels)
    if m.cols != 1:
        hint = f"{name}({_grouped(labels[0])}.T) for a row vector" if m.rows == 1 else None
        raise ParseError(
            f"{name}() takes a column vector, not {described(labels[0], m.shape)}", hint=hint
        )
    return m


def _diag(values: Sequence[Any], labels: Sequence[str]) -> MatrixExpr:
    """``diag(v)``: a vector's diagonal matrix; ``diag(M)``: a square matrix's diagonal."""
    m = _one_matrix("diag", values, labels)
    if 1 in m.shape:
        return diag(m)
    if m.rows == m.cols:
        return diagonal(m)
    shape = described(labels[0], m.shape)
    raise ParseError(f"diag() takes a vector or a square matrix, not {shape}")


#: The builders of the operations that take matrices, ``builder(values, labels)``, by
#: class (their spellings are in their records, :mod:`symgraph.rules_matrix`).
MATRIX_BUILDERS: dict[type, Callable[..., Any]] = {
    msum: lambda v, n: msum(_one_matrix("sum", v, n)),
    Trace: lambda v, n: Trace(_one_matrix("trace", v, n, square=True)),
    Inverse: lambda v, n: Inverse(_one_matrix("inverse", v, n, square=True)),
    Determinant: lambda v, n: Determinant(_one_matrix("det", v, n, square=True)),
    Transpose: lambda v, n: transpose(_one_matrix("transpose", v, n), n[0]),
    HadamardProduct: _hadamard,
    norm: lambda v, n: norm(_one_matrix("norm", v, n)),
    logsumexp: lambda v, n: logsumexp(_one_matrix("logsumexp", v, n)),
    softmax: lambda v, n: softmax(_vector("softmax", v, n)),
    diag: _diag,
}
