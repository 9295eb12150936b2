"""LaTeX math to Unicode: ``$x^2$`` -> ``x²``, or the span's source when Unicode would lose meaning.

pylatexenc turns text-mode TeX (accents, escapes) into Unicode well (:func:`bot.core.text.tex_to_unicode`),
but its math mode is lossy for a reader: ``x^2`` stays ``x^2``, ``x_{ij}`` becomes ``x_ij``, ``\\|x\\|``
loses its bars and unknown macros vanish with their name. Math spans therefore go through the small
converter here, which either produces faithful Unicode or says it can't (and the span is shown as
inline code instead). pylatexenc still supplies its table of argument-less symbol macros for
symbols our own table lacks.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache

from bot.core.text import collapse_whitespace

MathKind = str  # "text" (outside math, untouched) | "math" (converted Unicode) | "code" (math source)

_MATH_SPAN = re.compile(
    r"\$\$(?P<display>.+?)\$\$"
    r"|\\\[(?P<bracket>.+?)\\\]"
    r"|\\\((?P<paren>.+?)\\\)"
    # $...$ with TeX's escapes inside; no digit may follow the closing dollar, so "costs $5 and
    # $10" is not math (arXiv abstracts do write "$ x $" with spaces, so spaces are allowed).
    r"|(?<![\\$])\$(?P<inline>(?:[^$\\]|\\.)*?[^\s$\\](?:[^$\\]|\\.)*?)\$(?!\d)",
    re.DOTALL,
)
_MATH_TOKEN = re.compile(r"\\([A-Za-z]+)\*?|\\(.)|(\s+)|(.)", re.DOTALL)
_MAX_MATH_LENGTH = 1000  # longer spans are shown as source; they are formulas no reader wants as text


class _Lossy(Exception):
    """Raised inside the math converter when a span has no faithful Unicode rendering."""


_SYMBOLS: dict[str, str] = {
    # Greek
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ϵ", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "vartheta": "ϑ", "iota": "ι", "kappa": "κ",
    "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π", "varpi": "ϖ", "rho": "ρ",
    "varrho": "ϱ", "sigma": "σ", "varsigma": "ς", "tau": "τ", "upsilon": "υ", "phi": "ϕ",
    "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ",
    "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ", "Upsilon": "Υ", "Phi": "Φ", "Psi": "Ψ",
    "Omega": "Ω",
    # big operators and calculus
    "sum": "∑", "prod": "∏", "coprod": "∐", "int": "∫", "iint": "∬", "oint": "∮", "bigcup": "⋃",
    "bigcap": "⋂", "bigoplus": "⨁", "bigotimes": "⨂", "bigvee": "⋁", "bigwedge": "⋀",
    "partial": "∂", "nabla": "∇", "infty": "∞",
    # binary operators
    "pm": "±", "mp": "∓", "times": "×", "div": "÷", "cdot": "·", "ast": "∗", "star": "⋆",
    "circ": "∘", "bullet": "•", "oplus": "⊕", "ominus": "⊖", "otimes": "⊗", "odot": "⊙",
    "cup": "∪", "cap": "∩", "sqcup": "⊔", "setminus": "∖", "wedge": "∧", "land": "∧", "vee": "∨",
    "lor": "∨", "dagger": "†", "ddagger": "‡",
    # relations
    "leq": "≤", "le": "≤", "geq": "≥", "ge": "≥", "leqslant": "⩽", "geqslant": "⩾", "neq": "≠",
    "ne": "≠", "approx": "≈", "sim": "∼", "simeq": "≃", "cong": "≅", "equiv": "≡", "propto": "∝",
    "ll": "≪", "gg": "≫", "lesssim": "≲", "gtrsim": "≳", "prec": "≺", "succ": "≻",
    "preceq": "⪯", "succeq": "⪰", "in": "∈", "notin": "∉", "ni": "∋", "subset": "⊂",
    "subseteq": "⊆", "supset": "⊃", "supseteq": "⊇", "perp": "⊥", "parallel": "∥", "mid": "∣",
    "vdash": "⊢", "models": "⊨", "triangleq": "≜", "coloneqq": "≔", "doteq": "≐",
    # arrows
    "to": "→", "rightarrow": "→", "leftarrow": "←", "gets": "←", "leftrightarrow": "↔",
    "Rightarrow": "⇒", "Leftarrow": "⇐", "Leftrightarrow": "⇔", "implies": "⟹", "iff": "⟺",
    "mapsto": "↦", "longrightarrow": "⟶", "longmapsto": "⟼", "uparrow": "↑", "downarrow": "↓",
    "hookrightarrow": "↪",
    # logic, sets, misc
    "forall": "∀", "exists": "∃", "nexists": "∄", "neg": "¬", "lnot": "¬", "emptyset": "∅",
    "varnothing": "∅", "top": "⊤", "bot": "⊥", "ell": "ℓ", "hbar": "ℏ", "Re": "ℜ", "Im": "ℑ",
    "aleph": "ℵ", "wp": "℘", "angle": "∠", "triangle": "△", "prime": "′", "degree": "°",
    "checkmark": "✓", "ldots": "…", "dots": "…", "cdots": "⋯", "vdots": "⋮", "ddots": "⋱",
    # delimiters
    "langle": "⟨", "rangle": "⟩", "lceil": "⌈", "rceil": "⌉", "lfloor": "⌊", "rfloor": "⌋",
    "vert": "|", "lvert": "|", "rvert": "|", "Vert": "‖", "lVert": "‖", "rVert": "‖",
    "lbrace": "{", "rbrace": "}", "backslash": "∖",
}
_ESCAPED_CHARS = {"{": "{", "}": "}", "|": "‖", "%": "%", "#": "#", "$": "$", "&": "&", "_": "_",
                  ",": " ", ";": " ", ":": " ", " ": " ", "!": "", "\\": " "}
_SPACES = {"quad": " ", "qquad": "  ", "enspace": " ", "thinspace": " ", "medspace": " ",
           "thickspace": " "}
_IGNORED = frozenset({"displaystyle", "textstyle", "scriptstyle", "limits", "nolimits", "nonumber",
                      "notag", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl",
                      "biggr", "Biggl", "Biggr", "left", "right", "middle", "rm", "it", "bf", "cal",
                      "mathstrut", "strut"})
_OPERATORS = frozenset({"log", "ln", "lg", "exp", "sin", "cos", "tan", "sec", "csc", "cot", "sinh",
                        "cosh", "tanh", "arcsin", "arccos", "arctan", "max", "min", "sup", "inf",
                        "lim", "liminf", "limsup", "arg", "argmax", "argmin", "det", "dim", "ker",
                        "deg", "gcd", "hom", "Pr", "mod", "bmod", "tr", "Tr", "diag", "rank", "sgn"})
_TEXT_MACROS = frozenset({"text", "textrm", "textit", "textsf", "texttt", "textnormal",
                          "mbox", "hbox", "mathrm", "operatorname", "mathop", "emph", "textup"})
_ACCENTS = {"hat": "\u0302", "widehat": "\u0302", "tilde": "\u0303", "widetilde": "\u0303",
            "bar": "\u0304", "overline": "\u0305", "vec": "\u20d7", "overrightarrow": "\u20d7",
            "dot": "\u0307", "ddot": "\u0308", "check": "\u030c", "breve": "\u0306",
            "acute": "\u0301", "grave": "\u0300", "underline": "\u0332", "mathring": "\u030a"}
_MULTI_CHAR_ACCENTS = frozenset({"overline", "underline"})  # continuous lines: fine over several
# Unicode style names for math fonts; each letter is looked up, with the Letterlike Symbols block as
# the fallback for the holes in the Mathematical Alphanumeric block (ℝ, ℒ, ℭ, ...).
_FONTS = {"mathcal": "BOLD SCRIPT", "mathscr": "SCRIPT", "mathbb": "DOUBLE-STRUCK",
          "mathbf": "BOLD", "textbf": "BOLD", "boldsymbol": "BOLD", "bm": "BOLD", "mathfrak": "FRAKTUR",
          "mathsf": "SANS-SERIF", "mathtt": "MONOSPACE", "mathit": "ITALIC"}
_LETTERLIKE_PREFIX = {"SCRIPT": "SCRIPT", "DOUBLE-STRUCK": "DOUBLE-STRUCK", "FRAKTUR": "BLACK-LETTER"}
_DIGIT_NAMES = ("ZERO", "ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN", "EIGHT", "NINE")

_SUPERSCRIPTS = dict(zip(
    "0123456789+-−=()abcdefghijklmnoprstuvwxyzABDEGHIJKLMNOPRTUVWαβγδεϵθιφϕχ′″*†⊤∘∗",
    "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂᵅᵝᵞᵟᵋᵋᶿᶥᵠᵠᵡ′″*†ᵀ°*",
    strict=True))
_SUBSCRIPTS = dict(zip(
    "0123456789+-−=()aehijklmnoprstuvxβγρφϕχ",
    "₀₁₂₃₄₅₆₇₈₉₊₋₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓᵦᵧᵨᵩᵩᵪ",
    strict=True))


@lru_cache(maxsize=4096)
def _styled(char: str, style: str) -> str:
    """``char`` in a Unicode math style (``R`` in DOUBLE-STRUCK is ℝ); other characters unchanged."""
    if char.isascii() and char.isalpha():
        case = "CAPITAL" if char.isupper() else "SMALL"
        names = [f"MATHEMATICAL {style} {case} {char.upper()}"]
        if style in _LETTERLIKE_PREFIX:
            names.append(f"{_LETTERLIKE_PREFIX[style]} {case} {char.upper()}")
        if style == "ITALIC" and char == "h":
            names.append("PLANCK CONSTANT")
    elif char.isascii() and char.isdigit():
        names = [f"MATHEMATICAL {style} DIGIT {_DIGIT_NAMES[int(char)]}"]
    else:
        return char
    for name in names:
        try:
            return unicodedata.lookup(name)
        except KeyError:
            continue
    return char


@lru_cache(maxsize=1)
def _pylatexenc_symbols() -> dict[str, str]:
    """pylatexenc's argument-less macros that stand for a fixed symbol (``\\nexists`` -> ∄)."""
    from pylatexenc.latex2text import get_default_latex_context_db

    symbols: dict[str, str] = {}
    for category in get_default_latex_context_db().categories():
        for spec in get_default_latex_context_db().iter_macro_specs(categories=[category]):
            repl = getattr(spec, "simplify_repl", None)
            if isinstance(repl, str) and repl.strip() and "%" not in repl and len(repl) <= 3:
                symbols[spec.macroname] = repl
    return symbols


class _MathConverter:
    """Recursive descent over one math span's tokens; raises :class:`_Lossy` when it must give up."""

    def __init__(self, source: str) -> None:
        self.tokens = [(m.group(1), m.group(2), m.group(3), m.group(4))
                       for m in _MATH_TOKEN.finditer(source)]
        self.pos = 0

    def convert(self) -> str:
        text = self._sequence(closing=None)
        return unicodedata.normalize("NFC", re.sub(r" {2,}", " ", text).strip())

    def _next(self) -> tuple[str | None, str | None, str | None, str | None]:
        if self.pos >= len(self.tokens):
            raise _Lossy("unexpected end of math")
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def _peek_char(self) -> str | None:
        return self.tokens[self.pos][3] if self.pos < len(self.tokens) else None

    def _skip_spaces(self) -> None:
        while self.pos < len(self.tokens) and self.tokens[self.pos][2] is not None:
            self.pos += 1

    def _sequence(self, closing: str | None) -> str:
        """Items up to ``closing`` (consumed) or the end when ``closing`` is None."""
        parts: list[str] = []
        while self.pos < len(self.tokens):
            if closing is not None and self._peek_char() == closing:
                self.pos += 1
                return "".join(parts)
            parts.append(self._item())
        if closing is not None:
            raise _Lossy("unbalanced group")
        return "".join(parts)

    def _item(self) -> str:
        command, escaped, space, char = self._next()
        if space is not None:
            return " "
        if command is not None:
            return self._command(command)
        if escaped is not None:
            return self._escaped(escaped)
        assert char is not None
        return self._char(char)

    def _char(self, char: str) -> str:
        if char == "^":
            return _scripted(self._argument(), _SUPERSCRIPTS)
        if char == "_":
            return _scripted(self._argument(), _SUBSCRIPTS)
        if char == "{":
            return self._sequence(closing="}")
        if char in "}&#%":
            raise _Lossy(f"{char} outside its place")
        return " " if char == "~" else char

    def _escaped(self, char: str) -> str:
        if char not in _ESCAPED_CHARS:
            raise _Lossy(f"unknown escape \\{char}")
        return _ESCAPED_CHARS[char]

    def _argument(self) -> str:
        """One macro or script argument: a group, a command with its arguments, or one character."""
        self._skip_spaces()
        command, escaped, _space, char = self._next()
        if command is not None:
            return self._command(command)
        if escaped is not None:
            return self._escaped(escaped)
        assert char is not None
        if char == "{":
            return self._sequence(closing="}")
        if char in "^_}&#%":
            raise _Lossy(f"{char} where an argument belongs")
        return char

    def _command(self, name: str) -> str:
        if name in _SYMBOLS:
            return _SYMBOLS[name]
        if name in _SPACES:
            return _SPACES[name]
        if name in _IGNORED:
            return self._delimiter() if name in {"left", "right", "middle"} else ""
        if name in _OPERATORS:
            return name
        if name in _TEXT_MACROS:
            return self._argument()
        if name in _FONTS:
            return "".join(_styled(c, _FONTS[name]) for c in self._argument())
        if name in _ACCENTS:
            return self._accent(name)
        if name in {"frac", "dfrac", "tfrac", "cfrac"}:
            return f"{_wrapped(self._argument())}/{_wrapped(self._argument())}"
        if name == "sqrt":
            return self._sqrt()
        if name in {"begin", "end", "label", "ref", "eqref", "cite"}:
            raise _Lossy(f"\\{name}")
        symbol = _pylatexenc_symbols().get(name)
        if symbol is None:
            raise _Lossy(f"unknown macro \\{name}")
        return symbol

    def _delimiter(self) -> str:
        """The delimiter after ``\\left``/``\\right``; ``.`` is the invisible one."""
        if self._peek_char() == ".":
            self.pos += 1
        return ""

    def _accent(self, name: str) -> str:
        base = self._argument()
        if len(base) == 1 or (base and name in _MULTI_CHAR_ACCENTS):
            return "".join(c + _ACCENTS[name] for c in base)
        raise _Lossy(f"\\{name} over {base!r}")

    def _sqrt(self) -> str:
        root = "√"
        if self._peek_char() == "[":
            self.pos += 1
            index = self._sequence(closing="]").strip()
            roots = {"2": "√", "3": "∛", "4": "∜"}
            if index not in roots:
                raise _Lossy("root index")
            root = roots[index]
        return root + _wrapped(self._argument())


def _scripted(text: str, table: dict[str, str]) -> str:
    """``text`` as super- or subscript characters, or :class:`_Lossy` if one has none."""
    text = text.replace(" ", "")
    if not text or any(c not in table for c in text):
        raise _Lossy(f"no script form for {text!r}")
    return "".join(table[c] for c in text)


def _wrapped(text: str) -> str:
    """A fraction or root operand, bracketed when it is more than one symbol: ``(a+b)/2``."""
    text = text.strip()
    simple = len(text) <= 1 or text.isalnum() or (text.startswith("(") and text.endswith(")"))
    return text if simple else f"({text})"


@lru_cache(maxsize=16384)
def math_to_unicode(source: str) -> str | None:
    """One math span's content (no delimiters) as Unicode, or None when that would lose meaning."""
    if len(source) > _MAX_MATH_LENGTH:
        return None
    try:
        return _MathConverter(source).convert() or None
    except (_Lossy, RecursionError):
        return None
    except Exception:  # a converter bug must never take a digest down; show the source instead
        return None


def iter_latex_segments(text: str) -> Iterator[tuple[MathKind, str]]:
    """Split ``text`` into ("text", original) / ("math", Unicode) / ("code", math source) parts.

    The renderers escape each kind differently, so they need them apart; they stop early once they
    have enough for a snippet, so this is lazy: a 20,000-character abstract is not converted whole.
    """
    last = 0
    for match in _MATH_SPAN.finditer(text):
        if match.start() > last:
            yield "text", text[last:match.start()]
        source = next(g for g in match.groups() if g is not None)
        converted = math_to_unicode(source)
        if converted is None:
            yield "code", collapse_whitespace(source)
        else:
            yield "math", converted
        last = match.end()
    if last < len(text):
        yield "text", text[last:]


def latex_segments(text: str) -> list[tuple[MathKind, str]]:
    """All of :func:`iter_latex_segments`; :func:`latex_to_unicode` joins them back."""
    return list(iter_latex_segments(text))


def inline_code(source: str) -> str:
    """``source`` as markdown inline code (double backticks when it holds one): how a math span
    without a faithful Unicode form is shown, in Discord and on a terminal alike."""
    source = source.replace("\n", " ")
    if "`" not in source:
        return f"`{source}`"
    return f"`` {source.replace('``', '` `')} ``"


def latex_to_unicode(text: str) -> str:
    """Math spans (``$...$``, ``$$...$$``, ``\\(...\\)``, ``\\[...\\]``) as Unicode; text outside math is
    left alone. A span without a faithful Unicode form stays as its source in inline code. Never
    raises: a feed can hold anything.
    """
    try:
        return "".join(inline_code(part) if kind == "code" else part
                       for kind, part in latex_segments(text))
    except Exception:
        return text
