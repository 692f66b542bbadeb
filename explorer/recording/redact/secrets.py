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
from urllib.parse import quote_plus

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
        self._added: set[str] = set()  # values given to ``add`` (each with all its forms in ``_values``)
        self._pattern: re.Pattern[str] | None = None
        self._pending: list[str] = []  # added since: checked by substring until the next compile
        self._checked = 0  # substring checks of pending values since the last compile (see ``scrub``)
        self._chars = 0  # the length of every value together: what compiling them costs, roughly
        self._shortest = 0  # the shortest value: a shorter text holds none (cut ones aside)

    def add(self, value: str | None) -> None:
        if not value or len(value) < self.MIN_LENGTH or value in self._added:
            # added before: a push learns each upload's ``_state`` from the Location that names it, then again
            # from the URL it requests (without the lock: a set's ``in`` is atomic, and a racing ``add`` of
            # the same value only registers the same forms twice)
            return
        forms = _forms(value)
        with self._lock:
            self._added.add(value)
            for form in forms:
                if len(form) >= self.MIN_LENGTH and form not in self._values:
                    self._values.add(form)
                    self._pending.append(form)
                    self._chars += len(form)
                    self._shortest = min(self._shortest or len(form), len(form))

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

    def scrub_headers(self, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """``[(name, scrub(value)), …]`` in one call: the recorder scrubs every header of every exchange, twice,
        and nearly all of them are shorter than any known value (``scrub`` then returns at once, but the
        calls and the lock were about 30 an exchange). Without any known value, ``headers`` itself."""
        if not self._values:  # a set's truth, an int read: atomic, as in ``__bool__``
            return headers
        shortest, scrub = self._shortest, self.scrub
        return [(name, value) if len(value) < shortest and "…" not in value and "..." not in value
                else (name, scrub(value)) for name, value in headers]

    def scrub(self, text: str) -> str:
        if not text:
            return text
        cut = "…" in text or "..." in text
        with self._lock:
            if not self._values or (len(text) < self._shortest and not cut):
                return text  # most texts (a header's value, a URL) are shorter than any token or signature
            # One regex over every value, longest first. Values not in it yet (all of them, at first)
            # are checked by substring instead, until one of them occurs or those checks have cost
            # about what compiling would (ski rental): compiling takes ~1 us per character of every
            # value (10-15 ms for a push's 60 signed upload states), a check ~0.1-0.2 us, so four
            # checks per character. Compiling per new value made pushes quadratic; compiling every
            # 64 new values still compiled for texts none of them could be in.
            pending = self._pending
            if pending:
                self._checked += len(pending)
            if self._checked > 4 * self._chars or any(value in text for value in pending):
                alternatives = sorted(self._values, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(v) for v in alternatives))
                self._pending, self._checked = [], 0
            pattern = self._pattern
            values = list(self._values) if cut else []
        out = pattern.sub(PLACEHOLDER, text) if pattern is not None else text
        return _scrub_cut(out, values, self.MIN_CUT) if values else out


def _forms(value: str) -> set[str]:
    """``value`` and the forms a server may echo it in: percent-encoded (``quote(value, safe="")`` and
    ``quote_plus``), inside a JSON string (``json.dumps``, ASCII-escaped or not) or on an HTML page.

    Each is what urllib, json and ``html.escape`` make of it, without their Python for each character
    where it changes nothing: a push learns every upload's ``_state`` (about 240 characters), and the
    two ``quote`` calls took 24 of the 35 us that learning one took. A lone surrogate (a JSON body's
    ``\\ud800``, which UTF-8 cannot encode) is percent-encoded as its UTF-8-like bytes (``surrogatepass``)
    instead of raising out of the request that taught it.
    """
    percent = _URL_UNSAFE.sub(_percent_encoded, value)
    ascii_json = json.dumps(value)[1:-1]
    return {
        value,
        percent,
        quote_plus(value, errors="surrogatepass") if " " in value else percent,  # without a space: quote's
        ascii_json,  # a server echoing it inside a JSON string
        ascii_json if value.isascii() and "\x7f" not in value else json.dumps(value, ensure_ascii=False)[1:-1],
        value.translate(_HTML_ESCAPED) if _HTML_SPECIAL.search(value) else value,  # ... or on an HTML page
    }


# what ``quote(…, safe="")`` percent-encodes: all but ASCII letters, digits and ``_.-~``
_URL_UNSAFE = re.compile(r"[^A-Za-z0-9_.~-]+")
_HTML_SPECIAL = re.compile(r"[&<>\"']")


def _percent_encoded(match: re.Match[str]) -> str:
    return "".join(f"%{byte:02X}" for byte in match.group().encode("utf-8", "surrogatepass"))


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
