"""Exports evaluate without touching the warnings module, so threads keep their warnings.

``warnings.catch_warnings`` swaps process-wide state: an export silencing kink warnings
that way, in one thread, loses the warnings other threads issue meanwhile.
"""

from __future__ import annotations

import threading
import warnings

import symgraph as sg

TIE = {"u1": 1, "u2": 1}  # max(u1, u2) at a tie: every evaluation there meets a kink
ROUNDS = 20


def _exports(rv, fw, g) -> None:
    sg.to_latex(rv, at=TIE)
    sg.to_dot(fw, at=TIE)
    sg.to_json(rv, at=TIE)
    sg.to_json(g, at=TIE)


def test_threads_exporting_lose_no_warning_of_other_threads():
    g = sg.graph("u1*u2 + max(u1, u2)")
    rv, fw = g.reverse(), g.forward("u1")
    start = threading.Barrier(8)

    def plain():
        start.wait()
        for _ in range(ROUNDS):
            rv.evaluate(TIE)

    def exporting():
        start.wait()
        for _ in range(ROUNDS):
            _exports(rv, fw, g)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        threads = [threading.Thread(target=plain) for _ in range(4)]
        threads += [threading.Thread(target=exporting) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    kinks = [w for w in caught if issubclass(w.category, sg.KinkWarning)]
    assert len(kinks) == 4 * ROUNDS, f"{4 * ROUNDS - len(kinks)} warnings lost or added"
    assert all("Max(u1, u2)" in str(w.message) for w in kinks)


def test_exports_issue_no_warning_but_show_the_kink():
    g = sg.graph("u1*u2 + max(u1, u2)")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tex = sg.to_latex(g.reverse(), at=TIE)
        dot = sg.to_dot(g.forward("u1"), at=TIE)
        sg.to_json(g.reverse(), at=TIE)
        rv = g.reverse().evaluate(TIE)  # the plain call still warns
    assert "Kinks at this point" in tex and "a tie of max" in dot
    assert [str(w.message) for w in caught] == [str(k) for k in rv.kinks]
