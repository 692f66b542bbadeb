"""Known secrets: the credentials and tokens a run or a capture holds, scrubbed from every stored string.

Rule: pure. Every value is registered in the forms a server may
echo it (percent-, JSON- and HTML-escaped); a secret cut off by a shortened
message (``abc…``) is hidden too when enough of it is left to recognise.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from urllib.parse import quote, quote_plus

__all__ = ["PLACEHOLDER", "Secrets"]

PLACEHOLDER = "<redacted>"

# where a shortened message or header value was cut ("…" is ours, "..." other servers')
_CUT_MARK = re.compile(r"…|\.\.\.")
# html.escape(value) as one table: importing html loads its entity table (1.5-2.4 ms of a push's or an
# authenticated pull's start-up) for five characters; tests/recording/test_redact.py compares the two
_HTML_ESCAPED = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"})


class Secrets:
    """A thread-safe set of secret strings to scrub wherever they appear.

    The auth layer registers passwords, identity tokens and every token it is
    issued; the recorder scrubs each stored string with ``scrub``. Encoded forms
    (percent-encoded, JSON- and HTML-escaped, Basic base64 of user:password) are
    registered too. Texts are often shortened before they are scrubbed (a
    registry's error message is cut to one line): a secret's first
    ``MIN_CUT`` or more characters right before a cut mark (``…``, ``...``) are
    replaced as well.
    """

    MIN_LENGTH = 4  # shorter strings would wreck the trace; structural redaction covers them
    MIN_CUT = 8  # what is left of a cut secret must be this long to be recognised (and worth hiding)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._compiled = 0  # how many values the pattern covers
        self._pending: list[str] = []  # added since: checked by substring until the next compile

    def add(self, value: str | None) -> None:
        if not value or len(value) < self.MIN_LENGTH:
            return
        forms = {
            value,
            quote(value, safe=""),
            quote_plus(value),
            json.dumps(value)[1:-1],  # a server echoing it inside a JSON string
            json.dumps(value, ensure_ascii=False)[1:-1],
            value.translate(_HTML_ESCAPED),  # ... or on an HTML error page
        }
        with self._lock:
            for form in forms:
                if len(form) >= self.MIN_LENGTH and form not in self._values:
                    self._values.add(form)
                    self._pending.append(form)

    def add_basic(self, username: str, password: str) -> None:
        """Register a password and the Basic credential built from it."""
        self.add(password)
        self.add(base64.b64encode(f"{username}:{password}".encode()).decode("ascii"))

    def __contains__(self, value: object) -> bool:
        with self._lock:
            return value in self._values

    def __len__(self) -> int:
        with self._lock:
            return len(self._values)

    def __bool__(self) -> bool:
        """Whether any secret is known (without the lock: ``bool`` of a set is atomic; the recorder asks
        this for every header of every exchange, and a locked ``len`` cost ~15 lock round trips each)."""
        return bool(self._values)

    def scrub(self, text: str) -> str:
        if not text:
            return text
        with self._lock:
            if not self._values:
                return text
            # One regex over every value, longest first; values added since it was compiled
            # (a push learns a signed upload URL per blob) are checked by substring, and the
            # regex is compiled again only when one of them occurs or they grew by half:
            # compiling a large alternation per new value made pushes quadratic.
            if (
                self._pattern is None
                or len(self._pending) > max(64, self._compiled // 2)
                or any(value in text for value in self._pending)
            ):
                alternatives = sorted(self._values, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(v) for v in alternatives))
                self._compiled, self._pending = len(alternatives), []
            pattern = self._pattern
            values = list(self._values) if ("…" in text or "..." in text) else []
        out = pattern.sub(PLACEHOLDER, text)
        return _scrub_cut(out, values, self.MIN_CUT) if values else out


def _scrub_cut(text: str, values: list[str], shortest: int) -> str:
    """``text`` with every cut-off secret (its first ``shortest``+ characters right before a cut mark) hidden."""
    pieces: list[str] = []
    done = 0
    for mark in _CUT_MARK.finditer(text):
        start = _cut_secret_start(text, mark.start(), values, shortest)
        if start is not None and start >= done:
            pieces += [text[done:start], PLACEHOLDER]
            done = mark.start()
    return "".join(pieces) + text[done:] if pieces else text


def _cut_secret_start(text: str, end: int, values: list[str], shortest: int) -> int | None:
    """Where the longest secret prefix ending at ``end`` starts, or None."""
    found: int | None = None
    for value in values:
        if len(value) <= shortest:
            continue
        head = value[:shortest]
        at = text.find(head, max(0, end - len(value) + 1), end)
        while at != -1 and at + shortest <= end:
            if value.startswith(text[at:end]):
                found = at if found is None else min(found, at)
                break
            at = text.find(head, at + 1, end)
    return found
