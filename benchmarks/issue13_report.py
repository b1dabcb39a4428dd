"""Issue 13's targets from ``issue13.measure``'s numbers: a table, printed and in Markdown.

Each row is one target of the issue: what was measured, the target, and whether it is met
(and by how much it is missed). A tool that is not installed makes its rows "not measured
(… not installed)", never a crash.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from run import fmt, machine


@dataclass(frozen=True)
class Target:
    """One row of the table: ``value`` against ``goal``; ``met`` is None when unmeasured."""

    name: str
    measured: str
    goal: str
    met: bool | None
    by: str = ""

    def verdict(self) -> str:
        if self.met is None:
            return "not measured"
        return "met" if self.met else f"missed {self.by}".strip()


def _missing(name: str, goal: str, tool: str) -> Target:
    return Target(name, f"{tool} not installed", goal, None)


def derivation_targets(d) -> list[Target]:
    ours = d.times["symgraph"].best
    rows = []
    if "sympy" in d.times:
        speed = d.times["sympy"].best / ours
        rows.append(Target(
            f"derivation vs SymPy diff ({d.name})",
            f"{speed:.1f}× faster ({fmt(ours)} vs {fmt(d.times['sympy'].best)})",
            "≥ 30× faster", speed >= 30, f"by {30 / speed:.1f}×"))  # fmt: skip
    goal = "≤ 30× CasADi"
    if "casadi" in d.times:
        slow = ours / d.times["casadi"].best
        rows.append(Target(
            f"derivation vs CasADi SX gradient ({d.name})",
            f"{slow:.0f}× CasADi ({fmt(ours)} vs {fmt(d.times['casadi'].best)})",
            goal, slow <= 30, f"by {slow / 30:.1f}×"))  # fmt: skip
    else:
        rows.append(_missing(f"derivation vs CasADi SX gradient ({d.name})", goal, "casadi"))
    return rows


def ops_target(d) -> Target:
    """Both counts, each in one currency for both tools: operations (SymPy ``count_ops``
    against CasADi's instructions less inputs, outputs and constants), and instructions
    (those operations plus one per input, output and distinct constant, as CasADi counts)."""
    mine = d.ops["program"] / d.ops["f"]
    name, goal = f"program ops ratio ({d.name})", "≤ CasADi's ratio, in both counts"
    if "casadi instructions f" not in d.ops:
        return _missing(name, goal, "casadi")
    inst = d.ops["casadi instructions fg"] / d.ops["casadi instructions f"]
    ops = d.ops["casadi ops fg"] / d.ops["casadi ops f"]
    mine_inst = d.ops["program instructions"] / d.ops["f instructions"]
    return Target(
        name,
        f"{mine:.3f} by operations ({d.ops['program']:.0f}/{d.ops['f']:.0f}; CasADi {ops:.3f}), "
        f"{mine_inst:.3f} by instructions ({d.ops['program instructions']:.0f}/"
        f"{d.ops['f instructions']:.0f}; CasADi {inst:.3f})",
        goal, mine <= ops * (1 + 1e-9) and mine_inst <= inst * (1 + 1e-9),
        f"by {d.ops['program'] - d.ops['casadi ops fg']:+.0f} operations and "
        f"{d.ops['program instructions'] - d.ops['casadi instructions fg']:+.0f} instructions "
        "of the gradient program")  # fmt: skip


def compiled_targets(name: str, row: dict) -> list[Target]:
    point, batch = f"compiled one point ({name})", f"compiled batch per point ({name})"
    if "missing" in row:
        return [_missing(point, "≤ 1× JAX jit(grad)", "jax"),
                _missing(batch, "≤ 1× JAX jit(vmap(grad))", "jax")]  # fmt: skip
    (pt, pb), (bt, bb) = _best(row, "point"), _best(row, "batch")
    p, b = pt / row["jax point"], bt / row["jax batch"]
    return [
        Target(point, f"{p:.2f}× JAX ({pb} {fmt(pt)} vs {fmt(row['jax point'])}; "
               f"fn.scalar {fmt(row['scalar'])})", "≤ 1× JAX jit(grad)", p <= 1,
               f"by {p:.1f}×"),
        Target(batch, f"{b:.2f}× JAX ({bb} {fmt(bt)} vs {fmt(row['jax batch'])}, "
               f"{row['batch size']:,} points)", "≤ 1× JAX jit(vmap(grad))", b <= 1,
               f"by {b:.1f}×"),
    ]  # fmt: skip


def _best(row: dict, what: str) -> tuple[float, str]:
    """The fastest backend measured for ``what`` ("point" or "batch"), and its name."""
    times = {"NumPy backend": row[what]}
    if f"c {what}" in row:
        times["C backend"] = row[f"c {what}"]
    name = min(times, key=times.get)
    return times[name], name


def scaling_targets(scaling: dict, refused: list[str] = ()) -> list[Target]:
    rows = []
    for family, points in scaling.items():
        per = [p for _, p in points]
        spread = max(per) / min(per)
        sizes = ", ".join(f"{n:,}: {fmt(p)}" for n, p in points)
        sizes += "".join(f"; n = {r.split(':')[0].split()[-1]} refused by sg.graph"
                         for r in refused if r.startswith(family))  # fmt: skip
        top = points[-1][0]
        rows.append(Target(
            f"time per node, {points[0][0]:,} to {top:,} nodes ({family})",
            f"largest/smallest {spread:.2f} ({sizes})", "within 2×", spread <= 2,
            f"by {spread / 2:.2f}×"))  # fmt: skip
    return rows


def targets(m: dict) -> list[Target]:
    chain = m["chain"]
    t = chain.times["symgraph"].best
    rows = [*derivation_targets(m["mlp"])]
    rows += [ops_target(m[k]) for k in ("mlp", "rosenbrock", "chain")]
    for name, row in m["compiled"].items():
        rows += compiled_targets(name, row)
    rows += scaling_targets(m["scaling"], m["refused"])
    rows.append(Target(f"depth-{m['sizes'].depth} chain, build + reverse + as_program",
                       f"{fmt(t)} ({chain.nodes:,} nodes)", "< 1 s", t < 1,
                       f"by {t:.1f}×"))  # fmt: skip
    return rows


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return out + ["| " + " | ".join(r) + " |" for r in rows]


def target_table(rows: list[Target]) -> list[str]:
    return table(["target", "measured", "goal", "verdict"],
                 [[t.name, t.measured, t.goal, t.verdict()] for t in rows])  # fmt: skip


def timing_table(m: dict) -> list[str]:
    rows = []
    for key in ("mlp", "rosenbrock", "chain"):
        d = m[key]
        for tool, t in d.times.items():
            rows.append([d.name, tool, fmt(t.best), fmt(t.median), str(len(t.times))])
        rows += [[d.name, tool, "not installed", "—", "—"] for tool in d.missing]
    return table(["case", "tool", "best", "median", "repetitions"], rows)


def compiled_table(m: dict) -> list[str]:
    rows = []
    for name, r in m["compiled"].items():
        rows.append([name, fmt(r["point"]), fmt(r["scalar"]), fmt(r["batch"]),
                     fmt(r.get("c point", "no C compiler")),
                     fmt(r.get("c batch", "no C compiler")),
                     fmt(r.get("jax point", "not installed")),
                     fmt(r.get("jax batch", "not installed")),
                     f"{r['agree']:.1e}" if "agree" in r else "—"])  # fmt: skip
    return table(["case", "fn(*x)", "fn.scalar(*x)", "batch per point", "C fn(*x)",
                  "C batch per point", "JAX jit(grad)",
                  "JAX jit(vmap(grad)) per point", "max rel. diff vs JAX"], rows)  # fmt: skip


def memory_table(m: dict) -> list[str]:
    rows = []
    for family, points in m["memory"].items():
        for r in points:
            rows.append([family, f"{r['nodes']:,}", f"{r['graph']:,.0f}", f"{r['sweep']:,.0f}",
                         f"{r['peak']:,.0f}"])  # fmt: skip
    head = ["family", "nodes", "graph (B/node)", "reverse + as_program (B/node)",
            "peak while building both (B/node)"]  # fmt: skip
    return table(head, rows)


def scaling_table(m: dict) -> list[str]:
    rows = []
    for family, points in m["scaling"].items():
        first = points[0][1]
        rows += [[family, f"{n:,}", fmt(p), f"{p / first:.2f}"] for n, p in points]
    return table(["family", "nodes", "build + reverse + as_program per node", "vs smallest"],
                 rows)  # fmt: skip


def refused(m: dict) -> list[str]:
    """The sizes symgraph would not take, with its message (one SymPy expression of more
    than ``symgraph.parse.guards.MAX_TREE_NODES`` tree nodes is refused)."""
    if not m["refused"]:
        return []
    return ["Refused by `sg.graph` (so not in the table):", "",
            *(f"- {r}" for r in m["refused"]), ""]  # fmt: skip


def median_note(m: dict) -> str:
    spread = [t.median / t.best for d in (m["mlp"],) for t in d.times.values()]
    return f"median/best on the MLP: {min(spread):.2f}–{max(spread):.2f}"


def report(m: dict, command: str, secs: float, quick: bool) -> str:
    s = m["sizes"]
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = ["# symgraph benchmark results (issue 13: as a user meets it)", "",
             f"Generated by `{command}` on {when} in {secs:.0f} s"
             + (" — **a --quick run: tiny sizes, not a measurement**." if quick else "."),
             "The broad family tables of issue 6 are `python benchmarks/run.py` "
             "(→ RESULTS_issue6.md); definitions in [README.md](README.md).", "",
             "## Method", "", *machine(),
             "- input: SymPy objects with plain `Symbol`s (no assumptions), as a user writes "
             "them; the MLP also as text (`str(f)`). MLP: `f = Σ_i v_i / (1 + exp(-(Σ_j w_ij "
             f"x_j + b_i)))`, n = {s.mlp}, {m['mlp symbols']} free symbols (w: {s.mlp**2}, b, v, "
             f"x: {s.mlp} each), count_ops(f) = {m['mlp'].ops['f']:.0f}.",
             "- symgraph: `sg.graph(f).reverse().as_program()`; SymPy: `[f.diff(s) for s in "
             "symbols]`; SymEngine: the same on `symengine.sympify(f)`; CasADi: "
             "`casadi.gradient(f, x)` on the same expression built on SX.",
             "- cache policy: `sympy.core.cache.clear_cache()` and `gc.collect()` before "
             f"every repetition of every tool; {s.reps} repetitions each, best reported "
             f"(medians in the timing table; {median_note(m)}). All tools in one process, one "
             "after the other, in one run.",
             "- compiled: `sg.compile(g.reverse())` (NumPy backend) and "
             "`sg.compile(g.reverse(), backend=\"c\")` (C backend); the targets judge the "
             "faster of the two, named in the row; one point as Python floats, a batch of "
             f"{s.batch:,} points one NumPy array per input; JAX `jit(grad)` and "
             "`jit(vmap(grad))` in float64 after a warm-up; fast calls timed like `timeit` "
             "(best of 5 rounds, 3 for batches).",
             "- time per node: one cold build + reverse + as_program per size; memory: "
             "tracemalloc, what stays referenced after `clear_cache()` (graph; then what the "
             "reverse sweep and its program add), and the peak.",
             "- the machine has 2 cores shared with other work: single numbers wobble "
             "(±30 %); ratios measured side by side in the same run are what to read.", "",
             "## Targets", "", *target_table(targets(m)), "",
             "## Derivation times", "", *timing_table(m), "",
             "## Compiled evaluation", "", *compiled_table(m), "",
             "## Time per node", "", *scaling_table(m), "", *refused(m),
             "## Memory", "", *memory_table(m), "",
             f"## The profile that shows why (MLP {s.mlp}, one cold build + reverse + "
             "as_program, cProfile, top 15 by cumulative time)", "",
             "Without the profiler, each stage alone (cold, best of "
             f"{s.reps}; the sweep's row includes the graph's local partials):", "",
             *table(["stage", "best", "median"],
                    [[k, fmt(t.best), fmt(t.median)] for k, t in m["stages"].items()]), "",
             "```", m["profile"].rstrip(), "```", ""]  # fmt: skip
    return "\n".join(lines)


def printed(m: dict) -> str:
    """The table of targets for the terminal."""
    rows = targets(m)
    width = max(len(t.name) for t in rows)
    return "\n".join(f"{t.name:<{width}}  {t.verdict():<18} {t.measured}  [goal {t.goal}]"
                     for t in rows)  # fmt: skip


def main(quick: bool, out: str) -> int:
    """Measure, print the table of targets, write the report to ``out``."""
    import time
    from pathlib import Path

    import run
    from issue13 import QUICK, Sizes, measure

    run.BUDGET[0] = 0.02 if quick else 0.3
    start = time.perf_counter()
    m = measure(QUICK if quick else Sizes())
    secs = time.perf_counter() - start
    command = "python benchmarks/run.py --targets" + (" --quick" if quick else "")
    Path(out).write_text(report(m, command, secs, quick), encoding="utf-8")
    print(printed(m))
    print(f"wrote {out}")
    return 0
