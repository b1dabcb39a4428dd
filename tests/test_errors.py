"""Every error symgraph raises derives from one base, ``sg.SymgraphError``."""

import importlib
import inspect
import pathlib
import pkgutil

import symgraph as sg


def _error_classes():
    """Every exception class defined in a module of the package (warnings aside)."""
    found = {}
    for info in pkgutil.walk_packages(sg.__path__, "symgraph."):
        if info.name == "symgraph.__main__":  # importing it runs the command line
            continue
        module = importlib.import_module(info.name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            defined_here = obj.__module__ == info.name
            if defined_here and issubclass(obj, Exception) and not issubclass(obj, Warning):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return found


def test_every_error_class_is_a_symgraph_error():
    classes = _error_classes()
    assert {"ParseError", "EvaluationError", "GraphError", "RenderError"} <= {
        c.__name__ for c in classes.values()
    }
    outside = [name for name, c in classes.items() if not issubclass(c, sg.SymgraphError)]
    assert outside == []


def test_the_base_is_a_value_error_and_catches_a_parse_error():
    assert issubclass(sg.SymgraphError, ValueError)
    try:
        sg.graph("x +")
    except sg.SymgraphError as e:
        assert isinstance(e, sg.ParseError)
    else:
        raise AssertionError("no error")


def test_readme_api_table_names_the_base():
    readme = pathlib.Path(__file__).parent.parent / "README.md"
    api = readme.read_text().split("## The Python API at a glance")[1].split("\n## ")[0]
    assert "`sg.SymgraphError`" in api
