"""Hydra's command-line override grammar, read statically (no hydra, no antlr, no regex of user text).

detectron2's `LazyConfig.apply_overrides` parses `--opts` with hydra-core's
`OverridesParser.create().parse_overrides(...)` (hydra `grammar/OverrideLexer.g4` and
`OverrideParser.g4`, 1.3) and then, for each override, takes `o.key_or_group` and `o.value()`;
it refuses deletions (`~key`) and ignores the `+`/`++` prefixes (they set the key like a plain
override). This module reproduces that: a hand-written longest-match lexer with the grammar's two
modes (key, value), a recursive-descent parser for the rules, and the visitor's conversions
(`_createPrimitive`, quoted-string unescaping, the cast/sort/shuffle/glob functions). Every step
is linear in the length of the override.

Where hydra produces a sweep (`a,b`, `choice(...)`, `range(...)`, `interval(...)`, `tag(...)`),
detectron2 then fails inside OmegaConf; we refuse those with a message that says so.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple

from cfglint.errors import CfglintError, UnsupportedError

#: Where a command-line override is said to come from in error messages (line = its position).
OVERRIDE_FILE = "<override>"

#: Deepest list/dict/function nesting read (hydra's antlr parser recurses too; we stop cleanly).
MAX_NESTING = 100

CHANGE, ADD, FORCE_ADD, DELETE = "change", "add", "force_add", "delete"

_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGITS = frozenset("0123456789")
_WS = frozenset(" \t")
_ID_START = _LETTERS | {"_"}
_ID_PART = _LETTERS | _DIGITS | {"_", "-"}
_SPECIAL_START = _ID_START | {"$"}
_SPECIAL_PART = _ID_PART | {"$"}
_UNQUOTED_CHARS = frozenset("/-\\+.$%*@?|")
_ESC_CHARS = frozenset("\\()[]{}:=, \t")


class OverrideSyntaxError(CfglintError):
    """The override is not in hydra's grammar (hydra raises OverrideParseException)."""


@dataclass
class Override:
    kind: str               # CHANGE, ADD, FORCE_ADD or DELETE
    key: str                # `key_or_group`, as detectron2 uses it (a `@package` is dropped)
    package: Optional[str]
    value: Any              # `Override.value()`: plain Python data (quoted strings unquoted)
    has_value: bool         # False only for `~key`


class _Quoted(str):
    """A quoted string before `Override.value()` unquotes it (hydra's QuotedString)."""


class _Sweep:
    def __init__(self, what: str) -> None:
        self.what = what


class _Glob:
    def __init__(self, include: List[Any], exclude: List[Any]) -> None:
        self.include, self.exclude = include, exclude


# ---- lexer ---------------------------------------------------------------------------------------
# token types
EQUAL, TILDE, PLUS, AT, COLON, SLASH, ID, KEY_SPECIAL, DOT_PATH = (
    "EQUAL", "TILDE", "PLUS", "AT", "COLON", "SLASH", "ID", "KEY_SPECIAL", "DOT_PATH")
POPEN, COMMA, PCLOSE, BRACKET_OPEN, BRACKET_CLOSE, BRACE_OPEN, BRACE_CLOSE = (
    "POPEN", "COMMA", "PCLOSE", "BRACKET_OPEN", "BRACKET_CLOSE", "BRACE_OPEN", "BRACE_CLOSE")
FLOAT, INT, BOOL, NULL, UNQUOTED_CHAR, ESC, WS, QUOTED_VALUE, INTERPOLATION = (
    "FLOAT", "INT", "BOOL", "NULL", "UNQUOTED_CHAR", "ESC", "WS", "QUOTED_VALUE", "INTERPOLATION")
EOF = "EOF"


@dataclass
class _Token:
    type: str
    text: str
    start: int


def _ws(s: str, i: int) -> int:
    j = i
    while j < len(s) and s[j] in _WS:
        j += 1
    return j


def _int_unsigned(s: str, i: int) -> int:
    """End of INT_UNSIGNED at i ('0' | [1-9] ('_'? DIGIT)*), or -1."""
    if i >= len(s) or s[i] not in _DIGITS:
        return -1
    if s[i] == "0":
        return i + 1
    return _digit_run(s, i)


def _digit_run(s: str, i: int) -> int:
    """End of DIGIT ('_'? DIGIT)* at i, or -1."""
    if i >= len(s) or s[i] not in _DIGITS:
        return -1
    j = i + 1
    while j < len(s):
        if s[j] in _DIGITS:
            j += 1
        elif s[j] == "_" and j + 1 < len(s) and s[j + 1] in _DIGITS:
            j += 2
        else:
            break
    return j


def _float(s: str, i: int) -> int:
    """End of the longest FLOAT at i, or -1."""
    j = i
    if j < len(s) and s[j] in "+-":
        j += 1
    word = s[j:j + 3].lower()
    best = j + 3 if word in ("inf", "nan") else -1
    mantissas = []        # (end, is_point_float)
    iu = _int_unsigned(s, j)
    if iu >= 0:
        mantissas.append((iu, False))
        if iu < len(s) and s[iu] == ".":
            frac = _digit_run(s, iu + 1)
            mantissas.append((frac if frac >= 0 else iu + 1, True))
    elif j < len(s) and s[j] == ".":
        frac = _digit_run(s, j + 1)
        if frac >= 0:
            mantissas.append((frac, True))
    for end, is_point in mantissas:
        if is_point:
            best = max(best, end)
        if end < len(s) and s[end] in "eE":
            k = end + 1
            if k < len(s) and s[k] in "+-":
                k += 1
            exp = _digit_run(s, k)
            if exp >= 0:
                best = max(best, exp)
    return best


def _int(s: str, i: int) -> int:
    j = i + 1 if i < len(s) and s[i] in "+-" else i
    return _int_unsigned(s, j)


def _word(s: str, i: int, start: frozenset, part: frozenset) -> int:
    if i >= len(s) or s[i] not in start:
        return -1
    j = i + 1
    while j < len(s) and s[j] in part:
        j += 1
    return j


def _esc(s: str, i: int) -> int:
    j = i
    while j + 1 < len(s) and s[j] == "\\" and s[j + 1] in _ESC_CHARS:
        j += 2
    return j if j > i else -1


def _quoted(s: str, i: int) -> int:
    """QUOTED_VALUE: up to the first same quote preceded by an even number of backslashes."""
    if i >= len(s) or s[i] not in "'\"":
        return -1
    quote = s[i]
    backslashes = 0
    for j in range(i + 1, len(s)):
        char = s[j]
        if char == quote and backslashes % 2 == 0:
            return j + 1
        backslashes = backslashes + 1 if char == "\\" else 0
    return -1


def _interpolation(s: str, i: int) -> int:
    if not s.startswith("${", i):
        return -1
    close = s.find("}", i + 2)
    return close + 1 if close > i + 2 else -1


def _punct(s: str, i: int, char: str, before: bool, after: bool) -> int:
    j = _ws(s, i) if before else i
    if j >= len(s) or s[j] != char:
        return -1
    return _ws(s, j + 1) if after else j + 1


def _keyword(s: str, i: int, words: Tuple[str, ...]) -> int:
    for word in words:
        if s[i:i + len(word)].lower() == word:
            return i + len(word)
    return -1


def _dot_path(s: str, i: int) -> int:
    def segment(k: int) -> int:
        end = _word(s, k, _SPECIAL_START, _SPECIAL_PART)
        return end if end >= 0 else _int_unsigned(s, k)
    j = segment(i)
    if j < 0:
        return -1
    dots = 0
    while j < len(s) and s[j] == ".":
        nxt = segment(j + 1)
        if nxt < 0:
            break
        j, dots = nxt, dots + 1
    return j if dots else -1


# Rules of each mode in grammar order (ties of equal length go to the earlier rule).
_KEY_RULES: List[Tuple[str, Callable[[str, int], int]]] = [
    (EQUAL, lambda s, i: _punct(s, i, "=", False, True)),
    (TILDE, lambda s, i: i + 1 if s[i] == "~" else -1),
    (PLUS, lambda s, i: i + 1 if s[i] == "+" else -1),
    (AT, lambda s, i: i + 1 if s[i] == "@" else -1),
    (COLON, lambda s, i: i + 1 if s[i] == ":" else -1),
    (SLASH, lambda s, i: i + 1 if s[i] == "/" else -1),
    (ID, lambda s, i: _word(s, i, _ID_START, _ID_PART)),
    (KEY_SPECIAL, lambda s, i: _word(s, i, _SPECIAL_START, _SPECIAL_PART)),
    (DOT_PATH, _dot_path),
]
_VALUE_RULES: List[Tuple[str, Callable[[str, int], int]]] = [
    (POPEN, lambda s, i: _punct(s, i, "(", True, True)),
    (COMMA, lambda s, i: _punct(s, i, ",", True, True)),
    (PCLOSE, lambda s, i: _punct(s, i, ")", True, False)),
    (BRACKET_OPEN, lambda s, i: _punct(s, i, "[", False, True)),
    (BRACKET_CLOSE, lambda s, i: _punct(s, i, "]", True, False)),
    (BRACE_OPEN, lambda s, i: _punct(s, i, "{", False, True)),
    (BRACE_CLOSE, lambda s, i: _punct(s, i, "}", True, False)),
    (COLON, lambda s, i: _punct(s, i, ":", True, True)),
    (EQUAL, lambda s, i: _punct(s, i, "=", True, True)),
    (FLOAT, _float),
    (INT, _int),
    (BOOL, lambda s, i: _keyword(s, i, ("true", "false"))),
    (NULL, lambda s, i: _keyword(s, i, ("null",))),
    (UNQUOTED_CHAR, lambda s, i: i + 1 if s[i] in _UNQUOTED_CHARS else -1),
    (ID, lambda s, i: _word(s, i, _ID_START, _ID_PART)),
    (ESC, _esc),
    (WS, lambda s, i: _ws(s, i) if s[i] in _WS else -1),
    (QUOTED_VALUE, _quoted),
    (INTERPOLATION, _interpolation),
]


_NUMBER_START = _DIGITS | set("+-.")
_FIRST_CHARS: Dict[str, frozenset] = {
    POPEN: _WS | {"("}, COMMA: _WS | {","}, PCLOSE: _WS | {")"}, BRACKET_OPEN: frozenset("["),
    BRACKET_CLOSE: _WS | {"]"}, BRACE_OPEN: frozenset("{"), BRACE_CLOSE: _WS | {"}"}, COLON: _WS | {":"},
    EQUAL: _WS | {"="}, FLOAT: _NUMBER_START | set("iInN"), INT: _DIGITS | set("+-"), BOOL: frozenset("tTfF"),
    NULL: frozenset("nN"), UNQUOTED_CHAR: _UNQUOTED_CHARS, ID: _ID_START, ESC: frozenset("\\"), WS: _WS,
    QUOTED_VALUE: frozenset("'\""), INTERPOLATION: frozenset("$"), TILDE: frozenset("~"), PLUS: frozenset("+"),
    AT: frozenset("@"), SLASH: frozenset("/"), KEY_SPECIAL: _SPECIAL_START, DOT_PATH: _SPECIAL_START | _DIGITS,
}


def _by_first_char(rules: List[Tuple[str, Callable[[str, int], int]]]) -> Dict[str, List[Tuple[str, Callable]]]:
    """For each character, the rules (in grammar order) whose tokens can start with it."""
    table: Dict[str, List[Tuple[str, Callable]]] = {}
    for token_type, match in rules:
        firsts = _FIRST_CHARS[token_type] if not (rules is _KEY_RULES and token_type == COLON) else frozenset(":")
        if rules is _KEY_RULES and token_type == EQUAL:
            firsts = frozenset("=")
        for char in firsts:
            table.setdefault(char, []).append((token_type, match))
    return table


_KEY_TABLE = _by_first_char(_KEY_RULES)
_VALUE_TABLE = _by_first_char(_VALUE_RULES)


def tokenize(text: str, position: int = 1) -> List[_Token]:
    """The token stream hydra's OverrideLexer produces (key mode until the first `=`)."""
    tokens: List[_Token] = []
    rules = _KEY_TABLE
    last_close = text.rfind("}")   # an interpolation needs a `}` after it: keeps lexing linear
    i = 0
    while i < len(text):
        best_end, best_type = -1, ""
        for token_type, match in rules.get(text[i], ()):
            if token_type == INTERPOLATION and last_close < i + 3:
                continue
            end = match(text, i)
            if end > best_end:
                best_end, best_type = end, token_type
        if best_end <= i:
            raise OverrideSyntaxError(f"override {text!r}: unexpected character {text[i]!r} at column {i + 1} "
                                      "(hydra's override grammar)", OVERRIDE_FILE, position)
        tokens.append(_Token(best_type, text[i:best_end], i))
        if rules is _KEY_TABLE and best_type == EQUAL:
            rules = _VALUE_TABLE
        i = best_end
    tokens.append(_Token(EOF, "", len(text)))
    return tokens


# ---- parser --------------------------------------------------------------------------------------
_PRIMITIVE_TOKENS = frozenset({ID, NULL, INT, FLOAT, BOOL, INTERPOLATION, UNQUOTED_CHAR, COLON, ESC, WS})
_DICT_KEY_TOKENS = frozenset({ID, NULL, INT, FLOAT, BOOL, UNQUOTED_CHAR, ESC, WS})


class _Parser:
    def __init__(self, text: str, position: int) -> None:
        self.text = text
        self.position = position
        self.tokens = tokenize(text, position)
        self.i = 0
        self.depth = 0

    def peek(self, ahead: int = 0) -> _Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def take(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def fail(self, message: Optional[str] = None) -> OverrideSyntaxError:
        token = self.peek()
        what = "the end" if token.type == EOF else repr(token.text)
        detail = message or f"unexpected {what} at column {token.start + 1}"
        return OverrideSyntaxError(f"override {self.text!r}: {detail} (hydra's override grammar)",
                                   OVERRIDE_FILE, self.position)

    def expect(self, token_type: str) -> _Token:
        if self.peek().type != token_type:
            raise self.fail()
        return self.take()

    # override: key EQUAL value? | TILDE key (EQUAL value?)? | PLUS PLUS? key EQUAL value?
    def override(self) -> Override:
        kind = CHANGE
        if self.peek().type == TILDE:
            self.take()
            kind = DELETE
        elif self.peek().type == PLUS:
            self.take()
            kind = ADD
            if self.peek().type == PLUS:
                self.take()
                kind = FORCE_ADD
        key, package = self.key()
        has_value, value = True, ""
        if kind == DELETE and self.peek().type == EOF:
            has_value, value = False, None
        else:
            self.expect(EQUAL)
            if self.peek().type != EOF:
                value = self.value()
        self.expect(EOF)
        return Override(kind, key, package, _convert(value), has_value)

    # key: packageOrGroup (AT package)?; packageOrGroup: package | ID (SLASH ID)+
    def key(self) -> Tuple[str, Optional[str]]:
        if self.peek().type == ID and self.peek(1).type == SLASH:
            parts = [self.take().text]
            while self.peek().type == SLASH:
                self.take()
                parts.append(self.expect(ID).text)
            key = "/".join(parts)
        else:
            key = self.package()
        package = None
        if self.peek().type == AT:
            self.take()
            package = self.package()
        return key, package

    def package(self) -> str:
        if self.peek().type in (ID, KEY_SPECIAL, DOT_PATH):
            return self.take().text
        return ""

    # value: element | element (COMMA element)+
    def value(self) -> Any:
        first = self.element()
        if self.peek().type != COMMA:
            return first
        while self.peek().type == COMMA:
            self.take()
            self.element()
        return _Sweep("a comma-separated sweep")

    def element(self) -> Any:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.fail(f"the value nests more than {MAX_NESTING} levels deep")
        try:
            return self._element()
        finally:
            self.depth -= 1

    def _element(self) -> Any:
        token = self.peek()
        if token.type == ID and self.peek(1).type == POPEN:
            return self.function()
        if token.type == BRACKET_OPEN:
            return self.list_container()
        if token.type == BRACE_OPEN:
            return self.dict_container()
        if token.type == QUOTED_VALUE:
            self.take()
            return _unescape_quoted(token.text)
        if token.type in _PRIMITIVE_TOKENS:
            return self.primitive(_PRIMITIVE_TOKENS)
        raise self.fail()

    def primitive(self, allowed: frozenset) -> Any:
        run: List[_Token] = []
        while self.peek().type in allowed:
            run.append(self.take())
        if not run:
            raise self.fail()
        return self._create_primitive(run)

    def _create_primitive(self, run: List[_Token]) -> Any:
        first, last = 0, len(run)
        if run[0].type == WS:
            if last == 1:
                raise self.fail("a value that is all whitespace")
            first = 1
        if run[-1].type == WS:
            last -= 1
        if last - first > 1:
            return "".join(t.text[1::2] if t.type == ESC else t.text for t in run[first:last])
        token = run[first]
        if token.type == INT:
            return int(token.text)
        if token.type == FLOAT:
            return float(token.text)
        if token.type == NULL:
            return None
        if token.type == BOOL:
            return token.text.lower() == "true"
        if token.type == ESC:
            return token.text[1::2]
        return token.text

    def list_container(self) -> List[Any]:
        self.expect(BRACKET_OPEN)
        out: List[Any] = []
        if self.peek().type != BRACKET_CLOSE:
            out.append(self.element())
            while self.peek().type == COMMA:
                self.take()
                out.append(self.element())
        self.expect(BRACKET_CLOSE)
        return out

    def dict_container(self) -> Dict[Any, Any]:
        self.expect(BRACE_OPEN)
        out: Dict[Any, Any] = {}
        if self.peek().type != BRACE_CLOSE:
            while True:
                key = self.primitive(_DICT_KEY_TOKENS)
                self.expect(COLON)
                out[key] = self.element()
                if self.peek().type != COMMA:
                    break
                self.take()
        self.expect(BRACE_CLOSE)
        return out

    # function: ID POPEN (argName? element (COMMA argName? element)*)? PCLOSE; argName: ID EQUAL
    def function(self) -> Any:
        start = self.peek().start
        name = self.take().text
        self.expect(POPEN)
        args: List[Any] = []
        kwargs: Dict[str, Any] = {}
        if self.peek().type != PCLOSE:
            while True:
                if self.peek().type == ID and self.peek(1).type == EQUAL:
                    arg_name = self.take().text
                    self.take()
                    kwargs[arg_name] = self.element()
                else:
                    if kwargs:
                        raise self.fail("positional argument follows keyword argument")
                    args.append(self.element())
                if self.peek().type != COMMA:
                    break
                self.take()
        end = self.expect(PCLOSE).start + 1
        try:
            return _call(name, args, kwargs)
        except (TypeError, ValueError, OverflowError, AssertionError) as exc:
            raise self.fail(f"{type(exc).__name__} while evaluating {self.text[start:end]!r}: {exc}") from None


def _unescape_quoted(text: str) -> _Quoted:
    """hydra's `_unescape_quoted_string`: a run of n backslashes before a quote keeps every other one."""
    quote = text[0]
    body = text[1:-1]
    out: List[str] = []
    i = 0
    while i < len(body):
        if body[i] == "\\":
            j = i
            while j < len(body) and body[j] == "\\":
                j += 1
            run = j - i
            if j < len(body) and body[j] == quote:      # escaped quote in the middle: odd run
                out.append("\\" * (run // 2) + quote)
                i = j + 1
            elif j == len(body):                        # trailing backslashes before the closing quote
                out.append("\\" * (run // 2))
                i = j
            else:
                out.append(body[i:j])
                i = j
        else:
            out.append(body[i])
            i += 1
    return _Quoted("".join(out))


# ---- grammar functions (hydra/_internal/grammar/grammar_functions.py) ----------------------------
def _normalize_cast_value(args: List[Any], kwargs: Dict[str, Any]) -> Any:
    extra = set(kwargs) - {"value"}
    if extra:
        raise TypeError(f"got an unexpected keyword argument {sorted(extra)[0]!r}")
    value = kwargs.get("value")
    if args and value is not None:
        raise TypeError("cannot use both position and named arguments")
    if value is not None:
        return value
    if not args:
        raise TypeError("No positional args or value specified")
    if len(args) > 1:
        return _Sweep("a choice sweep")
    return args[0]


def _cast(convert: Callable[[Any], Any]) -> Callable[[List[Any], Dict[str, Any]], Any]:
    def apply(value: Any) -> Any:
        if isinstance(value, _Sweep):
            return value
        if isinstance(value, _Glob):
            raise TypeError("a glob cannot be cast")
        if isinstance(value, dict):
            return {k: apply(v) for k, v in value.items()}
        if isinstance(value, list):
            return [apply(v) for v in value]
        return convert(str(value) if isinstance(value, _Quoted) else value)

    def call(args: List[Any], kwargs: Dict[str, Any]) -> Any:
        return apply(_normalize_cast_value(args, kwargs))
    return call


def _to_int(value: Any) -> int:
    assert isinstance(value, (int, float, bool, str)), f"cannot cast {type(value).__name__}"
    return int(value)


def _to_float(value: Any) -> float:
    assert isinstance(value, (int, float, bool, str)), f"cannot cast {type(value).__name__}"
    return float(value)


def _to_str(value: Any) -> str:
    assert isinstance(value, (int, float, bool, str)), f"cannot cast {type(value).__name__}"
    return str(value).lower() if isinstance(value, bool) else str(value)


def _to_bool(value: Any) -> bool:
    if isinstance(value, str):
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ValueError(f"Cannot cast '{value}' to bool")
    return bool(value)


def _check_element_args(args: List[Any], kwargs: Dict[str, Any]) -> None:
    """Functions.eval's type checks of sort/shuffle: `*args` are ElementType or sweeps (not null),
    `list=` a list (or null), `sweep=` a sweep (or null)."""
    if any(a is None or isinstance(a, _Glob) for a in args):
        raise TypeError("mismatch type argument args")
    if kwargs.get("list") is not None and not isinstance(kwargs["list"], list):
        raise TypeError("mismatch type argument list")
    if kwargs.get("sweep") is not None and not isinstance(kwargs["sweep"], _Sweep):
        raise TypeError("mismatch type argument sweep")


def _sort(args: List[Any], kwargs: Dict[str, Any]) -> Any:
    extra = set(kwargs) - {"sweep", "list", "reverse"}
    if extra:
        raise TypeError(f"got an unexpected keyword argument {sorted(extra)[0]!r}")
    reverse = kwargs.get("reverse", False)
    if type(reverse) is not bool:
        raise TypeError("mismatch type argument reverse")
    _check_element_args(args, kwargs)
    if kwargs.get("list") is not None:
        return _sort([kwargs["list"]], {"reverse": reverse})
    if kwargs.get("sweep") is not None or any(isinstance(a, _Sweep) for a in args):
        return _Sweep("a sorted sweep")
    if len(args) == 1:
        arg = args[0]
        if isinstance(arg, list):
            if len(arg) > 1 and any(isinstance(v, _Quoted) for v in arg):
                raise TypeError("'<' not supported between instances of 'QuotedString'")
            return sorted(arg, reverse=reverse)
        if isinstance(arg, _Glob):
            raise TypeError(f"Invalid arguments: {args}")
        return arg
    if not args:
        raise ValueError("empty sort input")
    if any(isinstance(a, (list, dict)) or a is None for a in args):
        raise TypeError(f"Invalid arguments: {args}")
    return _Sweep("a sorted choice sweep")


def _shuffle(args: List[Any], kwargs: Dict[str, Any]) -> Any:
    extra = set(kwargs) - {"sweep", "list"}
    if extra:
        raise TypeError(f"got an unexpected keyword argument {sorted(extra)[0]!r}")
    _check_element_args(args, kwargs)
    if kwargs.get("list") is not None:
        return _shuffle([kwargs["list"]], {})
    if kwargs.get("sweep") is not None:
        return _Sweep("a shuffled sweep")
    if len(args) == 1:
        arg = args[0]
        if isinstance(arg, _Sweep):
            return arg
        if isinstance(arg, list):
            if len(arg) > 1:
                raise UnsupportedError("shuffle() of a list gives a random order each run; cfglint cannot know it")
            return list(arg)
        return [arg]
    return _Sweep("a shuffled choice sweep")


def _glob(args: List[Any], kwargs: Dict[str, Any]) -> Any:
    names = ["include", "exclude"]
    if len(args) > 2 or set(kwargs) - set(names):
        raise TypeError("glob() takes include and exclude")
    bound = dict(zip(names, args))
    for name, value in kwargs.items():
        if name in bound:
            raise TypeError(f"multiple values for argument {name!r}")
        bound[name] = value
    if "include" not in bound:
        raise TypeError("missing a required argument: 'include'")

    def as_list(value: Any, name: str) -> List[Any]:
        if isinstance(value, str):
            return [str(value)]
        if isinstance(value, list):
            if not all(isinstance(v, str) for v in value):
                raise UnsupportedError("glob() of non-string names is not supported")
            return [str(v) for v in value]
        raise TypeError(f"mismatch type argument {name}")
    exclude = bound.get("exclude")
    return _Glob(as_list(bound["include"], "include"), [] if exclude is None else as_list(exclude, "exclude"))


def _sweep_function(what: str) -> Callable[[List[Any], Dict[str, Any]], Any]:
    return lambda args, kwargs: _Sweep(what)


_FUNCTIONS: Dict[str, Callable[[List[Any], Dict[str, Any]], Any]] = {
    "int": _cast(_to_int), "float": _cast(_to_float), "str": _cast(_to_str), "bool": _cast(_to_bool),
    "sort": _sort, "shuffle": _shuffle, "glob": _glob,
    "choice": _sweep_function("a choice sweep"), "range": _sweep_function("a range sweep"),
    "interval": _sweep_function("an interval sweep"), "tag": _sweep_function("a tagged sweep"),
}


def _call(name: str, args: List[Any], kwargs: Dict[str, Any]) -> Any:
    function = _FUNCTIONS.get(name)
    if function is None:
        raise ValueError(f"Unknown function '{name}' (available: {', '.join(sorted(_FUNCTIONS))})")
    # Functions.eval unquotes the top-level arguments
    args = [str(a) if isinstance(a, _Quoted) else a for a in args]
    kwargs = {k: str(v) if isinstance(v, _Quoted) else v for k, v in kwargs.items()}
    return function(args, kwargs)


def _convert(value: Any) -> Any:
    """`Override._convert_value`: quoted strings become plain strings, in lists and dicts too."""
    if isinstance(value, list):
        return [_convert(v) for v in value]
    if isinstance(value, dict):
        return {_convert(k): _convert(v) for k, v in value.items()}
    if isinstance(value, _Quoted):
        return str(value)
    if isinstance(value, _Glob):   # a dataclass; OmegaConf turns it into a config node
        return {"include": list(value.include), "exclude": list(value.exclude)}
    return value


def _contains_sweep(value: Any) -> Optional[str]:
    if isinstance(value, _Sweep):
        return value.what
    if isinstance(value, list):
        for v in value:
            found = _contains_sweep(v)
            if found:
                return found
    if isinstance(value, dict):
        for v in value.values():
            found = _contains_sweep(v)
            if found:
                return found
    return None


def parse_override(text: str, position: int = 1) -> Override:
    """One override string, as `OverridesParser.parse_overrides` reads it."""
    try:
        return _Parser(text, position).override()
    except UnsupportedError as exc:
        raise UnsupportedError(f"override {text!r}: {exc.message}", OVERRIDE_FILE, position) from None


def parse_for_detectron2(text: str, position: int = 1) -> Tuple[str, Any]:
    """(key, value) of an override exactly as `LazyConfig.apply_overrides` uses them, or a CfglintError
    where detectron2 fails (syntax, deletion, sweeps, dict keys OmegaConf refuses)."""
    override = parse_override(text, position)
    if override.kind == DELETE:
        raise UnsupportedError(f"override {text!r}: detectron2's LazyConfig.apply_overrides does not support "
                               "deletion (`~key`)", OVERRIDE_FILE, position)
    sweep = _contains_sweep(override.value)
    if sweep:
        raise CfglintError(f"override {text!r}: the value is {sweep}, not a value; detectron2 cannot "
                           "apply a sweep", OVERRIDE_FILE, position)
    bad_string = _bad_string(override.value)
    if bad_string:
        raise CfglintError(f"override {text!r}: the value {bad_string}", OVERRIDE_FILE, position)
    bad_key = _bad_dict_key(override.value)
    if bad_key is not None:
        raise CfglintError(f"override {text!r}: {bad_key} cannot be a config key (OmegaConf refuses it)",
                           OVERRIDE_FILE, position)
    return override.key, override.value


_KEY_EXCLUDED = frozenset("\\{}()[]:. \t'\"$")
_ARG_EXCLUDED = frozenset("\\{}()[]'\"$")


def _interpolation_problem(text: str) -> Optional[str]:
    """OmegaConf parses every string value containing `${` with its interpolation grammar when the
    value is stored (GrammarParseError otherwise). Accept the forms whose grammar we check exactly:
    `${[.]*key(.key|[key])*}` and `${resolver.name:plain,args}` (spaces allowed inside the braces);
    anything else (escapes, nesting, quoted resolver arguments) is reported, never guessed."""
    if "${" not in text:
        return None
    i = text.find("${")
    while i >= 0:
        run = 0
        while i - run > 0 and text[i - run - 1] == "\\":
            run += 1
        if run % 2:                 # `\${`: an escaped (literal) `${`; `\\${` is a backslash + interpolation
            i = text.find("${", i + 2)
            continue
        j = i + 2
        while j < len(text) and text[j] in _WS:
            j += 1
        k = j
        while k < len(text) and text[k] == ".":
            k += 1
        start = k
        while k < len(text) and (text[k] not in _KEY_EXCLUDED or text[k] in ".[]"):
            k += 1
        body = text[start:k]
        if k < len(text) and text[k] == ":" and k > j and "[" not in body and ".." not in body \
                and not body.startswith(".") and not body.endswith("."):
            k += 1                                           # ${resolver:args}
            while k < len(text) and text[k] not in _ARG_EXCLUDED:
                k += 1
        elif not body or not _plain_key_path(body):
            return f"has an interpolation OmegaConf may not parse ({text[i:k + 1]!r})"
        while k < len(text) and text[k] in _WS:
            k += 1
        if k >= len(text):
            return f"has an unterminated interpolation ({text[i:]!r}); OmegaConf cannot parse it"
        if text[k] != "}":
            return f"has an interpolation OmegaConf may not parse ({text[i:k + 1]!r}); cfglint does not guess"
        i = text.find("${", k + 1)
    return None


def _plain_key_path(body: str) -> bool:
    """key(.key|[key])* with non-empty keys."""
    i = 0
    expect_key = True
    while i < len(body):
        if expect_key:
            j = i
            while j < len(body) and body[j] not in ".[]":
                j += 1
            if j == i:
                return False
            i, expect_key = j, False
        elif body[i] == ".":
            i, expect_key = i + 1, True
        elif body[i] == "[":
            close = body.find("]", i + 1)
            if close <= i + 1 or any(c in body[i + 1:close] for c in ".["):
                return False
            i = close + 1
        else:
            return False
    return not expect_key


def _bad_string(value: Any) -> Optional[str]:
    if isinstance(value, str):
        return _interpolation_problem(value)
    children = value if isinstance(value, list) else list(value.values()) if isinstance(value, dict) else []
    for child in children:
        found = _bad_string(child)
        if found:
            return found
    return None


def _bad_dict_key(value: Any) -> Optional[str]:
    if isinstance(value, list):
        for v in value:
            found = _bad_dict_key(v)
            if found is not None:
                return found
    if isinstance(value, dict):
        for k, v in value.items():
            if k is None:
                return "null"
            found = _bad_dict_key(v)
            if found is not None:
                return found
    return None
