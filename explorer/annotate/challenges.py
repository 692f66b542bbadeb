"""Reading the ``WWW-Authenticate`` values of a recorded trace, whatever they hold.

Rule: pure. The client
refuses a malformed challenge (``challenge.parse_challenges`` raises); a trace may
still hold one, from a hostile registry or a hand-edited file, and every output
must render it. Here a value that does not parse is left out, the others are read.
"""

from __future__ import annotations

from explorer.errors import MalformedHeader
from explorer.protocol.challenge import Challenge, parse_challenges

__all__ = ["readable_challenges"]


def readable_challenges(values: list[str] | str) -> list[Challenge]:
    """The challenges of the values that parse; a malformed value is skipped, not raised."""
    found: list[Challenge] = []
    for value in [values] if isinstance(values, str) else values:
        try:
            found.extend(parse_challenges(value))
        except MalformedHeader:
            continue
    return found
