"""The command line at a matrix point: ``--at`` rows, columns and files; arrays out;
``check`` with matrix claims and ``fd`` entry by entry.

Oracles: the library's own ``g.reverse().evaluate(...)`` (the CLI must only carry the
numbers) and NumPy central differences of the network written out by hand.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import symgraph as sg
from symgraph.cli import main

from .lecture_net import AT as POINT
from .lecture_net import NET, SHAPES, B, W, X, central, network

SHAPES_ARG = ["--shapes", "W=3x2,x=2x1,b=3x1"]
AT = "W=[[0.1,-0.2],[0.3,0.4],[-0.5,0.6]],x=[1,2],b=[0.1,-0.2,0.3]"


def run(argv, capsys, code=0):
    assert main(argv) == code
    return capsys.readouterr()


def failing(argv, capsys) -> str:
    """Exit 2, exactly one line on stderr, no traceback; that line."""
    err = run(argv, capsys, code=2).err
    assert "Traceback" not in err and err.count("\n") == 1 and err.startswith("symgraph: ")
    return err


def library_gradient() -> dict[str, np.ndarray]:
    g = sg.graph(NET, shapes=SHAPES)
    ev = g.reverse().evaluate({"W": W, "x": X, "b": B})
    return {str(k): np.asarray(v, dtype=float) for k, v in ev.gradient.items()}


def assert_gradient(at: dict) -> None:
    expected = library_gradient()
    for name in ("W", "x", "b"):
        got = np.array(at[name])
        assert got.shape == SHAPES[name]
        np.testing.assert_allclose(got, expected[name], rtol=1e-12)
        np.testing.assert_allclose(got, central(POINT, name), atol=1e-8)


def line_of(out: str, start: str) -> str:
    (found,) = [r for r in out.splitlines() if r.startswith(start)]
    return found


def grad_json(at: str, capsys) -> dict:
    return json.loads(run(["grad", NET, *SHAPES_ARG, "--at", at, "--json"], capsys).out)


def test_the_network_at_a_matrix_point(capsys):
    data = grad_json(AT, capsys)
    assert_gradient(data["gradient"])
    assert "at" not in data and data["adjoints"]["W"] == data["gradient"]["W"]
    assert data["values"]["f"] == pytest.approx(network(W, X, B), rel=1e-12)
    assert np.array(data["values"]["t1"]).shape == (3, 1)


def test_a_json_file_and_an_npz_file(tmp_path, capsys):
    point = tmp_path / "point.json"
    point.write_text(json.dumps({"W": W.tolist(), "x": [1, 2], "b": B.ravel().tolist()}))
    assert_gradient(grad_json(f"@{point}", capsys)["gradient"])
    archive = tmp_path / "point.npz"
    np.savez(archive, W=W, x=X, b=B.ravel())
    assert_gradient(grad_json(f"@{archive}", capsys)["gradient"])
    partial = tmp_path / "wx.npz"
    np.savez_compressed(partial, W=W, x=X)  # mixed with a name=value piece
    assert_gradient(grad_json(f"@{partial},b=[0.1,-0.2,0.3]", capsys)["gradient"])


def test_a_flat_list_is_a_row_for_a_row_input(capsys):
    argv = ["grad", "sum(x*W)", "--shapes", "x=1x3,W=3x2", "--at"]
    argv += ["x=[1,2,3],W=[[1,0],[0,1],[1,1]]", "--json"]
    at = json.loads(run(argv, capsys).out)["gradient"]
    assert at["x"] == [[1.0, 1.0, 2.0]] and at["W"] == [[1.0] * 2, [2.0] * 2, [3.0] * 2]


def test_text_output_prints_aligned_arrays(capsys):
    out = run(["grad", NET, *SHAPES_ARG, "--at", AT], capsys).out
    rows = out[out.index("gradient, in closed form:") :].splitlines()
    at_w = rows.index(next(r for r in rows if r.startswith("  ∂f/∂W = sigmoid'(W*x + b)*x.T")))
    column = rows[at_w].index("[[") + 1  # the rows' numbers aligned under the first row's
    assert rows[at_w + 1].index("[") == column and rows[at_w + 2].endswith("]]")
    expected = np.array2string(library_gradient()["W"], precision=8).splitlines()
    assert [r.strip() for r in rows[at_w + 1 : at_w + 3]] == [e.strip() for e in expected[1:]]
    graph = run(["graph", NET, *SHAPES_ARG, "--at", AT], capsys).out
    wbar = line_of(graph, "  Wbar = tbar_1*x.T = tbar_2*x.T")
    assert graph.splitlines()[graph.splitlines().index(wbar) + 1].index("[") == wbar.index("[[") + 1
    tex = run(["latex", NET, *SHAPES_ARG, "--at", AT], capsys).out
    assert r"\begin{bmatrix}0.1 & -0.2 \\" in tex


def test_graph_json_at_a_matrix_point_is_strict(capsys):
    out = run(["graph", NET, *SHAPES_ARG, "--at", AT, "--json"], capsys).out
    data = json.loads(out, parse_constant=pytest.fail)
    assert_gradient(data["evaluation"]["gradient"])


@pytest.mark.parametrize(
    ("at", "says"),
    [
        ("W=[[1,2],[3,4],[5,6]],x=[1,2],b=[1,2,3", "'[' without its ']'"),
        ("W=[[1,2],[3,4]]],x=[1,2],b=[1,2,3]", "']' without its '['"),
        ("W=[[1,2],[3],[5,6]],x=[1,2],b=[1,2,3]", "rows of different lengths"),
        ("W=[[1,2],[3,4]],x=[1,2],b=[1,2,3]", "a 2x2 value, but W has shape (3, 2)"),
        ("W=[1,2,3,4,5,6],x=[1,2],b=[1,2,3]", "write its 3 rows"),
        ("W=[[1,2],[3,4],[5,6]],x=[1,2,3],b=[1,2,3]", "x has shape (2, 1)"),
        ("W=[[1,2],[3,4],[5,six]],x=[1,2],b=[1,2,3]", "not a number or a [..] list"),
        ("W=[[1,2],[3,4],[5,'6']],x=[1,2],b=[1,2,3]", "not a number or a [..] list"),
        ('W=[[1,2],[3,4],[5,"6"]],x=[1,2],b=[1,2,3]', "rows of numbers"),
        ("W=[[1,2],[3,4],[5,true]],x=[1,2],b=[1,2,3]", "rows of numbers"),
        ("W=[[1,2],[3,4],[5,NaN]],x=[1,2],b=[1,2,3]", "not a finite number"),
        ("W=[[1,2],[3,4],[5,1e999]],x=[1,2],b=[1,2,3]", "finite"),
        ("W=[[1,2],[3,4],[5,1" + "0" * 400 + "]],x=[1,2],b=[1,2,3]", "finite"),
        ("W=[[[1]]],x=[1,2],b=[1,2,3]", "rows of numbers"),
        ("W=[],x=[1,2],b=[1,2,3]", "want a number"),
        ("W=" + "[" * 100_000 + "]" * 100_000 + ",x=[1,2],b=[1,2,3]", "not a number"),
        ("W=[[1,2],[3,4],[5,6]],x=[1,2],b=[1,2,3],x=[1,2]", "gives x twice"),
        ("W=[[1,2],[3,4],[5,6]],x=[1,2],b=__import__('os')", "not a number"),
    ],
)
def test_malformed_values_exit_2_with_one_line(at, says, capsys):
    assert says in failing(["grad", NET, *SHAPES_ARG, "--at", at], capsys)


def test_a_matrix_for_a_scalar_input_is_refused(capsys):
    says = failing(["grad", "x*y", "--at", "x=[1,2],y=1"], capsys)
    assert "x is a number (a scalar input)" in says


def test_malformed_files_exit_2_with_one_line(tmp_path, capsys):
    files = {
        "list.json": ("[1, 2]", "want a JSON object"),
        "nan.json": ('{"W": NaN}', "not a finite number"),
        "ragged.json": ('{"W": [[1, 2], [3]]}', "rows of different lengths"),
        "broken.json": ('{"W": [[1, 2]', "not a number or a [..] list"),
        "huge.json": ('{"W": [' + "1, " * 2_000_000 + "1]}", "too long for a point"),
    }
    for name, (text, says) in files.items():
        (tmp_path / name).write_text(text)
        assert says in failing(["grad", NET, *SHAPES_ARG, "--at", f"@{tmp_path / name}"], capsys)
    np.savez(tmp_path / "text.npz", W=np.array(["a", "b"]))
    np.savez(tmp_path / "cube.npz", W=np.ones((2, 2, 2)))
    np.savez(tmp_path / "objects.npz", W=np.array([{}, 1], dtype=object))
    np.savez(tmp_path / "inf.npz", W=np.full((3, 2), np.inf))
    np.savez_compressed(tmp_path / "bomb.npz", W=np.zeros(10_000_000))
    (tmp_path / "fake.npz").write_bytes(b"PK\x03\x04 not really a zip")
    cases = {"text": "real numbers", "cube": "at most 2 dimensions", "objects": "not a NumPy",
             "inf": "finite", "bomb": "too many bytes", "fake": "not a NumPy"}  # fmt: skip
    for name, says in cases.items():
        at = f"@{tmp_path / name}.npz"
        assert says in failing(["grad", NET, *SHAPES_ARG, "--at", at], capsys)


# ---------------------------------------------------------------- check and fd


def check_argv(*claims: str, at: str | None = AT) -> list[str]:
    argv = ["check", NET, *SHAPES_ARG, *(a for c in claims for a in ("--claim", c))]
    return argv + (["--at", at] if at else [])


def test_check_a_right_matrix_claim(capsys):
    out = run(check_argv("W=tbar_2*x.T", "x=W.T*tbar_2", at=None), capsys).out
    assert "✓ ∂f/∂W = tbar_2*x.T: right (equal symbolically)" in out
    data = json.loads(run([*check_argv("W=tbar_2*x.T", at=None), "--json"], capsys).out)
    assert data["ok"] and data["results"][0]["claim"] == "tbar_2*x.T"
    assert "right" in run(check_argv("W: tbar_2*x.T", "t3: 1", at=None), capsys).out


def test_check_a_forgotten_transpose_exits_1(capsys):
    out = run(check_argv("W=x*tbar_2", at=None), capsys, code=1).out
    assert "the shapes do not fit: cannot multiply x (2×1) by tbar_2 (3×1)" in out
    assert "a forgotten transpose: tbar_2*x.T is right" in out
    data = json.loads(run([*check_argv("W=2*tbar_2*x.T"), "--json"], capsys, code=1).out)
    (result,) = data["results"]
    counter = result["counterexample"]
    assert np.array(counter["at"]["W"]).shape == (3, 2)
    assert np.allclose(counter["claimed"], 2 * np.array(counter["correct"]))
    assert result["departure"] == "off by a constant factor 2"


def test_check_numbers_claimed_for_a_matrix(capsys):
    grad = library_gradient()
    np.testing.assert_allclose(grad["W"], central(POINT, "W"), atol=1e-8)
    rows = json.dumps(np.round(grad["W"], 4).tolist()).replace(" ", "")
    column = json.dumps(np.round(grad["b"], 4).ravel().tolist()).replace(" ", "")
    argv = [*check_argv(f"W={rows}", f"b={column}"), "--tol", "1e-4", "--json"]
    data = json.loads(run(argv, capsys).out)
    assert data["ok"] and np.array(data["results"][0]["correct"]).shape in {(3, 2), (3, 1)}
    wrong = grad["W"].copy()
    wrong[2, 1] += 0.5
    out = run(check_argv("W=" + json.dumps(wrong.tolist())), capsys, code=1).out
    assert "1 of 6 entries off, the most at W[2,1]" in out
    out = run(check_argv("W=" + json.dumps(grad["W"].T.tolist())), capsys, code=1).out
    assert "the claim is 2×3, W is 3×2" in out and "its transpose is right" in out


def test_fd_entry_by_entry(capsys):
    out = run(["fd", NET, *SHAPES_ARG, "--at", AT, "--scheme", "central", "--wrt", "W"], capsys).out
    assert "∂f/∂W, entry by entry (W is 3×2):" in out and "    W[2,1]  " in out
    argv = ["fd", NET, *SHAPES_ARG, "--at", AT, "--scheme", "central", "--h", "1e-5", "--json"]
    data = json.loads(run(argv, capsys).out)
    for name in ("W", "x", "b"):
        estimate = np.array(data["estimates"][name])
        assert estimate.shape == SHAPES[name]
        np.testing.assert_allclose(estimate, central(POINT, name, h=1e-5), rtol=1e-9)
        np.testing.assert_allclose(data["exact"][name], library_gradient()[name], rtol=1e-12)
        assert isinstance(data["abs_error"][name], float) and len(data["worst"][name]) == 2


def test_fd_sweep_at_a_matrix_point(capsys):
    argv = ["fd", NET, *SHAPES_ARG, "--at", AT, "--sweep", "--scheme", "central"]
    data = json.loads(run([*argv, "--json"], capsys).out)
    assert round(data["order"]["W"]) == 2 and len(data["worst"]["W"]) == 2
    assert len(data["errors"]["W"]) == len(data["hs"]) == 12
    assert "round-off floor at h = " in run(argv, capsys).out


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (check_argv("W=[[1,2],[3,4],[5,six]]"), "--claim W: not a number or a [..] list"),
        (check_argv("W=[[1,2],[3]]"), "rows of different lengths"),
        (check_argv("W=[[1,2],[3,4],[5,6]]", at=None), "give --at too"),
        (check_argv("W=sigmoid'(t2)*x.T", at=None), "the claim for W"),
        ([*check_argv("W=tbar_2*x.T", at=None), "--mode", "forward"], "reverse mode"),
        (["fd", "W*x", "--shapes", "W=3x2,x=2x1", "--at", "W=[[1,2],[3,4],[5,6]],x=[1,2]"],
         "f is a 3×1 matrix: fd differentiates a scalar"),
        (["check", "W*x", "--shapes", "W=3x2,x=2x1", "--claim", "x=W.T"],
         "f is a 3×1 matrix: check differentiates a scalar"),
        (["fd", NET, *SHAPES_ARG, "--at", AT, "--wrt", "y"], "y"),
        (["fd", NET, *SHAPES_ARG, "--at", "W=[[1,2],[3,4]],x=[1,2],b=[1,2,3]"], "shape (3, 2)"),
    ],
)  # fmt: skip
def test_bad_check_and_fd_input_exits_2_with_one_line(argv, says, capsys):
    assert says in failing(argv, capsys)


# ---------------------------------------------------------------- --hessian


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_hessian_of_logistic_regression_at_a_matrix_point(capsys):
    """∂²/∂w² of sum(softplus(-y ∘ Xw)) in matrix form, and its numbers against central
    differences of the gradient written by hand: -Xᵀ(y ∘ σ(-y ∘ Xw))."""
    X_, w, y = np.array([[1.0, 2], [3, 4], [5, 6]]), np.array([[0.1], [-0.2]]), np.ones((3, 1))
    y[1] = -1
    argv = ["grad", "sum(softplus(-hadamard(y, X*w)))", "--shapes", "X=3x2,w=2x1,y=3x1"]
    argv += ["--at", "X=[[1,2],[3,4],[5,6]],w=[0.1,-0.2],y=[1,-1,1]", "--hessian", "w"]
    out = run(argv, capsys).out
    assert "Hessian (2×2), in closed form:\n  ∂²f/∂w² = X.T*diag(" in out
    data = json.loads(run([*argv, "--json"], capsys).out)["hessian"]
    assert data["wrt"] == "w" and data["shape"] == [2, 2] and "diag(" in data["closed_form"]

    def gradient(w):
        return -X_.T @ (y * _sigmoid(-y * (X_ @ w)))

    h = 1e-6
    columns = [(gradient(w + h * e) - gradient(w - h * e)) / (2 * h) for e in np.eye(2)[:, :, None]]
    np.testing.assert_allclose(np.array(data["value"]), np.hstack(columns), atol=1e-7)
    assert data["at"] == data["value"]  # the key it had before


def test_hessian_over_scalar_inputs_and_refusals(capsys):
    data = json.loads(run(["grad", "x**2*y", "--at", "x=1,y=2", "--hessian", "--json"], capsys).out)
    assert data["hessian"]["at"] == [[4.0, 2.0], [2.0, 0.0]]  # [[2y, 2x], [2x, 0]]
    assert data["hessian"]["closed_form"] == "[[2*y, 2*x], [2*x, 0]]"
    net = ["grad", NET, *SHAPES_ARG, "--hessian"]
    assert "W, b, x are matrix inputs: pass wrt=" in failing(net, capsys)
    assert "no node named 'q'" in failing([*net, "q"], capsys)
