"""Result mappings (``ev.values``, ``rv.adjoints``, ...): read-only, keyed by the graph's
symbols, and answering to the symbols' names everywhere a key is looked up."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Mapping

import pytest
import sympy

import symgraph as sg
from symgraph.evaluation.evaluate import NotEvaluatedError
from symgraph.naming import NameDict

u1, u2 = sympy.symbols("u1 u2", real=True)


@pytest.fixture
def d() -> NameDict:
    return NameDict({u1: 2.0, u2: -1.0})


def test_a_name_finds_its_symbol_in_every_lookup(d):
    assert d["u1"] == d[u1] == 2.0
    assert "u1" in d and u1 in d and "u3" not in d
    assert d.get("u2") == -1.0 and d.get("u3") is None and d.get("u3", 0) == 0
    keys = d.keys()  # a view that resolves names like the mapping
    assert "u1" in keys and u1 in keys and "u3" not in keys
    assert ("u1", 2.0) in d.items() and (u1, 2.0) in d.items() and ("u1", 3.0) not in d.items()
    with pytest.raises(KeyError, match="u3"):
        d["u3"]


def test_iteration_is_over_the_symbols_in_order(d):
    assert list(d) == list(d.keys()) == [u1, u2] and len(d) == 2
    assert list(d.items()) == [(u1, 2.0), (u2, -1.0)] and list(d.values()) == [2.0, -1.0]
    assert list(reversed(d)) == [u2, u1]
    assert dict(d) == {u1: 2.0, u2: -1.0} and type(dict(d)) is dict
    assert isinstance(d, Mapping) and not isinstance(d, dict)


def test_equal_to_any_mapping_with_the_same_contents(d):
    assert d == {u1: 2.0, u2: -1.0} and {u1: 2.0, u2: -1.0} == d
    assert d == NameDict({u2: -1.0, u1: 2.0})
    assert d != {u1: 2.0} and d != {"u1": 2.0, "u2": -1.0}  # keys are symbols, not names
    assert d != [(u1, 2.0), (u2, -1.0)]
    with pytest.raises(TypeError):
        hash(d)


def test_it_prints_like_a_dict(d):
    assert repr(d) == str(d) == "{u1: 2.0, u2: -1.0}" == repr(dict(d))


def _set_by_name(d):
    d["u1"] = 0.0


def _set(d):
    d[u1] = 0.0


def _delete(d):
    del d[u1]


@pytest.mark.parametrize("change", [_set_by_name, _set, _delete])
def test_item_assignment_and_deletion_are_type_errors(d, change):
    with pytest.raises(TypeError, match="NameDict"):
        change(d)
    assert d == {u1: 2.0, u2: -1.0}


@pytest.mark.parametrize("method", ["pop", "popitem", "setdefault", "update", "clear"])
def test_there_are_no_mutating_methods(d, method):
    assert not hasattr(d, method)
    with pytest.raises(AttributeError):
        getattr(d, method)


def test_a_copy_resolves_names_too_and_dict_gives_a_mutable_one(d):
    c = d.copy()
    assert c == d and c["u1"] == 2.0 and "u2" in c and isinstance(c, NameDict)
    plain = dict(d)
    plain[u1] = 5.0  # the copy changes, the result does not
    assert d[u1] == 2.0


def test_pickles_and_copies_with_its_names(d):
    for again in (pickle.loads(pickle.dumps(d)), copy.deepcopy(d), copy.copy(d)):
        assert again == d and again["u1"] == 2.0


def test_the_first_key_of_a_name_wins_and_a_string_key_is_itself():
    plain_x, real_x = sympy.Symbol("x"), sympy.Symbol("x", real=True)
    assert plain_x != real_x
    assert NameDict({plain_x: 1, real_x: 2})["x"] == 1
    assert NameDict({real_x: 2, plain_x: 1})["x"] == 2
    assert NameDict({"x": 3, real_x: 2})["x"] == 3  # a key equal to the text is found first


# ---------------------------------------------------------------- the results themselves


def _results():
    g = sg.graph("exp(u1)*u2 + sin(u2)")
    fw, rv, at = g.forward("u1"), g.reverse(), {"u1": 0.5, "u2": -1.0}
    ev, fe = rv.evaluate(at), fw.evaluate(at)
    return {
        "rv.adjoints": rv.adjoints,
        "rv.gradient": rv.gradient,
        "fw.tangents": fw.tangents,
        "fw.derivative": fw.derivative,
        "g.gradient()": g.gradient(),
        "g.gradient(forward)": g.gradient(mode="forward"),
        "g.step": g.step,
        "ev.values": ev.values,
        "ev.adjoints": ev.adjoints,
        "ev.gradient": ev.gradient,
        "fe.values": fe.values,
        "fe.tangents": fe.tangents,
        "fe.derivative": fe.derivative,
        "g.evaluate().outputs": g.evaluate(at).outputs,
        "fd.exact": sg.finite_difference(g, at).exact,
    }


@pytest.mark.parametrize("name", list(_results()))
def test_every_result_mapping_is_read_only_and_resolves_names(name):
    m = _results()[name]
    assert isinstance(m, NameDict)
    key = next(iter(m))
    assert m[key.name] is m[key] and key.name in m and m.get(key.name) is m[key]
    assert dict(m) == m and dict(m)[key] is m[key]  # user code's dict(ev.gradient) works
    with pytest.raises(TypeError):
        m[key] = 0  # type: ignore[index]


def test_the_gradient_by_name_agrees_with_sympy_diff():
    g = sg.graph("exp(u1)*u2 + sin(u2)")
    ev = g.reverse().evaluate({"u1": 0.5, "u2": -1.0})
    f = sympy.exp(u1) * u2 + sympy.sin(u2)
    at = {u1: 0.5, u2: -1.0}
    for name, x in (("u1", u1), ("u2", u2)):
        assert ev.gradient[name] == pytest.approx(float(sympy.diff(f, x).subs(at)))
    assert ev.gradient == {x: ev.gradient[x.name] for x in (u1, u2)}


def test_a_node_not_evaluated_says_why_and_is_not_in_the_values():
    x = sympy.Symbol("x", real=True)
    g = sg.graph(sympy.Piecewise((sympy.log(x), x > 0), (x, True)))
    ev = g.reverse().evaluate({"x": -1})
    assert "t1" not in ev.values and ev.values.get("t1", "none") == "none"
    assert list(ev.values) == [x, sympy.Symbol("f", real=True)]
    with pytest.raises(NotEvaluatedError, match=r"t1 was not evaluated.*outside its real domain"):
        ev.values["t1"]
    with pytest.raises(KeyError):  # a NotEvaluatedError is a KeyError too
        ev.values[g.symbol("t1")]
    with pytest.raises(KeyError, match="nowhere") as raised:
        ev.values["nowhere"]
    assert not isinstance(raised.value, NotEvaluatedError)
    assert ev.values.copy() == ev.values
    with pytest.raises(NotEvaluatedError):
        ev.values.copy()["t1"]


def test_a_check_report_maps_the_names_claimed_to_their_results():
    report = sg.check("u1*u2", {"u1": "u2", "u2": "u1 + 1"})
    assert list(report) == ["u2", "u1"]  # output side first, as report.results
    assert len(report) == 2 and "u1" in report and u1 in report and "t1" not in report
    assert report["u1"].ok and report[u1] is report["u1"] and not report["u2"].ok
    assert dict(report.items()) == {r.name: r for r in report.results}
    with pytest.raises(KeyError, match="no claim was made for t1"):
        report["t1"]
    assert report.get("t1") is None
