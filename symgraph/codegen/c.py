"""The C backend of :func:`symgraph.codegen.compile`: the lean program as one C function.

The same lean lines the NumPy printer writes are printed as C (each value a local
``double``), compiled by the system compiler (``cc``/``gcc`` on PATH, ``-O2``, no
fused multiply-adds) into a shared object cached by the hash of its source, and loaded
with :mod:`ctypes`. One entry point runs a batch: the loop over points is inside C.
Function spellings come from the records of :mod:`symgraph.ops` (their ``c`` field).
No user text reaches the source: lines were admitted by the whitelist walk, and every
value is named by its index (``x[3]``, ``t12``), never by its symbol's name.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

from sympy import Basic, Expr, Piecewise, S
from sympy.core.relational import Relational
from sympy.logic.boolalg import And, BooleanFalse, BooleanTrue, Not, Or

from .. import ops
from ..errors import SymgraphError
from ..lazynp import np as numpy


class BackendError(SymgraphError):
    """A compile backend that does not exist, cannot run here, or cannot compile a program."""


#: symgraph's C helpers named by the records (``sg_...``), with NumPy's NaN semantics.
PRELUDE = r"""#include <math.h>
#include <stdlib.h>
static double sg_max(double a, double b) { return (isnan(a) || a >= b) ? a : b; }
static double sg_min(double a, double b) { return (isnan(a) || a <= b) ? a : b; }
static double sg_relu(double x) { return sg_max(x, 0.0); }
static double sg_sign(double x) { return x > 0 ? 1.0 : x < 0 ? -1.0 : x == 0 ? 0.0 : x; }
static double sg_heaviside(double x, double h0) {
  return x > 0 ? 1.0 : x < 0 ? 0.0 : x == 0 ? h0 : x; }
static double sg_sigmoid(double x) {
  if (x >= 0) return 1.0 / (1.0 + exp(-x));
  double z = exp(x); return z / (1.0 + z); }
static double sg_softplus(double x) { return sg_max(x, 0.0) + log1p(exp(-fabs(x))); }
"""

#: Points per block of a batch in C.
BLOCK = 16

#: The batch entry point: a block of points at a time, so that each input's and output's
#: array is read or written a cache line at a time, not one value between a thousand others.
BATCH = """int sg_batch(const double *const *in, const long *step, double *const *out, long n) {
  enum { B = %(B)d, N = %(N)d, M = %(M)d };
  double *x = malloc(sizeof(double) * B * N), *y = malloc(sizeof(double) * B * M);
  if (!x || !y) { free(x); free(y); return 1; }
  for (long i0 = 0; i0 < n; i0 += B) {
    long b = n - i0 < B ? n - i0 : B;
    for (int k = 0; k < N; k++) {
      const double *a = in[k]; long s = step[k];
      for (long j = 0; j < b; j++) x[j * N + k] = a[(i0 + j) * s];
    }
    for (long j = 0; j < b; j++) sg_point(x + j * N, y + j * M);
    for (int k = 0; k < M; k++)
      for (long j = 0; j < b; j++) out[k][i0 + j] = y[j * M + k];
  }
  free(x); free(y);
  return 0;
}"""

#: The one-point entry point over Python's own objects (compiled where Python.h is found):
#: exact floats read and results made in C, skipping struct packing and a type check per
#: argument in Python. None means "take the general path" (a wrong count, a non-float,
#: or a result that is not finite: there the general path raises with its message).
CALL = """PyObject *sg_call(PyObject *args) {
  enum { N = %(N)d, M = %(M)d, K = %(K)d };
  double x[N], y[M];
  if (!PyTuple_CheckExact(args) || PyTuple_GET_SIZE(args) != %(n)d) Py_RETURN_NONE;
  for (Py_ssize_t k = 0; k < %(n)d; k++) {
    PyObject *o = PyTuple_GET_ITEM(args, k);
    if (!PyFloat_CheckExact(o)) Py_RETURN_NONE;
    x[k] = PyFloat_AS_DOUBLE(o);
  }
  sg_point(x, y);
  for (int j = 0; j < M; j++) if (!isfinite(y[j])) Py_RETURN_NONE;
  PyObject *d = PyTuple_New(M - K), *v = K == 1 ? PyFloat_FromDouble(y[0]) : PyTuple_New(K);
  if (!d || !v) goto fail;
  for (int j = 0; j < M; j++) {
    PyObject *f = PyFloat_FromDouble(y[j]);
    if (!f) goto fail;
    if (j >= K) PyTuple_SET_ITEM(d, j - K, f);
    else if (K == 1) Py_DECREF(f);
    else PyTuple_SET_ITEM(v, j, f);
  }
  PyObject *out = PyTuple_Pack(2, v, d);
  Py_DECREF(v); Py_DECREF(d);
  return out;
fail:
  Py_XDECREF(v); Py_XDECREF(d);
  return NULL;
}"""

#: Largest point (inputs + results) the one-point entry point keeps on the C stack.
CALL_LIMIT = 1 << 15

_RELATIONS = {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "==": "==", "!=": "!="}


class CPrinter:
    """C text of a whitelisted expression; ``names`` maps each symbol to its C name."""

    def __init__(self, names: dict[Basic, str], h0: float):
        self.names, self.h0 = names, h0

    def __call__(self, e: Expr) -> str:
        if e in self.names:
            return self.names[e]
        if e.is_Number or e.is_NumberSymbol:
            return _number(e)
        if e.is_Add:
            return "(" + " + ".join(map(self, e.args)) + ")"
        if e.is_Mul:
            return "(" + " * ".join(map(self, e.args)) + ")"
        if e.is_Pow:
            return self._pow(*e.args)
        if isinstance(e, Piecewise):
            return self._piecewise(e)
        if isinstance(e, Relational) and e.rel_op in _RELATIONS:
            return f"({self(e.lhs)} {_RELATIONS[e.rel_op]} {self(e.rhs)})"
        if isinstance(e, And | Or):
            return "(" + (" && " if isinstance(e, And) else " || ").join(map(self, e.args)) + ")"
        if isinstance(e, Not):
            return f"(!{self(e.args[0])})"
        if isinstance(e, BooleanTrue | BooleanFalse):
            return "1" if e else "0"
        return self._function(e)

    def _pow(self, b: Expr, p: Expr) -> str:
        if p == -1:
            return f"(1.0 / {self(b)})"
        if p == 2:
            return f"({self(b)} * {self(b)})"
        if p == S.Half:
            return f"sqrt({self(b)})"
        return f"pow({self(b)}, {self(p)})"

    def _piecewise(self, e: Piecewise) -> str:
        out = "NAN"
        for expr, cond in reversed(e.args):
            out = self(expr) if cond is S.true else f"({self(cond)} ? {self(expr)} : {out})"
        return out

    def _function(self, e: Expr) -> str:
        name = type(e).__name__
        if name == "Heaviside":
            return f"sg_heaviside({self(e.args[0])}, {float(self.h0)!r})"
        if name == "DiracDelta":
            return "0.0"
        op = next((op for k in type(e).__mro__ if (op := ops.record(k)) and op.c), None)
        if op is None:
            raise BackendError(
                f"the C backend has no spelling of {name}: compile with backend='numpy'"
            )
        args = [self(a) for a in e.args]
        if op.c in ("sg_max", "sg_min"):  # folded pairwise, as NumPy's maximum.reduce
            out = args[0]
            for a in args[1:]:
                out = f"{op.c}({out}, {a})"
            return out
        return f"{op.c}({', '.join(args)})"


def _number(e: Expr) -> str:
    if e is S.NaN or e is S.ComplexInfinity:
        return "NAN"
    if e is S.Infinity:
        return "INFINITY"
    if e is S.NegativeInfinity:
        return "(-INFINITY)"
    return f"({float(e)!r})"


def source(inputs, lines, held, h0: float, outputs: int | None = None) -> str:
    """The C source: ``sg_point(x, y)`` for one point and ``sg_batch`` over ``n`` points
    (input ``k`` at ``in[k][i * step[k]]``: step 0 broadcasts a scalar); with ``outputs``
    (how many results are values, not derivatives) and Python.h at hand, also
    ``sg_call(args)``, the one-point call over a tuple of floats."""
    names = {x: f"x[{k}]" for k, x in enumerate(inputs)}
    body = []
    for k, (s, e) in enumerate(lines):
        printer = CPrinter(names, h0)
        terms = e.args if (e.is_Add or e.is_Mul) and len(e.args) > 100 else None
        if terms:  # a long sum in pieces: the compiler's parser recurses per operator
            op = " + " if e.is_Add else " * "
            parts = [e.func(*terms[i : i + 100]) for i in range(0, len(terms), 100)]
            body.append(f"  double t{k} = {printer(parts[0])};")
            body += [f"  t{k} = t{k}{op}{printer(p)};" for p in parts[1:]]
        else:
            body.append(f"  double t{k} = {printer(e)};")
        names[s] = f"t{k}"
    printer = CPrinter(names, h0)
    body += [f"  y[{j}] = {printer(r)};" for j, r in enumerate(held)]
    n, m = len(inputs), len(held)
    call = outputs is not None and m > 0 and n + m <= CALL_LIMIT and python_include()
    return "\n".join(
        [
            "#include <Python.h>" if call else "",
            PRELUDE,
            "void sg_point(const double *restrict x, double *restrict y) {",
            *body,
            "}",
            BATCH % {"B": BLOCK, "N": max(n, 1), "M": m},
            CALL % {"N": max(n, 1), "n": n, "M": m, "K": outputs} if call else "",
            "",
        ]
    )


def compiler() -> str:
    """The system C compiler on PATH (``$CC``, ``cc`` or ``gcc``)."""
    for name in (os.environ.get("CC"), "cc", "gcc"):
        if name and (path := shutil.which(name)):
            return path
    raise BackendError(
        "backend='c' needs a C compiler on PATH (cc or gcc; install gcc), "
        "or compile with backend='numpy'"
    )


def python_include() -> str | None:
    """The directory of this Python's ``Python.h``, or None (no headers installed)."""
    import sysconfig

    path = sysconfig.get_paths().get("include")
    return path if path and os.path.exists(os.path.join(path, "Python.h")) else None


def _cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(
        tempfile.gettempdir(), f"u{os.getuid()}"
    )
    path = Path(base) / "symgraph" / "c"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def load(text: str) -> ctypes.CDLL:
    """The shared object of ``text``, compiled once and cached by the hash of its source.

    Written under a unique temporary name and renamed into place: concurrent processes
    compiling the same source each produce a complete file, and the rename is atomic.
    """
    cc = compiler()
    flags = ["-O2", "-ffp-contract=off", "-fPIC", "-shared", "-std=c99"]
    if text.startswith("#include <Python.h>"):  # built against this very Python
        flags += ["-I", python_include() or "", "-fno-strict-aliasing"]
    key = f"{cc}\n{flags}\n{sys.version}\n{text}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    so = _cache() / f"sg_{digest}.so"
    if not so.exists():
        with tempfile.TemporaryDirectory(dir=so.parent) as work:
            c, tmp = Path(work) / "sg.c", Path(work) / "sg.so"
            c.write_text(text)
            done = subprocess.run(
                [cc, *flags, str(c), "-o", str(tmp), "-lm"], capture_output=True, text=True
            )
            if done.returncode:
                first = (done.stderr.strip().splitlines() or ["no message"])[0]
                raise BackendError(f"the C compiler failed ({first}); use backend='numpy'")
            os.replace(tmp, so)
    lib = ctypes.CDLL(str(so))
    lib.sg_point.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_char)]
    lib.sg_point.restype = None
    lib.sg_batch.argtypes = [
        ctypes.c_void_p,
        ctypes.c_void_p,
        ctypes.c_void_p,
        ctypes.c_long,
    ]
    lib.sg_batch.restype = ctypes.c_int
    return lib


def fast_call(lib: ctypes.CDLL):
    """``sg_call`` of ``lib`` called holding the GIL (it makes Python objects), or None."""
    if not hasattr(lib, "sg_call"):
        return None
    call = ctypes.PyDLL(lib._name).sg_call
    call.argtypes, call.restype = [ctypes.py_object], ctypes.py_object
    return call


def functions(lib: ctypes.CDLL, n: int, m: int):
    """The batch function (arrays in, ``m`` arrays out) and the one-point function
    (floats in, a tuple of floats out) over the loaded ``lib``."""
    point, packed, results = lib.sg_point, struct.Struct(f"{n}d"), struct.Struct(f"{m}d")
    buffer = ctypes.create_string_buffer

    def scalar(*args: float) -> tuple[float, ...]:
        # doubles packed and unpacked by struct in one call each, not value by value
        y = buffer(results.size)
        point(packed.pack(*args), y)
        return results.unpack_from(y)

    def batch(*args):
        arrays = [numpy.asarray(a, dtype=numpy.float64) for a in args]
        shape = numpy.broadcast_shapes(*(a.shape for a in arrays))
        flat, steps = [], []
        for a in arrays:
            one = a.size == 1 and a.shape != shape
            a = a.reshape(1) if one else numpy.broadcast_to(a, shape)
            flat.append(numpy.ascontiguousarray(a).reshape(-1))
            steps.append(0 if one else 1)
        size = int(numpy.prod(shape))
        out = numpy.empty((m, size))
        ins = (ctypes.c_void_p * max(n, 1))(*(a.ctypes.data for a in flat))
        outs = (ctypes.c_void_p * m)(*(row.ctypes.data for row in out))
        if lib.sg_batch(ins, (ctypes.c_long * max(n, 1))(*steps), outs, size):
            raise MemoryError("the C backend's batch buffers")
        return tuple(row.reshape(shape) for row in out)

    return batch, scalar


def build(inputs, lines, held, outputs, convention, table):
    """The batch function, the one-point function, the C source of the lean program
    ``lines`` with results ``held`` (the first ``outputs`` of them values), under the rule
    ``table`` of its graph, and the fast one-point call over floats (or None)."""
    with ops.using(table):
        text = source(inputs, lines, held, convention.heaviside_at_zero, outputs)
    lib = load(text)
    return (*functions(lib, len(inputs), len(held)), text, fast_call(lib))
