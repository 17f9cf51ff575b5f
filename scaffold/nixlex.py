"""Just enough of the nix lexer to tell code from strings and comments, and to find path literals.

A generated build system is mostly long `''…''` build phases; jumping from one special token to the next
with regexes keeps a scan of hundreds of files well under a second.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

_CODE_STOP = re.compile(r"\"|''|#|/\*|\{|\}")
_STR_STOP = re.compile(r'\\.|"|\$\{', re.S)
_IND_STOP = re.compile(r"''\$|'''|''\\.|''|\$\{", re.S)

# nix's own token rules: a URI literal (skipped), a path, a search path <…>, a home path ~/…
_TOKENS = re.compile(
    r"(?P<uri>[a-zA-Z][a-zA-Z0-9+\-.]*:[a-zA-Z0-9%/?:@&=+$,\-_.!~*']+)"
    r"|(?P<path>(?:~|[A-Za-z0-9._\-+]*)(?:/[A-Za-z0-9._\-+]+)+/?|\.\.?/?(?=[\s;)\]}]))"
    r"|(?P<spath><[A-Za-z0-9._\-+]+(?:/[A-Za-z0-9._\-+]+)*>)"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_'\-]*)"
)


class LexError(ValueError):
    pass


@dataclass(frozen=True)
class Span:
    kind: str  # "code" or "string"
    start: int
    end: int


def spans(text: str) -> list[Span]:
    """Code and string spans of `text` (comments dropped); antiquotations are code inside strings."""
    out: list[Span] = []
    _code(text, 0, out, nested=False)
    return out


def _code(text: str, pos: int, out: list[Span], nested: bool) -> int:
    depth = 0
    start = pos
    while True:
        m = _CODE_STOP.search(text, pos)
        if m is None:
            if nested:
                raise LexError("unterminated ${ … }")
            out.append(Span("code", start, len(text)))
            return len(text)
        tok = m.group()
        if tok == "{":
            depth += 1
            pos = m.end()
            continue
        if tok == "}":
            if depth == 0 and nested:
                out.append(Span("code", start, m.start()))
                return m.end()
            depth -= 1
            pos = m.end()
            continue
        out.append(Span("code", start, m.start()))
        if tok == "#":
            nl = text.find("\n", m.end())
            pos = len(text) if nl < 0 else nl
        elif tok == "/*":
            close = text.find("*/", m.end())
            if close < 0:
                raise LexError("unterminated comment")
            pos = close + 2
        elif tok == '"':
            pos = _string(text, m.end(), out, _STR_STOP, '"')
        else:
            pos = _string(text, m.end(), out, _IND_STOP, "''")
        start = pos


def _string(text: str, pos: int, out: list[Span], stop: re.Pattern[str], end: str) -> int:
    start = pos
    while True:
        m = stop.search(text, pos)
        if m is None:
            raise LexError("unterminated string")
        tok = m.group()
        if tok == "${":
            out.append(Span("string", start, m.start()))
            pos = _code(text, m.end(), out, nested=True)
            start = pos
        elif tok == end:
            out.append(Span("string", start, m.start()))
            return m.end()
        else:
            pos = m.end()  # an escape


@dataclass(frozen=True)
class PathLiteral:
    text: str
    start: int
    end: int
    kind: str  # "path" (relative, absolute or ~) or "search" (<nixpkgs>)


def path_literals(text: str) -> tuple[PathLiteral, ...]:
    return _path_literals(text)


@functools.lru_cache(maxsize=2048)
def _path_literals(text: str) -> tuple[PathLiteral, ...]:
    """Cached: the rewrite and the verification scan the same unchanged files."""
    found: list[PathLiteral] = []
    for span in spans(text):
        if span.kind != "code":
            continue
        if text.find("/", span.start, span.end) < 0 and text.find("<", span.start, span.end) < 0:
            continue
        for m in _TOKENS.finditer(text, span.start, span.end):
            if m.lastgroup == "path":
                found.append(PathLiteral(m.group(), m.start(), m.end(), "path"))
            elif m.lastgroup == "spath":
                found.append(PathLiteral(m.group(), m.start(), m.end(), "search"))
    return tuple(found)


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1
