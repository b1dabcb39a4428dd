"""Bounded simplification: the cheap path and the thorough one on a budget."""

from __future__ import annotations

import time

import sympy

from symgraph.simplify import TIDY_MAX_OPS, thorough, tidy

x, y = sympy.symbols("x y", real=True)


def test_tidy_pulls_out_common_factors_and_leaves_large_expressions_alone():
    assert tidy(2 * x * sympy.exp(x) + 4 * x**2 * sympy.exp(x)) == 2 * x * (2 * x + 1) * sympy.exp(
        x
    )
    big = sum(sympy.sin(k * x) * k for k in range(1, TIDY_MAX_OPS))
    assert tidy(big) is big


def test_thorough_simplifies_within_its_budget():
    assert thorough(sympy.sin(x) ** 2 + sympy.cos(x) ** 2, seconds=20) == 1


def test_thorough_never_hangs():
    hard = sympy.expand((sum(sympy.sin(k * x + y) for k in range(1, 9))) ** 4)
    start = time.perf_counter()
    result = thorough(hard, seconds=0.5)
    assert time.perf_counter() - start < 5
    assert sympy.simplify(result - hard) == 0 or result == tidy(hard)
