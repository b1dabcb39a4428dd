r"""LaTeX to SymPy without TeX: a small tokenizer and a recursive-descent reader.

The reader turns the LaTeX people write for derivatives into symgraph's own formula
text, which :func:`symgraph.parse.parse_expr_text` then reads: so every limit, every
check and every expression is the formula parser's, and an error it finds is reported
at the column of the LaTeX it came from. No macro is ever expanded: ``\input``, ``\def``,
``\csname`` and every command not listed below are refused.

Read: numbers, letters (``xy`` is ``x*y``; a name of several letters is
``\operatorname{name}`` or ``\mathrm{name}``), subscripts (``u_1`` -> ``u1``,
``t_{12}`` -> ``t12``), ``\bar t_3``/``\bar{t}_3`` -> ``tbar_3``, ``\dot{t}_3`` ->
``tdot_3``, ``\mathbf{W}``, ``+ - \cdot \times * /``, implicit multiplication
(``2u_2``, ``e^{u_1}\bar t_3``), ``^{}``, ``^\top``/``^T`` (a transpose), ``\frac``,
``\sqrt``, ``\left( \right)``, ``|x|``, ``\exp \log \ln``, trig and hyperbolic
functions, ``\sigma(x)`` (sigmoid), ``\max``, ``\min``, ``\operatorname{relu}``, and
``\partial f/\partial u_1`` or ``\frac{\partial f}{\partial u_1}`` as the name
``df_du1`` of a derivative (:func:`partial_name`).

>>> latex_text(r"\frac{\partial f}{\partial u_1} + e^{u_1}\bar t_3")
'df_du1 + (e)**(u1)*tbar_3'
>>> parse_latex(r"\sigma\left(e^{u_1} + e^{2u_2}\right)")
sigmoid(exp(u1) + exp(2*u2))
>>> parse_latex(r"\input{secret}")
Traceback (most recent call last):
symgraph.parse.ParseError: line 1, column 1: \input is not allowed (this reader never runs TeX)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple, NoReturn

import sympy

from .guards import MAX_DEPTH, MAX_TEXT_CHARS, SPLIT
from .source import ParseError

_TOKEN = re.compile(
    r"(?P<space>\s+|\\[,;:! ]|\\q?quad\b|~)"
    r"|(?P<cmd>\\[A-Za-z]+|\\[{}|])"
    r"|(?P<num>\d+(?:\.\d+)?|\.\d+)"
    r"|(?P<letter>[A-Za-z])"
    r"|(?P<sym>[-+*/^_{}()\[\]|,'=<>])"
)
FUNCTIONS = {  # \name -> symgraph's function
    **{n: n for n in ("exp", "log", "sin", "cos", "tan", "sinh", "cosh", "tanh", "max", "min")},
    "ln": "log", "arcsin": "asin", "arccos": "acos", "arctan": "atan",
}  # fmt: skip
NAMED = {"relu", "sigmoid", "softplus", "abs", "sum", "trace", "tr", "det"}  # \operatorname
GREEK = frozenset(
    re.findall(
        r"\w+",
        "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi rho tau "
        "upsilon phi chi psi omega Gamma Delta Theta Lambda Xi Phi Psi Omega",
    )
)
_TIMES = {r"\cdot", r"\times", "*"}
_SKIP = {r"\left", r"\right", r"\bigl", r"\bigr", r"\Bigl", r"\Bigr", r"\displaystyle"}
_TRANSPOSE = {r"\top", r"\intercal", r"\mathsf"}
_HINT_CMD = "write the formula with the commands of this material: \\frac, \\sqrt, \\exp, ..."


class Token(NamedTuple):
    kind: str
    text: str
    pos: int  # 0-based offset in the LaTeX


class Piece(NamedTuple):
    """Formula text and the LaTeX offset it came from, for positions in errors."""

    text: str
    pos: int


def partial_name(f: str, x: str) -> str:
    """The name the reader gives ``∂f/∂x``: ``df_dx`` (``df_du1`` for ``u_1``).

    >>> partial_name("f", "u1")
    'df_du1'
    """
    return f"d{f}_d{x}"


def _fail(message: str, pos: int | None, hint: str | None = None, text: str = "") -> NoReturn:
    column = None if pos is None else pos + 1
    raise ParseError(message, 1 if column else None, column, hint, text or None)


def tokens(text: str) -> list[Token]:
    """The tokens of ``text``; spacing commands and comments dropped."""
    if not isinstance(text, str):
        raise ParseError(f"LaTeX must be a str, not {type(text).__name__}")
    if len(text) > MAX_TEXT_CHARS:
        raise ParseError(f"input too long: {len(text):,} characters, at most {MAX_TEXT_CHARS:,}")
    out, i = [], 0
    while i < len(text):
        if text[i] == "%":  # a comment, to the end of the line
            j = text.find("\n", i)
            i = len(text) if j < 0 else j
            continue
        m = _TOKEN.match(text, i)
        if m is None:
            _fail(f"unexpected character {text[i]!r}", i, None, text)
        if m.lastgroup != "space":
            out.append(Token(m.lastgroup, m.group(), i))
        i = m.end()
    return out


class _Reader:
    """Recursive descent over the tokens, writing formula text piece by piece."""

    def __init__(self, text: str, shapes: Mapping | None) -> None:
        self.text, self.toks, self.i = text, tokens(text), 0
        self.toks = [t for t in self.toks if t.text not in _SKIP]
        self.matrices = bool(shapes) and "T" not in (shapes or {})
        self.depth, self.bars = 0, 0  # nesting, and open |...| pairs

    # -- tokens
    def peek(self, k: int = 0) -> Token | None:
        return self.toks[self.i + k] if self.i + k < len(self.toks) else None

    def next(self) -> Token:
        tok = self.peek()
        if tok is None:
            _fail("incomplete formula", len(self.text), "an operand is missing", self.text)
        self.i += 1
        return tok

    def expect(self, text: str) -> Token:
        tok = self.next()
        if tok.text != text:
            self.fail(f"expected {text!r}, found {tok.text!r}", tok)
        return tok

    def fail(self, message: str, tok: Token | None, hint: str | None = None) -> NoReturn:
        _fail(message, tok.pos if tok else len(self.text), hint, self.text)

    def deeper(self, tok: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail(f"nested deeper than {MAX_DEPTH} levels", tok, SPLIT)

    # -- grammar: sum := term (± term)*
    def expr(self) -> list[Piece]:
        tok = self.peek()
        self.deeper(tok or Token("", "", len(self.text)))
        out = self.term()
        while (tok := self.peek()) and tok.text in "+-" and tok.kind == "sym":
            self.next()
            out += [Piece(f" {tok.text} ", tok.pos), *self.term()]
        self.depth -= 1
        return out

    def term(self) -> list[Piece]:
        out = self.unary()
        while tok := self.peek():
            if tok.text in _TIMES or tok.text == "/":
                self.next()
                out += [Piece("*" if tok.text != "/" else "/", tok.pos), *self.unary()]
            elif self.starts_factor(tok):
                if tok.kind == "num":
                    self.fail("a number after a factor", tok, r"write \cdot between them")
                out += [Piece("*", tok.pos), *self.power()]
            else:
                break
        return out

    def starts_factor(self, tok: Token) -> bool:
        if tok.kind in ("letter", "num"):
            return True
        if tok.kind == "cmd":
            return tok.text not in _TIMES and tok.text not in (r"\partial", r"\}")
        return tok.text in "({" or (tok.text == "|" and not self.bars)

    def unary(self) -> list[Piece]:
        tok = self.peek()
        if tok and tok.kind == "sym" and tok.text in "+-":
            self.next()
            self.deeper(tok)
            out = [Piece(tok.text, tok.pos), *self.unary()]
            self.depth -= 1
            return out
        return self.power()

    def power(self) -> list[Piece]:
        out = self.primary()
        while (tok := self.peek()) and tok.text in ("^", "'"):
            self.next()
            if tok.text == "'":
                self.fail("a prime is not a formula", tok, r"write \frac{\partial f}{\partial x}")
            if self.transpose():
                out = [Piece("(", tok.pos), *out, Piece(").T", tok.pos)]
                continue
            out = _raised(out, self.argument(), tok.pos)
        return out

    def transpose(self) -> bool:
        tok, after = self.peek(), self.peek(1)
        braced = tok is not None and tok.text == "{" and after is not None
        inner = after if braced else tok
        if inner is None or not (inner.text in _TRANSPOSE or (inner.text == "T" and self.matrices)):
            return False
        if braced and (self.peek(2) is None or self.peek(2).text != "}"):
            return False
        self.i += 3 if braced else 1
        return True

    def argument(self) -> list[Piece]:
        """``{...}`` or one token: the argument of ``^``, ``\\frac``, ``\\sqrt``."""
        tok = self.peek()
        if tok is not None and tok.text == "{":
            self.next()
            out = self.expr()
            self.expect("}")
            return out
        tok = self.next()
        if tok.kind == "num" and len(tok.text) > 1 and "." not in tok.text:  # x^23 is x^2 3
            self.toks.insert(self.i, Token("num", tok.text[1:], tok.pos + 1))
            return [Piece(tok.text[0], tok.pos)]
        if tok.kind in ("num", "letter"):
            return [Piece(tok.text, tok.pos)]
        self.i -= 1
        return self.primary()

    # -- primaries
    def primary(self) -> list[Piece]:
        tok = self.next()
        if tok.kind == "num":
            return [Piece(tok.text, tok.pos)]
        if tok.kind == "letter":
            return self.subscripted(tok.text, tok)
        if tok.text in ("(", "[", "{", r"\{"):
            close = {"(": ")", "[": "]", "{": "}", r"\{": r"\}"}[tok.text]
            out = self.group(tok, close)
            return out
        if tok.text == "|":
            self.bars += 1
            out = [Piece("abs(", tok.pos), *self.expr(), Piece(")", tok.pos)]
            self.expect("|")
            self.bars -= 1
            return out
        if tok.kind == "cmd":
            return self.command(tok)
        self.fail(f"unexpected {tok.text!r}", tok)

    def group(self, tok: Token, close: str) -> list[Piece]:
        out = self.expr()
        items = [out]
        while (t := self.peek()) and t.text == ",":
            self.next()
            items.append(self.expr())
        self.expect(close)
        joined = [Piece("(", tok.pos)]
        for k, item in enumerate(items):
            joined += [Piece(", ", tok.pos)] * bool(k) + item
        return [*joined, Piece(")", tok.pos)]

    def subscripted(self, name: str, tok: Token, accent: str = "") -> list[Piece]:
        sub = self.subscript()
        if accent:
            return [Piece(f"{name}{accent}" + (f"_{sub}" if sub else ""), tok.pos)]
        return [Piece(name + sub, tok.pos)]

    def subscript(self) -> str:
        tok = self.peek()
        if tok is None or tok.text != "_":
            return ""
        self.next()
        tok = self.next()
        if tok.text != "{":
            if tok.kind not in ("num", "letter"):
                self.fail("a subscript is letters or digits", tok)
            return tok.text
        parts = []
        while (t := self.next()).text != "}":
            if t.kind not in ("num", "letter") or "." in t.text:
                self.fail("a subscript is letters or digits", t)
            parts.append(t.text)
        return "".join(parts)

    def word(self) -> str:
        """The letters of ``{name}`` (after ``\\operatorname``, ``\\mathbf``, ...)."""
        self.expect("{")
        parts = []
        while (t := self.next()).text != "}":
            if t.kind not in ("letter", "num"):
                self.fail("a name is letters and digits", t)
            parts.append(t.text)
        return "".join(parts)

    def command(self, tok: Token) -> list[Piece]:
        name = tok.text[1:]
        if name in ("frac", "dfrac", "tfrac"):
            return self.fraction(tok)
        if name == "sqrt":
            return self.root(tok)
        if name in ("bar", "overline", "dot"):
            accent = "dot" if name == "dot" else "bar"
            base = self.argument_name(tok)
            return self.subscripted(base, tok, accent)
        if name in ("mathbf", "boldsymbol", "bm", "mathrm", "operatorname", "text", "mathit"):
            word = self.word()
            if word in NAMED or (name in ("operatorname", "mathrm") and self.peek_is("(")):
                return self.call(tok, {"tr": "trace"}.get(word, word))
            return self.subscripted(word, tok)
        if name in FUNCTIONS:
            return self.call(tok, FUNCTIONS[name])
        if name == "sigma" and self.peek_is("("):
            return self.call(tok, "sigmoid")
        if name == "pi":
            return [Piece("pi", tok.pos)]
        if name in GREEK or name in ("sigma", "varepsilon", "varphi"):
            return self.subscripted(name, tok)
        if name == "partial":
            return self.derivative(tok)
        self.fail(f"{tok.text} is not allowed (this reader never runs TeX)", tok, None)

    def peek_is(self, text: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.text == text

    def argument_name(self, tok: Token) -> str:
        """The letter under ``\\bar``/``\\dot``: ``t``, ``{t}``, ``{t_3}`` (whose subscript
        is put back for :meth:`subscripted`), or ``{\\mathbf{W}}``."""
        braced = self.peek_is("{")
        if braced:
            self.next()
        t = self.next()
        if t.kind == "letter":
            name = t.text
        elif t.kind == "cmd" and t.text[1:] in ("mathbf", "boldsymbol", "bm", "mathrm"):
            name = self.word()
        elif t.kind == "cmd" and t.text[1:] in GREEK:
            name = t.text[1:]
        else:
            self.fail(f"{tok.text} takes a letter", t)
        if braced:
            if self.peek_is("_"):  # \bar{t_3}: the subscript goes after the accent
                sub = self.subscript()
                self.expect("}")
                self.toks[self.i : self.i] = [Token("sym", "_", t.pos), Token("num", sub, t.pos)]
            else:
                self.expect("}")
        return name

    def call(self, tok: Token, func: str) -> list[Piece]:
        """``func(args)``; ``\\log_b x``; without parentheses, one factor: ``\\sin x``."""
        base = None
        if self.peek_is("_") and func == "log":
            self.next()
            base = self.argument()
        power = None
        if self.peek_is("^") and func not in ("max", "min"):  # \sin^2 x is (sin x)^2
            self.next()
            power = self.argument()
        inner = self.group(self.next(), ")")[1:-1] if self.peek_is("(") else self.power()
        out = [Piece(f"{func}(", tok.pos), *inner]
        out += [Piece(", ", tok.pos), *base] if base else []
        out.append(Piece(")", tok.pos))
        return _raised(out, power, tok.pos) if power else out

    def root(self, tok: Token) -> list[Piece]:
        r"""``\sqrt{x}``, or ``\sqrt[n]{x}`` as ``x**(1/n)``."""
        degree = [Piece("2", tok.pos)]
        if self.peek_is("["):
            self.next()
            degree = self.expr()
            self.expect("]")
        inner = self.argument()
        return [
            Piece("(", tok.pos),
            *inner,
            Piece(")**(1/(", tok.pos),
            *degree,
            Piece("))", tok.pos),
        ]

    def fraction(self, tok: Token) -> list[Piece]:
        if self.peek_is("{") and self.peek(1) is not None and self.peek(1).text == r"\partial":
            start = self.i
            named = self.partial_fraction(tok)
            if named:
                return named
            self.i = start
        top, bottom = self.argument(), self.argument()
        return [Piece("(", tok.pos), *top, Piece(")/(", tok.pos), *bottom, Piece(")", tok.pos)]

    def partial_fraction(self, tok: Token) -> list[Piece] | None:
        r"""``\frac{\partial f}{\partial x}`` as the name ``df_dx``."""
        self.expect("{")
        self.expect(r"\partial")
        f = self.plain_name()
        if not self.peek_is("}"):
            return None
        self.next()
        self.expect("{")
        self.expect(r"\partial")
        x = self.plain_name()
        self.expect("}")
        return [Piece(partial_name(f, x), tok.pos)]

    def plain_name(self) -> str:
        tok = self.next()
        if tok.kind == "letter":
            return tok.text + self.subscript()
        if tok.kind == "cmd" and tok.text[1:] in ("mathbf", "boldsymbol", "bm", "mathrm"):
            return self.word() + self.subscript()
        if tok.kind == "cmd" and tok.text[1:] in GREEK:
            return tok.text[1:] + self.subscript()
        self.fail(r"\partial takes a name", tok)

    def derivative(self, tok: Token) -> list[Piece]:
        r"""``\partial f / \partial x`` as the name ``df_dx``."""
        f = self.plain_name()
        self.expect("/")
        self.expect(r"\partial")
        return [Piece(partial_name(f, self.plain_name()), tok.pos)]

    def read(self) -> list[Piece]:
        if not self.toks:
            _fail("empty formula", None, "write a formula such as x^2 + 1")
        out = self.expr()
        if (tok := self.peek()) is not None:
            hint = "one formula is expected" if tok.text in ",=" else None
            self.fail(f"unexpected {tok.text!r}", tok, hint)
        return out


def _raised(base: list[Piece], exponent: list[Piece], pos: int) -> list[Piece]:
    return [Piece("(", pos), *base, Piece(")**(", pos), *exponent, Piece(")", pos)]


def _joined(pieces: list[Piece]) -> tuple[str, list[int]]:
    text, origin = "", []
    for p in pieces:
        text += p.text
        origin += [p.pos] * len(p.text)
    return text, origin


def latex_text(text: str, shapes: Mapping | None = None) -> str:
    """The formula text (symgraph's syntax) a LaTeX formula reads as.

    Raises
    ------
    ParseError
        With the column in the LaTeX, for anything the reader does not accept.
    """
    return _joined(_Reader(text, shapes).read())[0]


def parse_latex(text: str, shapes: Mapping | None = None) -> sympy.Basic:
    r"""A LaTeX formula as the SymPy expression :func:`symgraph.parse.parse` makes.

    Examples
    --------
    >>> parse_latex(r"\frac{1}{1 + e^{-z}} \cdot |x|")
    Abs(x)/(1 + exp(-z))
    >>> parse_latex(r"\bar{\mathbf{z}} x^\top", shapes={"zbar": (3, 1), "x": (2, 1)}).shape
    (3, 2)
    >>> parse_latex(r"\frac{1}{x")
    Traceback (most recent call last):
    symgraph.parse.ParseError: line 1, column 11: incomplete formula (an operand is missing)
    """
    from . import parse_expr_text  # the package imports this module's users, not it

    code, origin = _joined(_Reader(text, shapes).read())
    try:
        return parse_expr_text(code, shapes)
    except ParseError as e:  # the formula parser's words, at the LaTeX's column
        column = e.column
        if column is not None and e.line == 1:
            column = (origin[column - 1] if column - 1 < len(origin) else len(text)) + 1
        raise ParseError(e.message, 1, column, e.hint, text) from None
