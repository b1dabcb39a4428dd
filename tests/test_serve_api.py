"""The playground's JSON API: the lecture's numbers, positioned errors, hostile input refused."""

from __future__ import annotations

import json
import math

import pytest
import sympy

from symgraph.serve import api
from symgraph.serve.worker import Worker, _Forked, _may_fork

LECTURE = "exp(exp(u1) + exp(2*u2)) + sigmoid(exp(u1) + exp(2*u2))"


def _oracle(name: str) -> float:
    """∂f/∂name at the lecture's point by sympy.diff, independent of the sweeps."""
    u1, u2 = sympy.symbols("u1 u2")
    s = sympy.exp(u1) + sympy.exp(2 * u2)
    f = sympy.exp(s) + 1 / (1 + sympy.exp(-s))
    return float(sympy.diff(f, sympy.Symbol(name)).subs({u1: 1, u2: -1}))


def test_lecture_reverse_gives_47_30_and_every_pane():
    out = api.run({"f": LECTURE, "at": "u1=1,u2=-1"})
    assert out["ok"]
    values = {d["label"]: d["value"] for d in out["derivatives"]}
    assert math.isclose(values["∂f/∂u1"], _oracle("u1"), rel_tol=1e-12)
    assert f"{values['∂f/∂u1']:.2f}" == "47.30"
    assert "digraph" in out["dot"] and "47.303" in out["dot"]
    assert "\\intertext" not in out["latex"]["katex"] and "aligned" in out["latex"]["katex"]
    assert "\\documentclass" in out["latex"]["document"]
    assert "def " in out["code"] and "numpy.exp" in out["code"]
    assert "47.3164" in out["fd"]["text"]  # central difference, h = 0.01
    # the shared node t3's click: its two-term chain-rule sum and its adjoint's number
    t3 = next(n for n in out["nodes"].values() if n["name"] == "t3")
    assert "tbar_4*t4 + tbar_5*t5*(1 - t5)" in t3["sum"]
    assert math.isclose(t3["carried"], _oracle("u1") / math.e, rel_tol=1e-12)


def test_forward_mode_seeded_by_an_input():
    out = api.run({"f": LECTURE, "at": "u1=1,u2=-1", "mode": "forward", "seed": "u2"})
    assert out["ok"] and out["mode"] == "forward"
    assert math.isclose(out["derivatives"][0]["value"], _oracle("u2"), rel_tol=1e-12)


def test_check_finds_the_first_wrong_step():
    out = api.run({"f": LECTURE, "at": "u1=1,u2=-1", "claims": "u1=47.3,u2=4.0"})
    assert out["check"]["ok"] is False
    assert "∂f/∂u2" in out["check"]["first_wrong"] and "4.7102" in out["check"]["first_wrong"]


def test_parse_error_carries_its_position():
    out = api.run({"f": "exp(u1 +* 2)"})
    assert not out["ok"]
    assert (out["error"]["line"], out["error"]["column"]) == (1, 9)


@pytest.mark.parametrize(
    "formula",
    [
        "__import__('os').system('true')",
        "9**9**9**9",
        "(" * 5000 + "x" + ")" * 5000,
        "x+" * 4000 + "x",
    ],
)
def test_hostile_formulas_are_refused(formula):
    out = api.run({"f": formula})
    assert out["ok"] is False and out["error"]["message"]


def test_bad_json_and_bad_fields_are_error_responses():
    assert json.loads(api.run_json("{nope"))["ok"] is False
    assert json.loads(api.run_json("[1, 2]"))["ok"] is False
    assert "at" in api.run({"f": "x", "at": "x=abc"})["error"]["message"]
    assert api.run({"f": "x*y", "mode": "forward"})["error"]["message"].startswith("seed")
    big = json.dumps({"f": "x", "at": "x=" + "1" * api.MAX_REQUEST_BYTES})
    assert "larger" in json.loads(api.run_json(big))["error"]["message"]


def test_numpy_panes_say_unavailable_without_numpy(monkeypatch):
    real = api.importlib.util.find_spec
    monkeypatch.setattr(
        api.importlib.util, "find_spec", lambda n, *a: None if n == "numpy" else real(n, *a)
    )
    out = api.run({"f": LECTURE, "at": "u1=1,u2=-1", "claims": "u1=47.3"})
    assert out["code"] == out["fd"] == out["check"] == api.NEEDS_NUMPY
    assert out["ok"] and out["derivatives"][0]["value"] > 47


def test_the_worker_kills_a_request_past_its_budget_and_keeps_serving():
    worker = Worker(budget=60)
    try:
        warm = json.loads(worker.run_json(json.dumps({"f": "x*y"})))
        assert warm["ok"]  # the child is up: the budget below times the formula alone
        worker.budget = 0.5
        # a product of many distinct factors: its closed forms take far longer than 0.5 s
        slow = "*".join(f"sin(x{i} + x{i + 1})" for i in range(150))
        out = json.loads(worker.run_json(json.dumps({"f": slow, "at": ""})))
        assert out["ok"] is False and "longer than" in out["error"]["message"]
        worker.budget = 60
        out = json.loads(worker.run_json(json.dumps({"f": LECTURE, "at": "u1=1,u2=-1"})))
        assert out["ok"] and f"{out['derivatives'][0]['value']:.2f}" == "47.30"
    finally:
        worker.close()


def test_the_first_child_is_forked_warm_and_a_dead_child_is_replaced():
    import os
    import signal

    forks = _may_fork()  # Linux, one thread: the first child is a copy of this process
    worker = Worker(budget=60)
    try:
        first = worker._child
        assert isinstance(first, _Forked) == forks
        out = json.loads(worker.run_json(json.dumps({"f": LECTURE, "at": "u1=1,u2=-1"})))
        assert f"{out['derivatives'][0]['value']:.2f}" == "47.30"
        os.kill(first.pid, signal.SIGKILL)  # the child dies between two requests
        first.wait()
        out = json.loads(worker.run_json(json.dumps({"f": LECTURE, "at": "u1=1,u2=-1"})))
        assert out["ok"] and f"{out['derivatives'][0]['value']:.2f}" == "47.30"
        assert worker._child is not first and worker._child.poll() is None
    finally:
        worker.close()
    assert worker._child.poll() is not None  # closing leaves no child behind


@pytest.mark.parametrize(("length", "code"), [("-1", 400), ("junk", 400), (str(10**9), 413)])
def test_the_server_refuses_a_bad_content_length_and_keeps_serving(length, code):
    import http.client
    import threading
    from http.server import ThreadingHTTPServer

    from symgraph.serve.server import _handler

    class Instant:  # the worker's interface: the handler only forwards the text
        def run_json(self, text: str) -> str:
            return api.run_json(text)

    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(Instant()))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    good = json.dumps({"f": LECTURE, "at": "u1=1,u2=-1"}).encode()
    try:
        for given, body, want in ((length, b"", code), (str(len(good)), good, 200)):
            conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=30)
            conn.putrequest("POST", "/api/run")
            conn.putheader("Content-Length", given)
            conn.endheaders(body)
            response = conn.getresponse()
            assert response.status == want
            if want == 200:  # then a good request is answered in full
                out = json.loads(response.read())
                assert f"{out['derivatives'][0]['value']:.2f}" == "47.30"
            conn.close()
    finally:
        server.shutdown()
        server.server_close()


LECTURE_AT = {"f": "exp(exp(u1) + exp(2*u2)) + sigmoid(exp(u1) + exp(2*u2))", "at": "u1=1,u2=-1"}
BOARD = "\n".join([
    r"t_3 = e^{u_1} + e^{2u_2}",
    r"\bar t_3 = e^{t_3} + \sigma(t_3)(1 - \sigma(t_3))",
    r"\bar u_2 = 2 e^{2u_2} \bar t_3",
    r"\frac{\partial f}{\partial u_1} = 47.30",
])  # fmt: skip


def test_the_lecture_derivation_is_right_line_by_line():
    out = api.run({**LECTURE_AT, "d": BOARD})
    d = out["derivation"]
    assert out["ok"] and d["ok"] and d["first_wrong"] is None
    assert [v["ok"] for v in d["lines"]] == [True] * 4
    assert _oracle("u1") == pytest.approx(47.30, abs=0.005)  # the line 4 number is true
    json.dumps(out, allow_nan=False)  # JSON-safe


def test_a_planted_slip_is_named_as_the_first_wrong_line():
    slipped = BOARD.replace(r"\bar u_2 = 2 e", r"\bar u_2 = e")
    d = api.run({**LECTURE_AT, "d": slipped})["derivation"]
    assert d["first_wrong"] == 2 and not d["lines"][2]["ok"]
    assert d["lines"][2]["slip"] == "factor 0.5"
    right = d["lines"][2]["counterexample"]["right"]
    assert right == pytest.approx(_oracle("u2"), rel=1e-9)


def test_hostile_latex_in_a_line_is_not_understood_and_the_api_keeps_answering():
    d = api.run({**LECTURE_AT, "d": "t_3 = e^{u_1} + e^{2u_2}\n\\def\\x{1} t_4 = \\x"})[
        "derivation"
    ]
    assert d["lines"][1]["kind"] == "not_understood" and "def" in d["lines"][1]["reason"]
    too_many = "\n".join(["t_3 = e^{u_1} + e^{2u_2}"] * (api.MAX_DERIVATION_LINES + 1))
    out = api.run({**LECTURE_AT, "d": too_many})
    assert not out["ok"] and out["error"]["message"].startswith("d:")
    assert api.run({**LECTURE_AT, "d": BOARD})["derivation"]["ok"]
