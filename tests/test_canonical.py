"""canonical.node makes what SymPy's own constructors make, or declines."""

import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy import Add, Mul, Pow, Rational, Symbol

from symgraph import canonical
from symgraph.functions import relu, sigmoid, softplus

SYMBOLS = [Symbol(n, real=True) for n in ("a", "b", "t1", "t2", "t10", "x_1", "xbar")]
NUMBERS = [Rational(n, d) for n in (-3, -1, 1, 2, 5) for d in (1, 2)]
NUMBERS += [sympy.Float(0.5), sympy.Float(1.0), sympy.Float(0.0)]
atoms = st.sampled_from(SYMBOLS)
powers = st.builds(Pow, atoms, st.sampled_from([-2, -1, 2, 3]))
numbers = st.sampled_from([*NUMBERS, sympy.S.Zero])
monomials = st.builds(
    lambda c, fs: Mul(c, *fs), numbers, st.lists(st.one_of(atoms, powers), max_size=3)
)
terms = st.one_of(atoms, powers, numbers, monomials, st.builds(sympy.exp, atoms))


def same(made, expected) -> bool:
    """Equal, and built alike: the same class and the same arguments in the same order."""
    return made == expected and made.func is expected.func and made.args == expected.args


@settings(max_examples=400, deadline=None)
@given(st.lists(terms, max_size=6))
def test_a_sum_is_what_add_makes_or_declined(items):
    made = canonical.node(Add, items)
    assert made is None or same(made, Add(*items))


@settings(max_examples=400, deadline=None)
@given(st.lists(terms, max_size=6))
def test_a_product_is_what_mul_makes_or_declined(items):
    made = canonical.node(Mul, items)
    assert made is None or same(made, Mul(*items))


def test_the_common_forms_are_made_directly():
    a, b, t1 = SYMBOLS[:3]
    assert same(canonical.node(Add, [t1, -2 * a, sympy.Integer(3)]), Add(t1, -2 * a, 3))
    assert same(canonical.node(Mul, [b, Pow(t1, -1)]), b / t1)
    assert same(canonical.node(Pow, [t1, sympy.Integer(-1)]), 1 / t1)
    assert canonical.node(Add, [a, 2 * a]) is None  # like terms
    assert canonical.node(Mul, [a, a]) is None  # a power
    assert canonical.node(Pow, [t1, sympy.S.Half]) is None


FUNCTIONS = [sympy.exp, sympy.sin, sympy.cos, sympy.tanh, sympy.log, sympy.Abs, sympy.sign]
FUNCTIONS += [sympy.Heaviside, sympy.atan, sympy.cosh, sympy.sinh, sigmoid, relu, softplus]


def test_a_function_of_a_symbol_or_its_negation_is_made_as_sympy_makes_it():
    t = SYMBOLS[2]
    for func in FUNCTIONS:
        for arg in (t, -t):
            made = canonical.node(func, [arg])
            expected = func(arg)
            kept = expected.func is func and expected.args == (arg,)
            assert (made is not None) == kept, (func, arg)
            assert made is None or same(made, expected)


def test_symbols_with_other_assumptions_are_left_to_sympy():
    plain, positive = Symbol("p"), Symbol("q", positive=True)
    assert canonical.node(Add, [plain, SYMBOLS[0]]) is None
    assert canonical.node(sympy.Abs, [positive]) is None  # SymPy makes it q


def test_call_is_what_the_function_makes():
    t = SYMBOLS[2]
    for func in FUNCTIONS:
        for arg in (t, -t, 2 * t, t**2):
            assert same(canonical.call(func, arg), func(arg))


applied = st.builds(lambda f, a: f(a), st.sampled_from(FUNCTIONS), st.one_of(atoms, monomials))
trees = st.recursive(
    st.one_of(terms, applied),
    lambda inner: st.one_of(
        st.builds(lambda xs: Add(*xs), st.lists(inner, min_size=2, max_size=3)),
        st.builds(lambda xs: Mul(*xs), st.lists(inner, min_size=2, max_size=3)),
        st.builds(lambda f, a: f(a), st.sampled_from(FUNCTIONS), inner),
    ),
    max_leaves=8,
)
swaps = st.dictionaries(atoms, st.one_of(atoms, numbers, monomials), max_size=3)


@settings(max_examples=300, deadline=None)
@given(trees, swaps)
def test_replaced_is_what_xreplace_makes(tree, mapping):
    assert same(canonical.replaced(tree, mapping), tree.xreplace(mapping))
