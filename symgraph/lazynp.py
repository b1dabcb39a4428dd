"""NumPy, imported on first use, so the core path runs where NumPy cannot be installed.

Modules write ``from .lazynp import np`` and use ``np.exp``, ``np.ndarray`` as before.
With NumPy installed, the first attribute imports it and every attribute is NumPy's own.
Without it (Pyodide from local wheels, say), every attribute is a stand-in class: an
``isinstance(x, np.ndarray)`` test is simply false, and calling anything raises
:class:`NumpyMissing`, whose message says what to install.

>>> from symgraph.lazynp import np, have_numpy
>>> have_numpy() == (np.ndarray.__module__ == "numpy")
True
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from .errors import SymgraphError

__all__ = ["NumpyMissing", "have_numpy", "np", "require_numpy"]


class NumpyMissing(SymgraphError, ImportError):
    """A feature that needs NumPy was used where NumPy is not importable."""


def _missing(what: str) -> NumpyMissing:
    return NumpyMissing(f"{what} needs NumPy (pip install numpy)")


class _AbsentMeta(type):
    """Stand-ins for NumPy's names: classes, so isinstance works; calling one raises."""

    def __getattr__(cls, name: str) -> type:
        if name.startswith("__"):
            raise AttributeError(name)
        return _absent(f"{cls.__qualname__}.{name}")

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        raise _missing(cls.__qualname__)


def _absent(name: str) -> type:
    return _AbsentMeta(name, (), {"__qualname__": name, "__module__": "symgraph.lazynp"})


_module: ModuleType | None = None
_tried = False


def _load() -> ModuleType | None:
    global _module, _tried
    if not _tried:
        _tried = True
        try:
            _module = importlib.import_module("numpy")
        except ImportError:
            _module = None
    return _module


def have_numpy() -> bool:
    """Whether NumPy can be imported here.

    >>> isinstance(have_numpy(), bool)
    True
    """
    return _load() is not None


def require_numpy(what: str) -> ModuleType:
    """NumPy itself, or :class:`NumpyMissing` naming ``what`` needs it.

    >>> require_numpy("sg.compile").__name__ if have_numpy() else "numpy"
    'numpy'
    """
    module = _load()
    if module is None:
        raise _missing(what)
    return module


class _LazyNumpy:
    """The ``np`` of symgraph's modules: NumPy's attributes, resolved when first asked for."""

    def __getattr__(self, name: str) -> Any:
        module = _load()
        if module is None:
            if name.startswith("__"):
                raise AttributeError(name)
            return _absent(f"np.{name}")
        value = getattr(module, name)
        setattr(self, name, value)  # later lookups skip __getattr__
        return value


np: Any = _LazyNumpy()
