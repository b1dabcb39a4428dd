"""Names of steps, tangents and adjoints.

Steps are ``t1, t2, ...``; a node's tangent is ``tdot_k`` and its adjoint ``tbar_k``,
names that SymPy's own ``latex()`` prints as ``\\dot{t}_{k}`` and ``\\bar{t}_{k}``.
Generated names never collide with the user's symbols.

>>> from sympy import Symbol, latex
>>> bar(Symbol("t3")), dot(Symbol("u_2")), latex(bar(Symbol("t3")))
(tbar_3, udot_2, '\\\\bar{t}_{3}')
>>> sorted(["x10", "x2", "a"], key=natural_key)
['a', 'x2', 'x10']
"""

from __future__ import annotations

import copy
import re
from collections.abc import ItemsView, Iterable, Iterator, Mapping, ValuesView
from functools import lru_cache

from sympy import MatrixSymbol, Symbol
from sympy.printing.conventions import split_super_sub

_DIGITS = re.compile(r"(\d+)")


def natural_key(name: object) -> tuple:
    """Sort key that orders ``x2`` before ``x10``."""
    parts = _DIGITS.split(str(name))
    return tuple(int(p) if p.isdigit() else p for p in parts)


@lru_cache(maxsize=1 << 17)  # a sweep asks for each node's t̄ several times; regex + Symbol()
def _decorated(sym: Symbol, accent: str) -> Symbol:
    name, supers, subs = split_super_sub(sym.name)
    tail = "".join("_" + s for s in subs) + "".join("__" + s for s in supers)
    shape = getattr(sym, "shape", None)
    # a matrix's tangent is a matrix; so is its adjoint, but for a 1×1 one (a scalar)
    if shape is not None and (accent == "dot" or shape != (1, 1)):
        return MatrixSymbol(f"{name}{accent}{tail}", *shape)
    return Symbol(f"{name}{accent}{tail}", real=True)


def bar(sym: Symbol) -> Symbol:
    """The adjoint symbol of ``sym``: ``t3 -> tbar_3`` (printed ``\\bar{t}_{3}``)."""
    return _decorated(sym, "bar")


def dot(sym: Symbol) -> Symbol:
    """The tangent symbol of ``sym``: ``t3 -> tdot_3`` (printed ``\\dot{t}_{3}``)."""
    return _decorated(sym, "dot")


def fresh(prefix: str, taken: Iterable[str], start: int = 1) -> Iterator[Symbol]:
    """Yield ``prefix{k}`` symbols for k = start, start+1, ... skipping taken names.

    A set is used as it is, not copied: the builder asks for one name per step, and a
    copy of all the names taken so far made building a graph quadratic in its size.
    """
    taken = taken if isinstance(taken, set | frozenset) else set(taken)
    k = start
    while True:
        name = f"{prefix}{k}"
        if name not in taken:
            yield Symbol(name, real=True)
        k += 1


def step_prefix(taken: Iterable[str]) -> str:
    """``t`` unless the user's own names look like generated ones (``t1``), then ``v``, ..."""
    taken = set(taken)
    for prefix in ("t", "v", "w", "s", "q"):
        pattern = re.compile(rf"{prefix}(bar|dot)?_?\d+")
        if not any(pattern.fullmatch(n) for n in taken):
            return prefix
    return "tmp"


def entry_name(name: str, i: int, j: int) -> str:
    """The scalar standing for entry (i, j) of a matrix: ``W, 2, 1 -> W_21``
    (``W_12_3`` once an index has two digits)."""
    return f"{name}_{i}{j}" if max(i, j) < 10 else f"{name}_{i}_{j}"


def output_names(m: int, taken: Iterable[str]) -> tuple[Symbol, ...]:
    """``(f,)`` for one output, ``(f1, ..., fm)`` for several; ``y`` if ``f`` is taken."""
    taken = set(taken)
    for base in ("f", "y", "out"):
        names = [base] if m == 1 else [f"{base}{i}" for i in range(1, m + 1)]
        if not taken.intersection(names):
            return tuple(Symbol(n, real=True) for n in names)
    raise ValueError("cannot name the outputs: f, y and out are all taken")


class NameDict(Mapping):
    """A read-only mapping keyed by SymPy symbols that also answers to their names.

    A result of symgraph (``ev.values``, ``ev.gradient``, ``rv.adjoints``, ...): looking a
    node up by its name (``"u1"``) finds the symbol called so; iterating, ``len``,
    ``keys()`` and ``items()`` are over the symbols; it equals any mapping with the same
    contents (a plain dict among them). It cannot be changed: ``dict(d)`` is a copy that
    can (keyed by the symbols only).

    >>> u1 = Symbol("u1")
    >>> d = NameDict({u1: 2.0})
    >>> d["u1"], "u1" in d, d.get("u1"), d == {u1: 2.0}
    (2.0, True, 2.0, True)
    >>> d
    {u1: 2.0}
    >>> d["u1"] = 3.0
    Traceback (most recent call last):
    ...
    TypeError: 'NameDict' object does not support item assignment
    """

    __slots__ = ("_data", "_names")

    def __init__(self, data: Mapping | Iterable = (), /) -> None:
        self._data = dict(data)
        self._names: dict[str, object] | None = None  # built at the first lookup by name

    def _key(self, key):
        """The key ``key`` stands for: itself, or the first key called ``key``."""
        if isinstance(key, str) and key not in self._data:
            if self._names is None:
                names = ((getattr(k, "name", None), k) for k in self._data)
                self._names = dict(reversed([(n, k) for n, k in names if isinstance(n, str)]))
            return self._names.get(key, key)
        return key

    def __getitem__(self, key):
        try:
            return self._data[self._key(key)]
        except KeyError:
            return self._missing(key)

    def _missing(self, key):
        """What looking up an absent ``key`` does: a KeyError (a subclass may say why)."""
        raise KeyError(key)

    def __contains__(self, key) -> bool:
        return self._key(key) in self._data

    def __iter__(self) -> Iterator:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __reversed__(self) -> Iterator:
        return reversed(self._data)

    def values(self) -> ValuesView:
        return self._data.values()  # a read-only view of the same values, at dict speed

    def items(self) -> ItemsView:
        return _Items(self)

    def __eq__(self, other) -> bool:
        if isinstance(other, NameDict):
            return self._data == other._data
        return self._data == dict(other.items()) if isinstance(other, Mapping) else NotImplemented

    __hash__ = None  # equal to a dict, so unhashable like one

    def __repr__(self) -> str:
        return repr(self._data)

    def copy(self) -> NameDict:
        """A copy that resolves names too (it is read-only as well: ``dict(d)`` is not)."""
        return copy.copy(self)


class _Items(ItemsView):
    """``d.items()``: pairs by name as well (``("u1", 2.0) in d.items()``), iterated fast."""

    def __iter__(self) -> Iterator:
        return iter(self._mapping._data.items())
