"""How deep a JSON body nests, measured on the bytes as they arrive (before any parser runs).

Parsers and the code after them recurse once per level: a body nested ten thousand deep makes
`RecursionError`s (500s) far from the boundary. The scanner strips strings and everything but
brackets with C-level `re`/`bytes` operations, then peels innermost bracket pairs; each peel is one
level, so the work per chunk is bounded by the limit, not by the nesting an attacker sends.
Across chunk boundaries the measure is an upper bound: a body nesting at most half the limit is
never refused, one nesting past the limit always is.
"""

from __future__ import annotations

import re

MAX_JSON_DEPTH = 64

_PAIR = re.compile(rb"[\[{][\]}]")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


class TooDeep(ValueError):
    """The body nests deeper than allowed."""


class DepthScanner:
    """Feed a JSON body chunk by chunk; `feed` raises `TooDeep` past `limit` levels."""

    def __init__(self, limit: int = MAX_JSON_DEPTH) -> None:
        self.limit = limit
        self.depth = 0
        self.in_string = False
        self.carry = b""  # a lone trailing backslash: it escapes the next chunk's first byte

    def feed(self, chunk: bytes, *, last: bool = False) -> None:
        if last and self.depth + chunk.count(b"[") + chunk.count(b"{") <= self.limit:
            return  # cannot get deeper than that, and no state is needed after the last chunk
        data = self.carry + chunk
        trailing = len(data) - len(data.rstrip(b"\\"))
        self.carry = b"\\" if trailing % 2 else b""
        if self.carry:
            data = data[:-1]
        # escapes only occur in strings (elsewhere the parser refuses them anyway)
        parts = data.replace(b"\\\\", b"").replace(b'\\"', b"").split(b'"')
        outside = parts[1::2] if self.in_string else parts[0::2]
        if len(parts) % 2 == 0:
            self.in_string = not self.in_string
        self._brackets(b"".join(outside).translate(None, _NOT_BRACKETS))

    def _brackets(self, brackets: bytes) -> None:
        nested = 0
        while True:
            peeled = _PAIR.sub(b"", brackets)
            if len(peeled) == len(brackets):
                break
            brackets, nested = peeled, nested + 1
            if nested > self.limit:
                raise TooDeep(f"The JSON body nests deeper than {self.limit} levels.")
        opens = len(brackets.lstrip(b"]}"))
        closes = len(brackets) - opens
        if self.depth + opens + nested > self.limit:
            raise TooDeep(f"The JSON body nests deeper than {self.limit} levels.")
        self.depth = max(self.depth - closes, 0) + opens
