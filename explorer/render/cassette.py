"""A vcrpy cassette (YAML, format version 1) from a trace, replayable with vcrpy 9.x through httpx.

Rule 1: pure and stdlib only (plus ``explorer.annotate``/``explorer.render.base``): the
YAML is written by :func:`yaml_string` below, not by PyYAML, so exporting needs no
extra dependency. Every scalar is double-quoted with escapes (exact for any text,
and readable back by PyYAML's safe loader, which vcrpy uses); binary bodies are
``!!binary`` base64, which the safe loader turns into bytes.

Rule 2: a cassette can only replay what the trace kept. Blob bodies are in a trace
only when it was recorded with ``--keep-bodies SIZE``; otherwise they replay as
EMPTY bodies (a client verifying digests will notice). :func:`warnings` says so,
the CLI prints it, and the cassette's header comment repeats it.

Shape (what vcrpy 9.4.2 writes for httpx): ``interactions`` of ``request``
(``method``, ``uri``, ``body``, ``headers`` as name → list of values) and
``response`` (``status: {code, message}``, ``headers``, ``body: {string}``),
plus ``version: 1``. Exchanges without a response (connection errors) cannot be
replayed and are left out, with a comment.
"""

from __future__ import annotations

from collections.abc import Iterable

from explorer.annotate import annotate, human_size
from explorer.render.base import RenderOptions
from explorer.trace import Body, Exchange, Trace

__all__ = ["export", "extension", "missing_bodies", "name", "render", "warnings", "yaml_string"]

name = "cassette"
export = True  # a full-fidelity export: every exchange, never collapsed (`regexplore export`)
extension = ".yaml"

_NAMED_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _printable(code: int) -> bool:
    """Characters a double-quoted YAML scalar may hold literally: printable for PyYAML's reader and
    no line break (NEL, LS and PS are line breaks to YAML and would fold into spaces)."""
    return (code == 0x09 or 0x20 <= code <= 0x7E or 0xA0 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD
            or 0x10000 <= code <= 0x10FFFF) and code not in (0xFEFF, 0x2028, 0x2029)


def yaml_string(text: str) -> str:
    """``text`` as a YAML double-quoted scalar that reads back exactly."""
    out = ['"']
    for ch in text:
        if ch in _NAMED_ESCAPES:
            out.append(_NAMED_ESCAPES[ch])
        elif _printable(ord(ch)):
            out.append(ch)
        else:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def _comment(text: str) -> str:
    """``text`` safe after ``#``: one line of printable characters."""
    return "".join(ch if _printable(ord(ch)) and ch != "\t" else " " for ch in text)


def _kept(body: Body | None) -> bool:
    """The whole body is in the trace (as text or base64)."""
    return body is None or body.size == 0 or (not body.truncated and (body.text is not None or body.base64 is not None))


def missing_bodies(trace: Trace) -> list[Exchange]:
    """Exchanges whose response body the trace did not keep whole (they replay empty)."""
    return [ex for ex in trace.exchanges if ex.response is not None and ex.request.method != "HEAD"
            and not _kept(ex.response.body)]


def warnings(trace: Trace) -> list[str]:
    """What the user must know about this export (printed by ``regexplore export``)."""
    missing = missing_bodies(trace)
    if not missing:
        return []
    size = sum(ex.response.body.size for ex in missing if ex.response and ex.response.body)
    return [f"{len(missing)} response bodies ({human_size(size)}) are not in the trace, so the cassette replays "
            f"them empty; re-record with `regexplore trace pull --keep-bodies SIZE` to include them"]


def _headers(pairs: Iterable[tuple[str, str]], indent: str) -> list[str]:
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    if not grouped:
        return [f"{indent}headers: {{}}"]
    lines = [f"{indent}headers:"]
    for key, values in grouped.items():
        lines.append(f"{indent}  {yaml_string(key)}:")
        lines += [f"{indent}  - {yaml_string(v)}" for v in values]
    return lines


def _body(body: Body | None, key: str, indent: str) -> list[str]:
    """``body: …`` (request) or ``string: …`` (response) for what the trace kept."""
    if body is None or body.size == 0:
        return [f'{indent}{key}: ""']
    if not _kept(body):
        note = "truncated" if body.text or body.base64 else "not recorded"
        return [f"{indent}# body {note}: {body.size} bytes, sha256 {body.sha256}; replays empty", f'{indent}{key}: ""']
    if body.text is not None:
        return [f"{indent}{key}: {yaml_string(body.text)}"]
    assert body.base64 is not None
    lines = [f"{indent}{key}: !!binary |"]
    lines += [f"{indent}  {body.base64[i:i + 76]}" for i in range(0, len(body.base64), 76)]
    return lines


def _interaction(ex: Exchange, note: str) -> list[str]:
    req, resp = ex.request, ex.response
    assert resp is not None
    lines = [f"# {_comment(note)}"] if note else []
    lines += ["- request:", *_body(req.body, "body", "    "), *_headers(req.headers, "    "),
              f"    method: {yaml_string(req.method)}", f"    uri: {yaml_string(req.url)}", "  response:",
              "    body:", *_body(resp.body, "string", "      "), *_headers(resp.headers, "    "),
              "    status:", f"      code: {resp.status}", f"      message: {yaml_string(resp.reason)}"]
    return lines


def render(trace: Trace, options: RenderOptions) -> str:
    annotated = annotate(trace)
    summary = annotated.summary
    lines = [f"# vcrpy cassette exported by regexplore from: {_comment(options.title or summary.title)} ({summary.line})",
             "# Replay it in a test (vcrpy >= 8.2 hooks httpx transports; each interaction plays once, in order):",
             '#     with vcr.use_cassette("THIS.yaml", record_mode="none"): ...',
             "# Secrets were redacted when the trace was recorded: tokens replay as \"<redacted>\"."]
    lines += [f"# WARNING: {w}" for w in warnings(trace)]
    body: list[str] = []
    for a in annotated.exchanges:
        if a.exchange.response is None:
            body.append(_comment(f"# exchange {a.number} ({a.exchange.request.method} {a.exchange.request.url}) "
                                 f"got no response ({a.exchange.error}): not replayable, left out"))
            continue
        note = f"{a.number}. {a.step or ''} · {a.note or a.endpoint}"
        body += _interaction(a.exchange, note)
    lines += ["interactions:" if body else "interactions: []", *body, "version: 1"]
    return "\n".join(lines) + "\n"

