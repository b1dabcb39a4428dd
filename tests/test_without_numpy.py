"""symgraph's core path (parse, graph, sweeps, evaluation at a point, LaTeX, DOT, JSON)
runs where NumPy cannot be imported, as in Pyodide from local wheels; features that need
NumPy say so."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import sympy

ROOT = Path(__file__).resolve().parents[1]
LECTURE = "exp(exp(u1) + exp(2*u2)) + sigmoid(exp(u1) + exp(2*u2))"

# A meta path finder that refuses numpy, installed before anything is imported.
BLOCK = """
import sys
class _Block:
    def find_spec(self, name, path=None, target=None):
        if name == "numpy" or name.startswith("numpy."):
            raise ImportError("numpy blocked by the test")
sys.meta_path.insert(0, _Block())
"""


def _run_without_numpy(body: str) -> dict:
    code = BLOCK + textwrap.dedent(body)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_lecture_example_without_numpy():
    out = _run_without_numpy(
        f"""
        import json, sys
        import symgraph as sg
        g = sg.graph({LECTURE!r})
        rv = g.reverse()
        ev = rv.evaluate({{"u1": 1, "u2": -1}})
        print(json.dumps({{
            "numpy": "numpy" in sys.modules and sys.modules["numpy"] is not None,
            "du1": float(ev.gradient["u1"]), "du2": float(ev.gradient["u2"]),
            "latex": sg.to_latex(rv), "dot": sg.to_dot(g), "json": sg.to_json(g),
        }}))
        """
    )
    assert out["numpy"] is False
    u1, u2 = sympy.symbols("u1 u2")
    s = sympy.exp(u1) + sympy.exp(2 * u2)
    f = sympy.exp(s) + 1 / (1 + sympy.exp(-s))
    at = {u1: 1, u2: -1}
    assert abs(out["du1"] - float(sympy.diff(f, u1).subs(at))) < 1e-9
    assert abs(out["du2"] - float(sympy.diff(f, u2).subs(at))) < 1e-9
    assert round(out["du1"], 2) == 47.30
    assert "t_{1} &= e^{u_{1}}" in out["latex"]
    assert out["dot"].startswith("digraph")
    assert json.loads(out["json"])["kind"] == "graph"


def test_numpy_features_say_what_to_install():
    out = _run_without_numpy(
        f"""
        import json
        import symgraph as sg
        from symgraph.lazynp import NumpyMissing
        said = {{}}
        for name, call in (
            ("compile", lambda: sg.compile(sg.graph({LECTURE!r}))),
            ("check", lambda: sg.check("sigmoid(x)", {{"x": "exp(-x)/(1 + exp(-x))**2"}})),
        ):
            try:
                call()
                said[name] = None
            except NumpyMissing as e:
                said[name] = [str(e), isinstance(e, ValueError), isinstance(e, ImportError)]
        print(json.dumps(said))
        """
    )
    for name in ("compile", "check"):
        message, is_value_error, is_import_error = out[name]
        assert "needs NumPy (pip install numpy)" in message
        assert is_value_error and is_import_error
