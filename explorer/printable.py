"""Text that is safe to print: terminal control sequences removed.

Rule: pure; every layer may use it. Every recorded value is
untrusted (DESIGN.md): a trace or a registry may carry OSC 52 (write the
clipboard), OSC 8 (hyperlinks), window-title and clear-screen sequences, or
bidirectional overrides that reorder what a reader sees. Every text output
passes values through :func:`printable` (or :func:`printable_lines` for
multi-line blocks) before they reach a terminal or a file meant to be read.
"""

from __future__ import annotations

import re

__all__ = ["printable", "printable_lines"]

# whole escape sequences first (OSC … BEL/ST, CSI … final byte, two-byte ESC x), then lone controls;
# compiled (and cached) by ``re`` when a text first needs them, not at import: every command imports this
_SEQUENCE = (
    r"(?s)(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC: title, clipboard, hyperlink
    r"|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"  # CSI: colours, cursor, clear screen
    r"|\x1b[PX^_][^\x1b\x9c]*(?:\x1b\\|\x9c)?"  # DCS, SOS, PM, APC strings
    r"|\x1b.?"
)
# and lone surrogates (a JSON string may escape half a pair, ``\ud800``): no UTF-8 terminal or file can take one
_CONTROL = r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]+"
_CONTROL_KEEP_LINES = r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]+"


def printable(text: str) -> str:
    """``text`` without escape sequences; every other control character (newlines too) becomes a space."""
    if text.isprintable():  # no control, format or line-separator character: nothing above can match
        return text
    return re.sub(_CONTROL, " ", re.sub(_SEQUENCE, "", text))


def printable_lines(text: str) -> str:
    """Like :func:`printable`, but newlines and tabs stay (for bodies and blocks)."""
    if text.isprintable():
        return text
    return re.sub(_CONTROL_KEEP_LINES, " ", re.sub(_SEQUENCE, "", text.replace("\r\n", "\n")))
