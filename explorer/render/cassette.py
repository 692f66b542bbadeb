"""A vcrpy cassette (YAML, format version 1) from a trace, replayable with vcrpy 9.x through httpx.

Rule 1: pure. Each interaction is built as a dict and written by
PyYAML's safe dumper (:func:`_dump`: exact for any text, read back by the safe loader vcrpy uses; binary
bodies become ``!!binary``, which the safe loader turns into bytes). Only the comments
around the interactions (what each exchange was, what was left out) are our own lines.

Rule 2: a cassette can only replay what the trace kept. Blob bodies are in a trace
only when it was recorded with ``--keep-bodies SIZE``; otherwise they replay as
EMPTY bodies (a client verifying digests will notice). :func:`warnings` says so,
the CLI prints it, and the cassette's header comment repeats it.

Shape (what vcrpy 9.4.2 writes for httpx): ``interactions`` of ``request``
(``body``, ``headers`` as name → list of values, ``method``, ``uri``) and
``response`` (``body: {string}``, ``headers``, ``status: {code, message}``),
plus ``version: 1``. Exchanges without a response (connection errors) cannot be
replayed and are left out, with a comment.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable

import yaml

from explorer.annotate import AnnotatedTrace, human_size
from explorer.render import yamltext
from explorer.render.base import RenderOptions
from explorer.trace import Body, Exchange, Trace

__all__ = ["missing_bodies", "render", "warnings"]


#: what a YAML comment may not hold: anything PyYAML's reader refuses, tabs, and line breaks
#: (NEL, LS and PS are line breaks to YAML, a BOM starts a stream)
_NOT_IN_COMMENT = re.compile("[^\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[\ufeff\u2028\u2029]")


def _comment(text: str) -> str:
    """``text`` safe after ``#``: one line of printable characters."""
    return _NOT_IN_COMMENT.sub(" ", text)


def _kept(body: Body | None) -> bool:
    """The whole body is in the trace (as text or base64)."""
    return body is None or body.size == 0 or (not body.truncated and (body.text is not None or body.base64 is not None))


def missing_bodies(trace: Trace) -> list[Exchange]:
    """Exchanges whose response body the trace did not keep whole (they replay empty)."""
    return [ex for ex in trace.exchanges if ex.response is not None and ex.request.method != "HEAD"
            and not _kept(ex.response.body)]


def warnings(annotated: AnnotatedTrace) -> list[str]:
    """What the user must know about this export (printed by ``regexplore export``)."""
    missing = missing_bodies(annotated.trace)
    if not missing:
        return []
    size = sum(ex.response.body.size for ex in missing if ex.response and ex.response.body)
    return [f"{len(missing)} response bodies ({human_size(size)}) are not in the trace, so the cassette replays "
            f"them empty; re-record with `regexplore trace pull --keep-bodies SIZE` to include them"]


def _headers(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    return grouped


def _body(body: Body | None) -> str | bytes:
    """What the trace kept of a body: its text, its bytes, or ``""`` (nothing, or not all of it)."""
    if body is None or body.size == 0 or not _kept(body):
        return ""
    if body.text is not None:
        return body.text
    assert body.base64 is not None
    return base64.b64decode(body.base64)


def _lost(body: Body | None, which: str) -> list[str]:
    """A comment line when a body replays empty because the trace did not keep it."""
    if body is None or body.size == 0 or _kept(body):
        return []
    note = "truncated" if body.text or body.base64 else "not recorded"
    return [f"# {which} body {note}: {body.size} bytes, sha256 {body.sha256}; replays empty"]


def _interaction(ex: Exchange) -> dict[str, object]:
    req, resp = ex.request, ex.response
    assert resp is not None
    return {"request": {"body": _body(req.body), "headers": _headers(req.headers), "method": req.method,
                        "uri": req.url},
            "response": {"body": {"string": _body(resp.body)}, "headers": _headers(resp.headers),
                         "status": {"code": resp.status, "message": resp.reason}}}


#: PyYAML's safe dumper, in C when PyYAML was built with libyaml (5000 interactions: 0.5 s instead
#: of 3 s in pure Python; both write the same text for every value a trace holds but an empty key)
_SAFE_DUMPER = yaml.CSafeDumper if yaml.__with_libyaml__ else yaml.SafeDumper
_OPTIONS: dict[str, object] = {"sort_keys": False, "allow_unicode": False, "default_flow_style": False,
                               "width": 2**31 - 1}


def _dump(value: object) -> str:
    """``value`` as block YAML by PyYAML's safe dumper: keys in the order given, any text exact,
    one line per scalar.

    ``allow_unicode=False``: PyYAML 6 writes NEL (U+0085) literally inside a quoted scalar when
    allowed to, and its own reader folds it into a space; escaped, every character reads back.
    libyaml cannot encode a lone surrogate (a JSON trace may hold one): the pure-Python dumper
    escapes it (``"\\uD800"``), so that interaction is written by it.
    """
    try:
        return yaml.dump(value, Dumper=_SAFE_DUMPER, **_OPTIONS)
    except UnicodeEncodeError:
        return yaml.safe_dump(value, **_OPTIONS)


def render(annotated: AnnotatedTrace, options: RenderOptions) -> str:
    summary = annotated.summary
    lines = [f"# vcrpy cassette exported by regexplore from: {_comment(options.title or summary.title)} ({summary.line})",
             "# Replay it in a test (vcrpy >= 8.2 hooks httpx transports; each interaction plays once, in order):",
             '#     with vcr.use_cassette("THIS.yaml", record_mode="none"): ...',
             "# Secrets were redacted when the trace was recorded: tokens replay as \"<redacted>\"."]
    lines += [f"# WARNING: {w}" for w in warnings(annotated)]
    body: list[str] = []
    interactions = [[_interaction(a.exchange)] for a in annotated.exchanges if a.exchange.response is not None]
    # most interactions are put together from their shape's layout and known scalars; the others by _dump
    dumped = zip(interactions, yamltext.Writer(_SAFE_DUMPER, _OPTIONS).dump_all(interactions))  # type: ignore[arg-type]
    for a in annotated.exchanges:
        ex = a.exchange
        if ex.response is None:
            body.append(_comment(f"# exchange {a.number} ({ex.request.method} {ex.request.url}) "
                                 f"got no response ({ex.error}): not replayable, left out"))
            continue
        note = f"{a.number}. {a.step or ''} · {a.note or a.endpoint}"
        body.append(f"# {_comment(note)}")
        body += [_comment(line) for line in _lost(ex.request.body, "request") + _lost(ex.response.body, "response")]
        interaction, text = next(dumped)
        body.append((_dump(interaction) if text is None else text).rstrip("\n"))
    lines += ["interactions:" if body else "interactions: []", *body, "version: 1"]
    return "\n".join(lines) + "\n"
