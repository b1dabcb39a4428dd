"""The benchmark families, each written once per tool (see README.md for the definitions).

Every builder takes the size and returns the function in the tool's own terms:

* ``source(n)``  — what ``symgraph.graph`` takes: a SymPy expression or a ``Program``;
* ``nested(n, m)`` — one expression in module ``m`` (SymPy or SymEngine) for their ``diff``;
* ``casadi(n)``  — ``(x, f)``: a CasADi SX input vector and the scalar output;
* ``jax(n)``     — ``f(p)`` of one JAX vector, in the order of ``symgraph``'s inputs.

The inputs of every tool come in the same order (symgraph sorts names naturally), so the
gradients can be compared entry by entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sympy
from sympy import Symbol

from symgraph.parse import Program


def _real(name: str) -> Symbol:
    return Symbol(name, real=True)


# ---------------------------------------------------------------- unrolled MLP


def mlp_symbols(n: int, m: Any = sympy):
    """``W`` (n × n, row-major), ``b``, ``v``, ``x``: n² + 3n inputs."""
    sym = _real if m is sympy else m.Symbol
    W = [[sym(f"W{j}_{i}") for i in range(1, n + 1)] for j in range(1, n + 1)]
    b = [sym(f"b{j}") for j in range(1, n + 1)]
    v = [sym(f"v{j}") for j in range(1, n + 1)]
    x = [sym(f"x{i}") for i in range(1, n + 1)]
    return W, b, v, x


def mlp_nested(n: int, m: Any = sympy):
    """f = Σ_j v_j tanh(Σ_i W_ji x_i + b_j), one expression, and its inputs in order."""
    W, b, v, x = mlp_symbols(n, m)
    hidden = [m.Add(*[W[j][i] * x[i] for i in range(n)], b[j]) for j in range(n)]
    f = m.Add(*[v[j] * m.tanh(hidden[j]) for j in range(n)])
    return f, [w for row in W for w in row] + b + v + x


def mlp_source(n: int):
    return mlp_nested(n)[0]


def mlp_casadi(n: int):
    import casadi as ca

    W, b, v, x = ca.SX.sym("W", n, n), ca.SX.sym("b", n), ca.SX.sym("v", n), ca.SX.sym("x", n)
    f = 0
    for j in range(n):
        s = b[j]
        for i in range(n):
            s = s + W[j, i] * x[i]
        f = f + v[j] * ca.tanh(s)
    return ca.vertcat(ca.vec(W.T), b, v, x), f  # vec(Wᵀ) is W row-major


def mlp_jax(n: int):
    import jax.numpy as jnp

    def f(p):
        W = p[: n * n].reshape(n, n)
        b, v, x = p[n * n : n * n + n], p[n * n + n : n * n + 2 * n], p[n * n + 2 * n :]
        return v @ jnp.tanh(W @ x + b)

    return f


# ---------------------------------------------------------------- nested chain


def _chain_step(a, b, sin, cos):
    """a_k = sin(a_{k-1}) b_{k-1},  b_k = cos(a_{k-1} b_{k-1}): both stay in [-1, 1]."""
    return sin(a) * b, cos(a * b)


def chain_source(d: int) -> Program:
    """The chain as a symgraph program: two lines a level, names a_k and b_k."""
    a, b = _real("a0"), _real("b0")
    lines = []
    for k in range(1, d + 1):
        ak, bk = _real(f"a{k}"), _real(f"b{k}")
        rhs_a, rhs_b = _chain_step(a, b, sympy.sin, sympy.cos)
        lines += [(ak, rhs_a), (bk, rhs_b)]
        a, b = ak, bk
    f = _real("f")
    return Program((*lines, (f, a * b)), f)


def chain_nested(d: int, m: Any = sympy):
    """The same chain as one nested expression (SymPy fails on it beyond depth ~200)."""
    sym = _real if m is sympy else m.Symbol
    a0, b0 = sym("a0"), sym("b0")
    a, b = a0, b0
    for _ in range(d):
        a, b = _chain_step(a, b, m.sin, m.cos)
    return a * b, [a0, b0]


def chain_casadi(d: int):
    import casadi as ca

    a0, b0 = ca.SX.sym("a0"), ca.SX.sym("b0")
    a, b = a0, b0
    for _ in range(d):
        a, b = _chain_step(a, b, ca.sin, ca.cos)
    return ca.vertcat(a0, b0), a * b


def chain_jax(d: int):
    import jax
    import jax.numpy as jnp

    def f(p):  # a loop, as one writes it in JAX: compiled once, not unrolled
        def body(_, ab):
            return _chain_step(ab[0], ab[1], jnp.sin, jnp.cos)

        a, b = jax.lax.fori_loop(0, d, body, (p[0], p[1]))
        return a * b

    return f


# ---------------------------------------------------------------- Rosenbrock


def rosenbrock_nested(n: int, m: Any = sympy):
    """f = Σ_{i<n} 100 (x_{i+1} − x_i²)² + (1 − x_i)²."""
    sym = _real if m is sympy else m.Symbol
    x = [sym(f"x{i}") for i in range(1, n + 1)]
    terms = [100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(n - 1)]
    return m.Add(*terms), x


def rosenbrock_source(n: int):
    return rosenbrock_nested(n)[0]


def rosenbrock_casadi(n: int):
    import casadi as ca

    x = ca.SX.sym("x", n)
    f = 0
    for i in range(n - 1):
        f = f + 100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2
    return x, f


def rosenbrock_jax(n: int):
    import jax.numpy as jnp

    def f(x):
        return jnp.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)

    return f


# ---------------------------------------------------------------- the lecture's example

LECTURE = "exp(exp(u1) + exp(2*u2)) + sigmoid(exp(u1) + exp(2*u2))"


def lecture_source(_: int):
    return LECTURE


def lecture_nested(_: int, m: Any = sympy):
    sym = _real if m is sympy else m.Symbol
    u1, u2 = sym("u1"), sym("u2")
    t3 = m.exp(u1) + m.exp(2 * u2)
    return m.exp(t3) + 1 / (1 + m.exp(-t3)), [u1, u2]


def lecture_casadi(_: int):
    import casadi as ca

    u = ca.SX.sym("u", 2)
    t3 = ca.exp(u[0]) + ca.exp(2 * u[1])
    return u, ca.exp(t3) + 1 / (1 + ca.exp(-t3))


def lecture_jax(_: int):
    import jax
    import jax.numpy as jnp

    def f(u):
        t3 = jnp.exp(u[0]) + jnp.exp(2 * u[1])
        return jnp.exp(t3) + jax.nn.sigmoid(t3)

    return f


# ---------------------------------------------------------------- the table of families


@dataclass(frozen=True)
class Family:
    """A family of functions and the sizes it is run at."""

    name: str
    size_name: str
    sizes: tuple[int, ...]
    quick: tuple[int, ...]
    source: Callable
    nested: Callable
    casadi: Callable
    jax: Callable
    closed_forms: int  # largest size whose closed-form gradient is worth asking for


FAMILIES = (
    Family("lecture", "-", (1,), (1,), lecture_source, lecture_nested, lecture_casadi,
           lecture_jax, 1),
    Family("MLP", "n", (4, 8, 16, 32), (4,), mlp_source, mlp_nested, mlp_casadi, mlp_jax, 16),
    Family("chain", "depth", (10, 14, 20, 100, 1000), (6,), chain_source, chain_nested,
           chain_casadi, chain_jax, 0),
    Family("Rosenbrock", "n", (10, 100, 1000, 10_000), (10,), rosenbrock_source,
           rosenbrock_nested, rosenbrock_casadi, rosenbrock_jax, 1000),
)  # fmt: skip

#: Sizes of the linear-time check: about 10³, 10⁴ and 10⁵ nodes.
SCALING = {"chain": (200, 2000, 20_000), "Rosenbrock": (200, 2000, 20_000)}
SCALING_QUICK = {"chain": (10, 50)}
