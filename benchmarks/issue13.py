"""Issue 13's measurements: symgraph as a user meets it, next to SymPy, SymEngine, CasADi, JAX.

    python benchmarks/run.py --targets [--quick] [--out benchmarks/RESULTS.md]

Every input is a SymPy object with plain ``Symbol``s (no ``real=True``), as a user writes
it, and SymPy's cache is cleared (``clear_cache()``) before every repetition of every
tool. The MLP is the issue's, verbatim: ``f = Σ_i v_i / (1 + exp(-(Σ_j w_ij x_j + b_i)))``.
Every tool runs in this one process, one after the other on the same expression. Tools
that are not installed are reported as missing. ``issue13_report.py`` turns the numbers
into the table of targets and ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import cProfile
import gc
import io
import pstats
import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import sympy
from families import chain_casadi, rosenbrock_jax
from run import best_of, casadi_ops, installed
from sympy import Add, Symbol, exp
from sympy.core.cache import clear_cache

import symgraph as sg
from symgraph.parse import Program

# ---------------------------------------------------------------- the families, plain symbols


def mlp(n: int):
    """The issue's network: f and its n² + 3n plain symbols (w row-major, b, v, x)."""
    w = [[Symbol(f"w{i}_{j}") for j in range(1, n + 1)] for i in range(1, n + 1)]
    b = [Symbol(f"b{i}") for i in range(1, n + 1)]
    v = [Symbol(f"v{i}") for i in range(1, n + 1)]
    x = [Symbol(f"x{j}") for j in range(1, n + 1)]
    hidden = [Add(*[w[i][j] * x[j] for j in range(n)]) + b[i] for i in range(n)]
    f = Add(*[v[i] / (1 + exp(-hidden[i])) for i in range(n)])
    return f, [s for row in w for s in row] + b + v + x


def mlp_jax(n: int):
    import jax.numpy as jnp

    def f(p):  # p in mlp()'s order: w row-major, b, v, x
        w = p[: n * n].reshape(n, n)
        b, v, x = p[n * n : n * n + n], p[n * n + n : n * n + 2 * n], p[n * n + 2 * n :]
        return jnp.sum(v / (1 + jnp.exp(-(w @ x + b))))

    return f


def rosenbrock(n: int):
    x = [Symbol(f"x{i}") for i in range(1, n + 1)]
    terms = [100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(n - 1)]
    return Add(*terms), x


def chain(d: int) -> Program:
    """a_k = sin(a_{k-1}) b_{k-1}, b_k = cos(a_{k-1} b_{k-1}); f = a_d b_d (plain symbols)."""
    a, b = Symbol("a0"), Symbol("b0")
    lines = []
    for k in range(1, d + 1):
        ak, bk = Symbol(f"a{k}"), Symbol(f"b{k}")
        lines += [(ak, sympy.sin(a) * b), (bk, sympy.cos(a * b))]
        a, b = ak, bk
    f = Symbol("f")
    return Program((*lines, (f, a * b)), f)


def to_casadi(f: sympy.Expr, symbols: list[Symbol]):
    """The same expression on CasADi SX: ``(x, f)`` with x in ``symbols``' order."""
    import casadi as ca

    x = ca.SX.sym("x", len(symbols))
    memo: dict = {s: x[k] for k, s in enumerate(symbols)}
    ops = {sympy.exp: ca.exp, sympy.sin: ca.sin, sympy.cos: ca.cos, sympy.tanh: ca.tanh}

    def walk(e):
        if e in memo:
            return memo[e]
        args = [walk(a) for a in e.args]
        if e.is_Number:
            out = float(e)
        elif e.is_Add:
            out = sum(args[1:], args[0])
        elif e.is_Mul:
            out = args[0]
            for a in args[1:]:
                out = out * a
        elif e.is_Pow:
            out = args[0] ** args[1]
        else:
            out = ops[e.func](*args)
        memo[e] = out
        return out

    return x, walk(f)


# ---------------------------------------------------------------- timing, always cold


def cold(fn: Callable[[], object], reps: int) -> list[float]:
    """Seconds of each of ``reps`` calls, SymPy's cache cleared (and garbage collected)
    before each one."""
    times = []
    for _ in range(reps):
        clear_cache()
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


@dataclass
class Timing:
    """The repetitions of one measurement: best and median are reported."""

    times: list[float]

    @property
    def best(self) -> float:
        return min(self.times)

    @property
    def median(self) -> float:
        return statistics.median(self.times)


def ours(source) -> list:
    return sg.graph(source).reverse().as_program()


@dataclass
class Derivation:
    """One family at one size, derived by every tool that is installed."""

    name: str
    nodes: int = 0
    times: dict[str, Timing] = field(default_factory=dict)
    ops: dict[str, float] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)


def derivation(name: str, source, f, symbols, reps: int, tools: tuple[str, ...]) -> Derivation:
    """Time symgraph (SymPy input, and text when ``f`` prints short) and each tool."""
    d = Derivation(name)
    g = sg.graph(source)
    d.nodes = len(g.inputs) + len(g.steps)
    d.times["symgraph"] = Timing(cold(lambda: ours(source), reps))
    if f is not None and "text" in tools:
        text = str(f)
        d.times["symgraph (text)"] = Timing(cold(lambda: ours(text), reps))
    if f is not None and "sympy" in tools:
        d.times["sympy"] = Timing(cold(lambda: [f.diff(s) for s in symbols], reps))
    if f is not None and "symengine" in tools:
        if installed("symengine"):
            import symengine

            fe, se = symengine.sympify(f), [symengine.Symbol(s.name) for s in symbols]
            d.times["symengine"] = Timing(cold(lambda: [fe.diff(s) for s in se], reps))
        else:
            d.missing.append("symengine")
    program = ours(source)
    d.ops["f"] = (
        sympy.count_ops(f) if f is not None else sum(sympy.count_ops(e) for _, e in source.lines)
    )
    d.ops["program"] = sum(sympy.count_ops(e) for _, e in program)
    # CasADi's currency: one instruction per operation, input, output and distinct constant
    given = [f] if f is not None else [e for _, e in source.lines]
    n_inputs = len(g.inputs)
    d.ops["f instructions"] = d.ops["f"] + n_inputs + len(g.outputs) + _constants(given)
    results = len(g.outputs) + n_inputs  # the value and the gradient
    d.ops["program instructions"] = (
        d.ops["program"] + n_inputs + results + _constants(e for _, e in program)
    )
    _casadi(d, source if f is None else None, f, symbols, reps)
    return d


def _constants(exprs) -> int:
    """Distinct numbers the expressions hold as constants: a sign is a negation (``-2*x``
    is 2, negated, as ``count_ops`` counts it), an integer power (``u**2``) an operation
    of its own, as CasADi's ``sq`` is, and so is doubling (``2*u``, CasADi's ``twice``)."""

    def numbers(e):
        if e.is_Number:
            yield e
        if e.is_Pow and e.exp.is_Integer:
            args = e.args[:1]
        elif e.is_Mul and abs(e.args[0]) == 2:
            args = e.args[1:]
        else:
            args = e.args
        for a in args:
            yield from numbers(a)

    return len({abs(a) for e in exprs for a in numbers(e) if a != -1})


def _casadi(d: Derivation, program, f, symbols, reps: int) -> None:
    if not installed("casadi"):
        d.missing.append("casadi")
        return
    import casadi as ca

    if program is not None:  # the chain: CasADi builds it level by level, shared
        x, fx = chain_casadi(len(program.lines) // 2)
    else:
        x, fx = to_casadi(f, symbols)
    d.times["casadi"] = Timing(cold(lambda: ca.gradient(fx, x), reps))
    F, FG = ca.Function("f", [x], [fx]), ca.Function("fg", [x], [fx, ca.gradient(fx, x)])
    d.ops["casadi instructions f"] = F.n_instructions()
    d.ops["casadi instructions fg"] = FG.n_instructions()
    d.ops["casadi ops f"] = casadi_ops(F)
    d.ops["casadi ops fg"] = casadi_ops(FG)


# ---------------------------------------------------------------- compiled against JAX


def compiled(name: str, f, symbols, jax_f, batch: int, rng) -> dict:
    """Value-and-gradient code at one point and on a batch, next to JAX's jit(grad)."""
    g = sg.graph(f)
    fn = sg.compile(g.reverse())
    where = {s.name: k for k, s in enumerate(symbols)}
    order = [where[s.name] for s in g.inputs]  # our argument order in the tool's order
    p = rng.uniform(-1, 1, size=len(symbols))
    point = tuple(p[order].tolist())
    X = rng.uniform(-1, 1, size=(len(symbols), batch))
    columns = tuple(X[order])
    row = {"point": best_of(lambda: fn(*point)), "scalar": best_of(lambda: fn.scalar(*point))}
    row["batch"] = best_of(lambda: fn(*columns), repeat=3) / batch
    row["batch size"] = batch
    try:  # the fused C backend, where a C compiler is on PATH
        fc = sg.compile(g.reverse(), backend="c")
        row["c point"] = best_of(lambda: fc(*point))
        row["c batch"] = best_of(lambda: fc(*columns), repeat=3) / batch
        ref = np.array(fn(*point)[1], dtype=float)
        row["c agree"] = float(
            np.max(np.abs(np.array(fc(*point)[1]) - ref)) / max(1.0, np.max(np.abs(ref)))
        )
    except sg.SymgraphError as err:
        row["c missing"] = str(err)
    if not installed("jax"):
        row["missing"] = "jax"
        return row
    import jax

    jax.config.update("jax_enable_x64", True)  # float64, as symgraph computes
    grad, vgrad = jax.jit(jax.grad(jax_f)), jax.jit(jax.vmap(jax.grad(jax_f)))
    P = np.ascontiguousarray(X.T)
    jax.block_until_ready(grad(p))
    jax.block_until_ready(vgrad(P))
    row["jax point"] = best_of(lambda: jax.block_until_ready(grad(p)))
    row["jax batch"] = best_of(lambda: jax.block_until_ready(vgrad(P)), repeat=3) / batch
    theirs = np.asarray(grad(p))[order]
    mine = np.array(fn(*point)[1], dtype=float)
    row["agree"] = float(np.max(np.abs(theirs - mine)) / max(1.0, np.max(np.abs(theirs))))
    return row


# ---------------------------------------------------------------- size and memory


def per_node(source) -> tuple[int, float]:
    """Nodes, and build + reverse + as_program seconds per node (one cold run)."""
    clear_cache()
    gc.collect()
    start = time.perf_counter()
    g = sg.graph(source)
    g.reverse().as_program()
    t = time.perf_counter() - start
    nodes = len(g.inputs) + len(g.steps)
    return nodes, t / nodes


def memory(source) -> dict:
    """Bytes per node (tracemalloc): what a graph keeps, and what its reverse sweep and
    program add, once SymPy's cache is cleared (so only what they reference counts)."""
    clear_cache()
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    g = sg.graph(source)
    clear_cache()
    gc.collect()
    graph = tracemalloc.get_traced_memory()[0] - base
    rv = g.reverse()
    program = rv.as_program()
    clear_cache()
    gc.collect()
    sweep = tracemalloc.get_traced_memory()[0] - base - graph
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    nodes = len(g.inputs) + len(g.steps)
    del rv, program
    return {"nodes": nodes, "graph": graph / nodes, "sweep": sweep / nodes, "peak": peak / nodes}


def stages(source, reps: int) -> dict[str, Timing]:
    """Cold times of each stage alone (no profiler): build, reverse sweep, as_program."""
    times: dict[str, list[float]] = {"build": [], "reverse sweep": [], "as_program": []}
    for _ in range(reps):
        clear_cache()
        gc.collect()
        t0 = time.perf_counter()
        rv = sg.graph(source).reverse()  # reverse() computes the graph's partials too
        t1 = time.perf_counter()
        rv.as_program()
        t2 = time.perf_counter()
        clear_cache()
        gc.collect()
        t3 = time.perf_counter()
        sg.graph(source)
        times["build"].append(time.perf_counter() - t3)
        times["reverse sweep"].append(t1 - t0 - times["build"][-1])
        times["as_program"].append(t2 - t1)
    return {k: Timing(v) for k, v in times.items()}


def profile(source, top: int = 15) -> str:
    """cProfile of one cold build + reverse + as_program, the top by cumulative time."""
    clear_cache()
    gc.collect()
    prof = cProfile.Profile()
    prof.enable()
    ours(source)
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.strip_dirs().sort_stats("cumulative").print_stats(top)
    out.write("\n  by own time (tottime), top 10:\n")
    stats.sort_stats("tottime").print_stats(10)
    text = out.getvalue()
    return text[text.index("ncalls") - 3 :] if "ncalls" in text else text


# ---------------------------------------------------------------- everything


@dataclass
class Sizes:
    mlp: int = 16
    rosenbrock: int = 1000
    depth: int = 1000
    batch: int = 10_000
    chain_scaling: tuple[int, ...] = (200, 2000, 20_000)
    rosenbrock_scaling: tuple[int, ...] = (200, 2000, 5000, 20_000)
    reps: int = 5


QUICK = Sizes(4, 10, 10, 100, (10, 20), (10, 20, 6000), 1)


def measure(sizes: Sizes, log: Callable[[str], None] = print) -> dict:
    """Every measurement of the report, in one process."""
    rng = np.random.default_rng(0)
    tools = ("text", "sympy", "symengine")
    f, xs = mlp(sizes.mlp)
    r, rs = rosenbrock(sizes.rosenbrock)
    out: dict = {"sizes": sizes, "mlp symbols": len(f.free_symbols)}
    assert len(f.free_symbols) == len(set(xs)) == sizes.mlp**2 + 3 * sizes.mlp
    out["mlp"] = derivation(f"MLP {sizes.mlp}", f, f, xs, sizes.reps, tools)
    log(f"  derived MLP {sizes.mlp}")
    out["rosenbrock"] = derivation(f"Rosenbrock {sizes.rosenbrock}", r, r, rs, sizes.reps, ())
    log(f"  derived Rosenbrock {sizes.rosenbrock}")
    out["chain"] = derivation(f"chain {sizes.depth}", chain(sizes.depth), None, [], sizes.reps, ())
    log(f"  derived chain {sizes.depth}")
    jf = mlp_jax(sizes.mlp) if installed("jax") else None
    jr = rosenbrock_jax(sizes.rosenbrock) if installed("jax") else None
    out["compiled"] = {
        f"MLP {sizes.mlp}": compiled("MLP", f, xs, jf, sizes.batch, rng),
        f"Rosenbrock {sizes.rosenbrock}": compiled("Rosenbrock", r, rs, jr, sizes.batch, rng),
    }
    log("  compiled")
    out["scaling"] = {"chain": [], "Rosenbrock": []}
    out["memory"] = {"chain": [], "Rosenbrock": []}
    out["refused"] = []
    for family, make, ns in (
        ("chain", chain, sizes.chain_scaling),
        ("Rosenbrock", lambda n: rosenbrock(n)[0], sizes.rosenbrock_scaling),
    ):
        for n in ns:
            try:
                out["scaling"][family].append(per_node(make(n)))
            except ValueError as exc:  # symgraph refuses it (a SymgraphError): say so
                out["refused"].append(f"{family} {n:,}: {exc}")
                log(f"  {family} {n}: refused: {exc}")
                continue
            out["memory"][family].append(memory(make(n)))
            log(f"  {family} {n}: {out['scaling'][family][-1][1] * 1e6:.0f} µs a node")
    out["stages"] = stages(f, sizes.reps)
    out["profile"] = profile(f)
    out["jax version"] = _version("jax")
    return out


def _version(name: str) -> str:
    if not installed(name):
        return "not installed"
    return getattr(__import__(name), "__version__", "?")
