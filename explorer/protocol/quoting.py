"""How protocol error messages show untrusted text (user input, server headers).

Rule: a message is ONE line. Whatever we quote is escaped (control and
format characters, line separators, lone surrogates) and shortened, so a
hostile header or a 10 000-character argument can neither break nor flood the
CLI's ``error:`` line.
"""

from __future__ import annotations

__all__ = ["quote"]

_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", '"': '\\"', "\\": "\\\\"}


def quote(text: str, limit: int = 80) -> str:
    """``text`` in double quotes, escaped to one printable line, cut to ``limit`` chars with "…"."""
    shown = text if len(text) <= limit else text[: limit - 1] + "…"
    return '"' + "".join(_escape(char) for char in shown) + '"'


def _escape(char: str) -> str:
    if char in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[char]
    if char.isprintable():
        return char
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"
