"""Benchmarks of symgraph against SymPy, SymEngine, CasADi and JAX, in one run.

    python benchmarks/run.py [--quick] [--out benchmarks/RESULTS_issue6.md] [--timeout 60]
    python benchmarks/run.py --targets [--quick]     # issue 13's targets -> RESULTS.md

Writes a Markdown report: the machine and versions, then for every family and size the
graph build, the reverse-mode gradient program, the closed forms, the program's size,
and compiled evaluation at one point and on a batch, next to the other tools. SymEngine,
CasADi and JAX are optional: a tool that is not installed is skipped with a note. SymPy's
``diff`` and anything else that can explode runs in a child process with a time limit.
``--quick`` (what CI runs) takes a few seconds: smallest sizes, short limits.
See README.md for the definitions of the families and of the operation count.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import importlib.util
import math
import multiprocessing
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import sympy
from sympy.core.cache import clear_cache

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

from families import FAMILIES, SCALING, SCALING_QUICK, Family

import symgraph as sg
from symgraph.codegen import lean_program
from symgraph.naming import bar

OPTIONAL = ("symengine", "casadi", "jax")
#: Points in a batch, fewer when the inputs are many (at most this many numbers a batch).
BATCH, BATCH_NUMBERS = 10_000, 20_000_000
#: Seconds spent timing one fast call (all rounds); --quick shrinks it.
BUDGET = [0.3]
HERE = Path(__file__).resolve().parent


def installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


# ---------------------------------------------------------------- timing


def best_of(fn: Callable[[], object], repeat: int = 5) -> float:
    """Seconds per call: the best of ``repeat`` rounds, each long enough to be timed."""
    budget, number, t = BUDGET[0], 1, 0.0
    while True:  # like timeit.autorange, on a smaller budget
        start = time.perf_counter()
        for _ in range(number):
            fn()
        t = time.perf_counter() - start
        if t >= budget / repeat or number >= 1 << 20:
            break
        number *= 10 if t < budget / repeat / 10 else 2
    rounds = [t]
    for _ in range(repeat - 1):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        rounds.append(time.perf_counter() - start)
    return min(rounds) / number


def cold(fn: Callable[[], object], rounds: int) -> tuple[float, object]:
    """Best time of ``fn()`` over ``rounds``, each with SymPy's cache emptied first."""
    best, result = math.inf, None
    for _ in range(rounds):
        clear_cache()
        gc.collect()
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def fmt(seconds: float | str | None) -> str:
    if seconds is None:
        return "—"
    if isinstance(seconds, str):
        return seconds
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def ratio(a: float | str | None, b: float | str | None, digits: int = 2) -> str:
    if not isinstance(a, float | int) or not isinstance(b, float | int) or b == 0:
        return "—"
    return f"{a / b:.{digits}f}"


# ---------------------------------------------------------------- limits in a child


def _child(conn, job: str, family: str, n: int) -> None:
    fam = next(f for f in FAMILIES if f.name == family)
    try:
        start = time.perf_counter()
        run = JOBS[job](fam, n)
        conn.send(("built", time.perf_counter() - start))
        clear_cache()
        start = time.perf_counter()
        run()
        conn.send(("done", time.perf_counter() - start))
    except RecursionError:
        conn.send(("error", "RecursionError"))
    except Exception as exc:  # report, never crash the run
        conn.send(("error", type(exc).__name__))


def _sympy_diff(fam: Family, n: int):
    f, xs = fam.nested(n, sympy)
    return lambda: [sympy.diff(f, x) for x in xs]


def _symengine_diff(fam: Family, n: int):
    import symengine

    f, xs = fam.nested(n, symengine)
    return lambda: [f.diff(x) for x in xs]


def _symgraph_jacobian(fam: Family, n: int):
    g = sg.graph(fam.source(n))
    return lambda: g.jacobian("auto")


def _symgraph_gradient(fam: Family, n: int):
    g = sg.graph(fam.source(n))
    return lambda: g.gradient()


JOBS = {
    "sympy": _sympy_diff,
    "symengine": _symengine_diff,
    "jacobian": _symgraph_jacobian,
    "gradient": _symgraph_gradient,
}


def limited(job: str, fam: Family, n: int, limit: float) -> float | str:
    """Seconds the job took in a child process, or why it has no time ("> 60 s")."""
    ctx = multiprocessing.get_context(
        "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    )
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, job, fam.name, n), daemon=True)
    proc.start()
    child.close()
    deadline = time.monotonic() + 2 * limit  # building the input may take a while too
    answer: float | str = f"> {limit:g} s"
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not parent.poll(left):
                break
            kind, value = parent.recv()
            if kind == "built":
                deadline = time.monotonic() + limit
            elif kind == "done":
                answer = value
                break
            else:
                answer = f"fails: {value}"
                break
    except EOFError:
        answer = "fails: crashed"
    proc.kill()
    proc.join()
    return answer


# ---------------------------------------------------------------- operation counts


def count_ops(lines) -> int:
    """Operations of a straight-line program: SymPy's count_ops of each right-hand side
    (an alias ``tbar_2 = tbar_3`` or a constant costs nothing)."""
    return sum(sympy.count_ops(rhs) for _, rhs in lines)


def casadi_ops(F) -> int:
    """Operations of a CasADi Function: its instructions less inputs, outputs, constants."""
    import casadi as ca

    skip = {ca.OP_INPUT, ca.OP_OUTPUT, ca.OP_CONST, ca.OP_PARAMETER}
    return sum(F.instruction_id(k) not in skip for k in range(F.n_instructions()))


# ---------------------------------------------------------------- one case


@dataclass
class Case:
    family: Family
    n: int
    row: dict = field(default_factory=dict)


def derive(case: Case, rounds: int) -> None:
    fam, n, row = case.family, case.n, case.row
    source = fam.source(n)
    row["build"], g = cold(lambda: sg.graph(source), rounds)

    def reverse():
        graph = sg.graph(source)  # a fresh graph: its partials are cached on it
        start = time.perf_counter()
        rv = graph.reverse()
        program = rv.as_program()
        return time.perf_counter() - start, rv, program

    times = [cold(reverse, 1)[1] for _ in range(rounds)]
    row["reverse"], rv, program = min(times, key=lambda t: t[0])
    row["inputs"], row["nodes"] = len(g.inputs), len(g.inputs) + len(g.steps)
    row["ops_f"] = count_ops((s.name, s.expr) for s in g.steps)
    row["ops_fg"] = count_ops(program)
    wanted = [*g.outputs, *(bar(x) for x in g.inputs)]
    row["ops_lean"] = count_ops(lean_program(program, wanted)[0])
    case.rv = rv


def casadi_row(case: Case) -> None:
    import casadi as ca

    x, f = case.family.casadi(case.n)
    case.row["casadi"] = best_of(lambda: ca.gradient(f, x), repeat=3)
    grad = ca.gradient(f, x)
    case.row["casadi_ops_f"] = casadi_ops(ca.Function("f", [x], [f]))
    case.row["casadi_ops_fg"] = casadi_ops(ca.Function("fg", [x], [f, grad]))


def compiled_row(case: Case, rng: np.random.Generator, quick: bool) -> None:
    row, rv = case.row, case.rv
    row["compile"], fn = cold(lambda: sg.compile(rv), 1)
    n_in = row["inputs"]
    point = tuple(rng.uniform(-1, 1, size=n_in).tolist())
    row["point"] = best_of(lambda: fn(*point))
    row["scalar"] = best_of(lambda: fn.scalar(*point))
    b = min(BATCH if not quick else 1000, max(100, BATCH_NUMBERS // n_in))
    X = rng.uniform(-1, 1, size=(n_in, b))
    columns = tuple(X)
    row["batch_size"] = b
    row["batch"] = best_of(lambda: fn(*columns), repeat=3) / b
    case.point, case.ours = np.array(point), np.array(fn(*point)[1], dtype=float)
    case.batch, case.ours_batch = X, np.array(fn(*columns)[1], dtype=float)


def jax_row(case: Case, quick: bool) -> None:
    import jax

    f = case.family.jax(case.n)
    grad, value_grad = jax.jit(jax.grad(f)), jax.jit(jax.value_and_grad(f))
    batch_grad = jax.jit(jax.vmap(jax.grad(f)))
    p = case.point
    start = time.perf_counter()
    jax.block_until_ready(grad(p))
    case.row["jax_compile"] = time.perf_counter() - start
    jax.block_until_ready(value_grad(p))
    case.row["jax_point"] = best_of(lambda: jax.block_until_ready(grad(p)))
    case.row["jax_value_point"] = best_of(lambda: jax.block_until_ready(value_grad(p)))
    P = np.ascontiguousarray(case.batch.T)
    jax.block_until_ready(batch_grad(P))
    b = P.shape[0]
    case.row["jax_batch"] = best_of(lambda: jax.block_until_ready(batch_grad(P)), 3) / b
    diffs = []  # at the point and on the whole batch, relative to the largest entry
    for ours, theirs in ((case.ours, np.asarray(grad(p))), (case.ours_batch, batch_grad(P).T)):
        theirs = np.asarray(theirs)
        diffs.append(np.max(np.abs(theirs - ours)) / max(1.0, np.max(np.abs(theirs))))
    case.row["agree"] = float(max(diffs))


# ---------------------------------------------------------------- the report


def machine() -> list[str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = [f"Python {platform.python_version()}", f"symgraph {sg.__version__}"]
    for name in ("sympy", "numpy", "networkx", *OPTIONAL):
        if installed(name):
            module = __import__(name)
            versions.append(f"{name} {getattr(module, '__version__', '?')}")
        else:
            versions.append(f"{name} not installed (skipped)")
    return [
        f"- machine: {platform.platform()}, {os.cpu_count()} cores, CPU: {cpu}",
        f"- versions: {', '.join(versions)}",
    ]


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return out + ["| " + " | ".join(r) + " |" for r in rows]


def size(case: Case) -> str:
    return case.family.name + ("" if case.family.size_name == "-" else f" {case.n:,}")


def derivation_table(cases: list[Case]) -> list[str]:
    head = ["family", "inputs", "nodes", "build", "reverse", "build+reverse per node",
            "closed-form gradient", "Jacobian (auto)", "SymPy diff per input", "SymEngine",
            "CasADi SX gradient", "SymPy / ours", "ours / CasADi"]  # fmt: skip
    rows = []
    for c in cases:
        r = c.row
        ours = r["build"] + r["reverse"]
        rows.append([size(c), f"{r['inputs']:,}", f"{r['nodes']:,}", fmt(r["build"]),
                     fmt(r["reverse"]), fmt(ours / r["nodes"]), fmt(r.get("gradient")),
                     fmt(r.get("jacobian")), fmt(r.get("sympy")), fmt(r.get("symengine")),
                     fmt(r.get("casadi")), _times(r.get("sympy"), ours),
                     _times(ours, r.get("casadi"))])  # fmt: skip
    return table(head, rows)


def _times(a, b) -> str:
    if isinstance(a, str) and a.startswith("> ") and isinstance(b, float):
        return f"> {float(a[2:-2]) / b:,.0f}×"
    r = ratio(a, b, 0 if isinstance(a, float) and isinstance(b, float) and a > 10 * b else 1)
    return r if r == "—" else f"{r}×"


def size_table(cases: list[Case]) -> list[str]:
    head = ["family", "ops f", "ops (f, ∇f)", "ratio", "compiled ops (f, ∇f)", "ratio",
            "CasADi ops f", "CasADi ops (f, ∇f)", "CasADi ratio"]  # fmt: skip
    rows = []
    for c in cases:
        r = c.row
        rows.append([size(c), str(r["ops_f"]), str(r["ops_fg"]), ratio(r["ops_fg"], r["ops_f"]),
                     str(r["ops_lean"]), ratio(r["ops_lean"], r["ops_f"]),
                     str(r.get("casadi_ops_f", "—")), str(r.get("casadi_ops_fg", "—")),
                     ratio(r.get("casadi_ops_fg"), r.get("casadi_ops_f"))])  # fmt: skip
    return table(head, rows)


def compiled_table(cases: list[Case]) -> list[str]:
    head = ["family", "compile", "one point fn(*x)", "one point fn.scalar", "batch per point",
            "JAX jit(grad) one point", "JAX value_and_grad", "JAX vmap per point",
            "JAX compile", "max rel. diff vs JAX"]  # fmt: skip
    rows = []
    for c in cases:
        r = c.row
        agree = f"{r['agree']:.1e}" if "agree" in r else "—"
        rows.append([size(c), fmt(r["compile"]), fmt(r["point"]), fmt(r["scalar"]),
                     f"{fmt(r['batch'])} (of {r['batch_size']:,})", fmt(r.get("jax_point")),
                     fmt(r.get("jax_value_point")), fmt(r.get("jax_batch")),
                     fmt(r.get("jax_compile")), agree])  # fmt: skip
    return table(head, rows)


def scaling_rows(sizes: dict[str, tuple[int, ...]]) -> tuple[list[str], list[Case]]:
    rows, cases = [], []
    for fam in FAMILIES:
        first = None
        for n in sizes.get(fam.name, ()):
            case = Case(fam, n)
            derive(case, 1)
            cases.append(case)
            r = case.row
            per = (r["build"] + r["reverse"]) / r["nodes"]
            first = first or per
            rows.append([size(case), f"{r['nodes']:,}", fmt(r["build"]), fmt(r["reverse"]),
                         fmt(per), f"{per / first:.2f}"])  # fmt: skip
            print(f"  scaling {size(case)}: {fmt(per)} per node", flush=True)
    head = ["family", "nodes", "build", "reverse + as_program", "per node", "vs smallest"]
    return table(head, rows), cases


# ---------------------------------------------------------------- main


def run(quick: bool, limit: float) -> tuple[list[Case], tuple[list[str], list[Case]]]:
    have = {name: installed(name) for name in OPTIONAL}
    rounds = 1 if quick else 3
    cases = [Case(f, n) for f in FAMILIES for n in (f.quick if quick else f.sizes)]
    for case in cases:  # symbolic work first: children are forked before JAX starts threads
        fam, n, row = case.family, case.n, case.row
        derive(case, rounds if n <= 1000 else 1)
        if n <= fam.closed_forms and (not quick or fam.name == "lecture"):
            row["gradient"] = limited("gradient", fam, n, limit)
            row["jacobian"] = limited("jacobian", fam, n, limit)
        row["sympy"] = limited("sympy", fam, n, limit)
        if have["symengine"]:
            row["symengine"] = limited("symengine", fam, n, limit)
        if have["casadi"]:
            casadi_row(case)
        print(f"  derived {size(case)}: {fmt(row['build'] + row['reverse'])}", flush=True)
    scaling = scaling_rows(SCALING_QUICK if quick else SCALING)
    rng = np.random.default_rng(0)
    for case in cases:
        compiled_row(case, rng, quick)
        if have["jax"]:
            import jax

            jax.config.update("jax_enable_x64", True)  # float64, as symgraph computes
            jax_row(case, quick)
        print(f"  compiled {size(case)}: {fmt(case.row['point'])} a point", flush=True)
    return cases, scaling


def report(cases: list[Case], scaling, quick: bool, limit: float, secs: float) -> str:
    from targets import targets  # the verdicts and their reasons, next to this script

    when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    mode = "quick (smallest sizes; a smoke test, not a measurement)" if quick else "full"
    lines = ["# symgraph benchmark results", "",
             f"Generated by `python benchmarks/run.py{' --quick' if quick else ''}` on {when} "
             f"in {secs:.0f} s; mode: {mode}. Definitions and method: "
             "[README.md](README.md).", "", *machine(),
             f"- time limit of SymPy, SymEngine and closed forms: {limit:g} s per case "
             "(a child process; `> T s` means it did not finish)", "",
             "## Targets of issue 6", "", *targets(cases, scaling[1], quick, fmt), "",
             "## Derivation: graph build and the reverse-mode gradient program", "",
             "`reverse` is `g.reverse()` + `as_program()`; the closed forms expand every "
             "adjoint in the inputs. SymPy and SymEngine differentiate the expanded expression "
             "once per input; CasADi's time is `casadi.gradient` on SX.", "",
             *derivation_table(cases), "",
             "## Program size: operations of f and of the value-and-gradient program", "",
             "One currency for both tools: arithmetic operations and function calls "
             "(SymPy's `count_ops` per line for symgraph; CasADi's instructions less "
             "inputs, outputs and constants). Aliases and constants cost nothing. "
             "`ops (f, ∇f)` counts `as_program()` as it is; `compiled` counts the "
             "program `sg.compile` runs (aliases and constants folded in, dead lines "
             "dropped).", "",
             *size_table(cases), "",
             "## Compiled evaluation of value and gradient", "",
             "`sg.compile(g.reverse())`; a point is a tuple of Python floats, a batch one "
             "NumPy array per input. JAX in float64 on the same points.", "",
             *compiled_table(cases), "",
             "## Linear time: build + reverse per node from 10³ to 10⁵ nodes", "",
             *scaling[0], ""]  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smallest sizes, seconds (CI)")
    parser.add_argument("--out", default=None, help="the report (default: next to this script)")
    parser.add_argument("--timeout", type=float, default=None, help="seconds per SymPy case")
    parser.add_argument("--targets", action="store_true", help="issue 13's targets: RESULTS.md")
    args = parser.parse_args(argv)
    if args.targets:
        from issue13_report import main as targets_main  # issue 13's table of targets

        return targets_main(args.quick, args.out or str(HERE / "RESULTS.md"))
    args.out = args.out or str(HERE / "RESULTS_issue6.md")
    limit = args.timeout or (2.0 if args.quick else 60.0)
    BUDGET[0] = 0.02 if args.quick else 0.3
    start = time.perf_counter()
    cases, scaling = run(args.quick, limit)
    text = report(cases, scaling, args.quick, limit, time.perf_counter() - start)
    Path(args.out).write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
