"""Text helpers shared by sources, matching and rendering: TeX to Unicode, name normalisation."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache

from pylatexenc.latex2text import LatexNodes2Text

_TEX_HINT = re.compile(r"[\\{}$]")
_UNESCAPED_PERCENT = re.compile(r"(?<!\\)%")
_latex = LatexNodes2Text(math_mode="with-delimiters", strict_latex_spaces=True)


def collapse_whitespace(text: str) -> str:
    """One space between words, none at the ends (feeds hard-wrap titles and abstracts)."""
    return " ".join(text.split())


@lru_cache(maxsize=65536)
def tex_to_unicode(text: str) -> str:
    """Turn TeX accents and escapes (``Andr\\'e``, ``{\\"o}``) into Unicode; plain text passes through.

    Math (``$...$``) is kept with its delimiters; turning math into Unicode is the renderer's job.
    """
    if not _TEX_HINT.search(text):
        return text
    try:  # in TeX "%" starts a comment; in a feed it is a percent sign
        return _latex.latex_to_text(_UNESCAPED_PERCENT.sub(r"\\%", text))
    except Exception:  # pylatexenc is lenient, but a feed can hold anything: keep the raw text
        return text


def strip_accents(text: str) -> str:
    """Remove combining marks: 'André' -> 'Andre'."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalize_name(name: str) -> str:
    """The key an author is matched on: TeX decoded, accents and case folded, punctuation to spaces.

    'Andr\\'e  Pérez-Ruiz' and 'andre perez ruiz' give the same key.
    """
    plain = strip_accents(tex_to_unicode(name)).casefold()
    plain = re.sub(r"[^\w\s]", " ", plain)
    return collapse_whitespace(plain)


# --- LaTeX math to Unicode, truncation and markdown helpers for the renderer -------------------------
#
# pylatexenc turns text-mode TeX (accents, escapes) into Unicode well, but its math mode is lossy for a
# reader: ``x^2`` stays ``x^2``, ``x_{ij}`` becomes ``x_ij``, ``\|x\|`` loses its bars and unknown macros
# vanish with their name. Math spans therefore go through the small converter below, which either
# produces faithful Unicode or says it can't (and the span is shown as inline code instead). pylatexenc
# still supplies its table of argument-less symbol macros for symbols our own table lacks.

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

    The renderer escapes each kind differently, so it needs them apart; it stops early once it has
    enough for a snippet, so this is lazy: a 20,000-character abstract is not converted whole.
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
    """``source`` as Discord inline code, with double backticks when it holds a backtick."""
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


def truncate(text: str, limit: int, ellipsis: str = "…") -> str:
    """``text`` cut to at most ``limit`` characters, at a word boundary when one is near, ellipsis
    included; text that fits is returned unchanged.
    """
    if len(text) <= limit:
        return text
    if limit <= len(ellipsis):
        return text[:max(limit, 0)]
    room = limit - len(ellipsis)
    cut = text[:room]
    if not text[room].isspace():
        boundary = max(cut.rfind(" "), cut.rfind("\n"))
        if boundary >= room - min(max(room // 4, 8), 60):
            cut = cut[:boundary]
    cut = cut.rstrip(" \n\t,;:")
    return (cut or text[:room]) + ellipsis


_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
HEADING_TEXT_MAX = 80  # a "# ..." line whose text is longer is body text, not a heading
LEAD_PHRASE_MAX = 40  # the lead of a long "# Lead - body" line shown bold (see markdown_headings_to_bold)
# A sentence ending inside the text: a letter, then . ! or ? (and closing quotes or brackets), then
# more words. "1. Introduction" (a digit before the dot) and "Why?" (nothing after) are not one.
_SENTENCE_BREAK = re.compile(r"[^\W\d_][.!?]+[\"'’”)\]]*\s+\S")
_LEAD_PHRASE = re.compile(r"^([^*_`\[\]~|\n]+?)[ \t]+([-–—])[ \t]+(\S.*)$", re.DOTALL)
_INLINE_HEADING = re.compile(r"[ \t]+(?=#{1,6}[ \t]+[^\s#])")
_CLOSING_HASHES = re.compile(r"[ \t]+#+[ \t]*$")


def _heading_title(text: str) -> str:
    """A heading's text without its bold markers (``**Bold** part`` -> ``Bold part``), for ``**...**``."""
    return text.replace("**", "").strip().strip("*").strip()


def is_heading_text(text: str) -> bool:
    """Whether a ``# ...`` line's text reads as a heading: at most :data:`HEADING_TEXT_MAX` (80)
    characters and no sentence ending inside it (``# Results`` and ``## 1. Method?`` are headings;
    ``# Keypoints - Proposes HIRO. - Uses ...``, a whole summary on one line, is not)."""
    text = text.strip()
    return 0 < len(text) <= HEADING_TEXT_MAX and not _SENTENCE_BREAK.search(text)


def _collapsed_part(text: str) -> str:
    """One part of a collapsed markdown line, its ``#`` marks dropped: a short plain lead phrase
    before a dash (an inline bullet follows) is bold, else a part that is only short heading text
    (at most 40 characters here: a longer part may well be a heading and its first sentence) is a
    bold heading, else it is body text."""
    heading = _HEADING.match(text)
    if heading is not None:
        text = heading.group(1).strip()
    lead = _LEAD_PHRASE.match(text)
    if lead is not None:
        phrase = lead.group(1).strip()
        if len(phrase) <= LEAD_PHRASE_MAX and is_heading_text(phrase):
            return f"**{phrase}** {lead.group(2)} {lead.group(3)}"
    title = _heading_title(text)
    if heading is not None and len(title) <= LEAD_PHRASE_MAX and is_heading_text(title):
        return f"**{title}**"
    return text


def _collapsed_markdown(line: str) -> str:
    """A ``# ...`` line too long to be a heading: a summary's markdown collapsed onto one line. It
    is split before each later ``# `` heading mark (outside inline code) into paragraphs of their
    own, each shown by :func:`_collapsed_part`."""
    parts: list[str] = []
    start = 0
    for match in _INLINE_HEADING.finditer(line):
        piece = line[start:match.start()]
        if (line[:match.start()].count("`") % 2) == 0 and piece.strip():
            parts.append(piece)
            start = match.end()
    parts.append(line[start:])
    return "\n\n".join(_collapsed_part(part.strip()) for part in parts if part.strip())


def markdown_headings_to_bold(text: str) -> str:
    """``# Keypoints`` -> ``**Keypoints**``: digests stay compact; code blocks are left alone.

    The heading rule: a ``# ...`` line becomes a bold heading only when its text
    :func:`is_heading_text`: at most 80 characters (:data:`HEADING_TEXT_MAX`) and no sentence
    ending inside it. A longer one is body text, typically a whole summary's markdown collapsed
    onto one line, as ShortScience's venue pages and feeds show it (``# Keypoints - Proposes ... -
    Uses ... # Results ...``), and is never made bold whole. It is split before each later
    `` # `` (a heading mark after a space, outside inline code) into paragraphs, each with its
    ``#`` marks dropped; in each, a short plain lead phrase before a dash (at most 40 characters,
    :data:`LEAD_PHRASE_MAX`) is made bold (``**Keypoints** - Proposes ...``), a part that is only
    such a short phrase is a bold heading, and the rest is plain text (inline bullets stay inline).
    """
    lines = text.split("\n")
    in_fence = False
    for i, line in enumerate(lines):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        heading = None if in_fence else _HEADING.match(line)
        if heading is None:
            continue
        title = _heading_title(heading.group(1))
        if not title:
            lines[i] = ""
        elif is_heading_text(title):
            lines[i] = f"**{title}**"
        else:
            lines[i] = _collapsed_markdown(_CLOSING_HASHES.sub("", line.strip()))
    return "\n".join(lines)


# --- a readable opening of markdown -------------------------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[^\W_][.!?])[\"'’”)\]*_]*(?=[ \t]+\S)")
_WORD_BEFORE = re.compile(r"(\S+?)[.!?]+[\"'’”)\]*_]*$")
_ABBREVIATIONS = frozenset({"e.g", "i.e", "al", "cf", "vs", "etc", "fig", "figs", "eq", "eqs", "sec",
                            "no", "approx", "resp", "ca", "dr", "mr", "ms", "prof", "st", "vol", "pp"})
_BOLD_ONLY_LINE = re.compile(r"^\*\*[^*\n]+\*\*$")
_OPEN_LINK_URL = re.compile(r"\]\([^)\n]*$")


def _inside_span(head: str) -> bool:
    """Whether ``head`` ends inside a code block, inline code or a masked link (label or URL)."""
    fences = head.count("```")
    if fences % 2 or (head.count("`") - 3 * fences) % 2:
        return True
    return head.count("[") > head.count("]") or bool(_OPEN_LINK_URL.search(head))


def _last_line(head: str) -> str:
    return head.rstrip().rsplit("\n", 1)[-1].strip()


def markdown_closers(text: str) -> str:
    """What closes the ``**``, ``__``, ``~~`` and ``||`` left open at the end of cut markdown."""
    return "".join(marker for marker in ("**", "__", "~~", "||") if text.count(marker) % 2)


def markdown_opening(text: str, limit: int, floor: int | None = None) -> str | None:
    """A readable opening of (rendered, safe) markdown ``text``, at most ``limit`` characters: cut at
    the end of the last line (a paragraph, a list item) or else of the last sentence that ends
    between ``floor`` (default: 3/4 of ``limit``) and ``limit``; then the closers of any bold,
    underline, strike or spoiler left open, then an ellipsis (on a line of its own after a line).

    None when ``text`` has no such boundary (the caller cuts at a word instead) or fits whole. Never
    cuts inside code or a masked link, after a bold heading line, or at a "sentence end" that is an
    abbreviation (e.g., et al.), an initial or a list number, or is followed by a lowercase word.
    """
    if len(text) <= limit:
        return None
    floor = limit * 3 // 4 if floor is None else floor
    room = limit - 2 - 8  # the ellipsis (and its newline or space) and up to four closers
    if room <= 0 or floor > room:
        return None
    window = text[:room + 1]
    for position in range(min(room, len(window) - 1), floor - 1, -1):
        if window[position] == "\n":
            head = window[:position].rstrip()
            if len(head) >= floor and not _inside_span(head) and not _BOLD_ONLY_LINE.match(_last_line(head)):
                return head + markdown_closers(head) + "\n…"
    for match in reversed(list(_SENTENCE_END.finditer(window))):
        head = window[:match.end()]
        if len(head) < floor:
            break
        if len(head) > room or _inside_span(head):
            continue
        word = _WORD_BEFORE.search(head)
        token = word.group(1).lstrip("([\"'*_").lower() if word else ""
        after = window[match.end():].lstrip()[:1]
        if token in _ABBREVIATIONS or len(token) <= 1 or after.islower():
            continue
        return head + markdown_closers(head) + " …"
    return None
