"""Bodies kept as text: JSON fields by name and shape, token responses by allowlist, forms field by field.

Rule: pure; works on cut-short text (a body kept to its first 64 KiB),
so JSON is scanned, not parsed, and its formatting stays as it was.
- JSON (and JSON-looking text inside anything): a string value is ``"<redacted>"``
  when its field is not on ``HARMLESS_JSON_FIELDS`` and the field's name contains a
  secret word (``session_key``, ``password``, ``auth``) or the value looks like a
  credential (``shapes.py``). In a token response (a body with a ``token``,
  ``access_token``, ``refresh_token`` or ``id_token`` field) only the values of
  ``TOKEN_RESPONSE_FIELDS`` (``expires_in``, ``issued_at``, ``scope``, …) stay.
- forms (``application/x-www-form-urlencoded``, or text shaped like a form with a
  secret-named field): only ``FORM_ALLOWLIST`` fields keep their values.
- everywhere: JWTs are replaced, then known secrets scrubbed.
Manifests and indexes (by their media type) are public, content-addressed documents:
they are kept verbatim but for known secrets, so a replay PUTs the very bytes whose digest
the trace shows (a cosign signature annotation is not a credential).
"""

from __future__ import annotations

import json
import re
from urllib.parse import unquote_plus

from explorer.protocol import mediatypes
from explorer.recording.redact import shapes
from explorer.recording.redact.headers import LEARNED_VALUE_MIN
from explorer.recording.redact.names import (
    FORM_ALLOWLIST,
    HARMLESS_JSON_FIELDS,
    TOKEN_RESPONSE_FIELDS,
    TOKEN_RESPONSE_MARKERS,
    secret_name,
)
from explorer.recording.redact.secrets import PLACEHOLDER, Secrets

__all__ = ["hidden_text_values", "redact_text"]

# a JSON string literal (possibly cut off at the end of the text), or a run of anything else
_PIECE = re.compile(r'"(?:[^"\\]|\\.)*(?:"|\\?\Z)|[^"]+', re.DOTALL)
_KEY_GAP = re.compile(r"\s*:")
_DIRECT = re.compile(r"\s*:\s*")
_ARRAY_START = re.compile(r"\s*:\s*\[\s*")
_ARRAY_NEXT = re.compile(r"\s*,\s*")
_FORM = re.compile(r"[A-Za-z0-9_.~%+-]+=[^&\s]*(?:&[A-Za-z0-9_.~%+-]+=?[^&\s]*)*")


def _decode(literal: str) -> str:
    if "\\" not in literal and len(literal) >= 2 and literal.endswith('"'):
        return literal[1:-1]  # the common case, without json's overhead
    try:
        return str(json.loads(literal))
    except ValueError:
        return literal.strip('"')


def _json_pieces(text: str) -> list[tuple[str, str | None, bool]]:
    """(piece, the field it is a string value of, is a key) for every piece of ``text``."""
    pieces = _PIECE.findall(text)
    out: list[tuple[str, str | None, bool]] = []
    owner: str | None = None  # the field the next string belongs to, when the gap before it says so
    in_array = False
    last_was_key = False
    for i, piece in enumerate(pieces):
        if piece.startswith('"'):
            following = pieces[i + 1] if i + 1 < len(pieces) else ""
            if _KEY_GAP.match(following):
                out.append((piece, None, True))
                owner, last_was_key, in_array = _decode(piece), True, False
            else:
                out.append((piece, owner, False))
                last_was_key = False
            continue
        out.append((piece, None, False))
        if last_was_key and _DIRECT.fullmatch(piece):
            pass  # the key's value comes next
        elif last_was_key and _ARRAY_START.fullmatch(piece):
            in_array = True
        elif in_array and _ARRAY_NEXT.fullmatch(piece):
            pass  # the next element of the key's array
        else:
            owner, in_array = None, False
        last_was_key = False
    return out


def _secret_json_value(field: str | None, value: str, token_response: bool) -> bool:
    if field is None:
        return shapes.looks_like_credential(value)
    lfield = field.lower()
    if token_response:
        return lfield not in TOKEN_RESPONSE_FIELDS
    if lfield in HARMLESS_JSON_FIELDS:
        return False
    return secret_name(lfield) or shapes.looks_like_credential(value)


def _is_token_response(text: str, pieces: list[tuple[str, str | None, bool]]) -> bool:
    return text.lstrip().startswith("{") and any(
        is_key and _decode(piece).lower() in TOKEN_RESPONSE_MARKERS for piece, _, is_key in pieces)


_ANY_KEY = re.compile(r'"((?:[^"\\]|\\.)*)"\s*:')
_LONG_TOKEN_VALUE = re.compile(r'"((?:[A-Za-z0-9+_.~-]|\\/){20,}=*)(?:"|\Z)')  # \Z: a body cut inside it


def _needs_scan(text: str) -> bool:
    """Whether the piece-by-piece scan could hide anything: a key that is secret or marks a token response,
    or a string value that looks like a credential. Most bodies (tags lists, errors) have neither, and a
    regex finds that out ~20x faster than the scan."""
    for match in _ANY_KEY.finditer(text):
        raw = match.group(1)
        key = (_decode(f'"{raw}"') if "\\" in raw else raw).lower()  # "\u0074oken" is "token"
        if key in TOKEN_RESPONSE_MARKERS or (key not in HARMLESS_JSON_FIELDS and secret_name(key)):
            return True
    values = (m.group(1).replace("\\/", "/") for m in _LONG_TOKEN_VALUE.finditer(text))
    return any(shapes.looks_like_credential(value) for value in values)


def _redact_json(text: str, found: list[str] | None = None) -> str:
    if '"' not in text or not _needs_scan(text):
        return text
    pieces = _json_pieces(text)
    token_response = _is_token_response(text, pieces)
    out = []
    for piece, field, is_key in pieces:
        if piece.startswith('"') and not is_key and len(piece) > 1:
            value = _decode(piece)
            if value and value != PLACEHOLDER and _secret_json_value(field, value, token_response):
                if found is not None:
                    found.append(value)
                piece = f'"{PLACEHOLDER}"' if piece.endswith('"') and len(piece) >= 2 else f'"{PLACEHOLDER}'
        out.append(piece)
    return "".join(out)


def _is_form(text: str, media_type: str | None) -> bool:
    if media_type and "x-www-form-urlencoded" in media_type.lower():
        return True
    stripped = text.strip()
    if not _FORM.fullmatch(stripped):
        return False
    return any(secret_name(unquote_plus(item.partition("=")[0])) for item in stripped.split("&"))


def _redact_form(text: str, found: list[str] | None = None) -> str:
    items = []
    for item in text.split("&"):
        key, sep, value = item.partition("=")
        if sep and value and unquote_plus(key).lower() not in FORM_ALLOWLIST:
            items.append(f"{key}={PLACEHOLDER}")
            if found is not None:
                found.append(unquote_plus(value))
        else:
            items.append(item)
    return "&".join(items)


def _is_manifest(media_type: str | None) -> bool:
    return mediatypes.is_manifest(media_type) or mediatypes.is_schema1(media_type) \
        or mediatypes.base(media_type) == mediatypes.OCI_ARTIFACT_MANIFEST


def redact_text(text: str, media_type: str | None = None, secrets: Secrets | None = None, *,
                learn: bool = False) -> str:
    """A body kept as text with its secret JSON fields, form fields and JWTs hidden, then known secrets.

    ``learn``: also register in ``secrets`` what was hidden (as ``hidden_text_values`` gives it), in the same pass.
    """
    if _is_manifest(media_type):
        out = text
    else:
        found: list[str] | None = [] if learn and secrets is not None else None
        out = _redact_form(text, found) if _is_form(text, media_type) else _redact_json(text, found)
        if found is not None:
            found += shapes.JWT.findall(out)
            for value in found:
                if len(value) >= LEARNED_VALUE_MIN:
                    secrets.add(value)  # type: ignore[union-attr]
        out = shapes.scrub_jwts(out, PLACEHOLDER)
    return secrets.scrub(out) if secrets else out


def hidden_text_values(text: str, media_type: str | None = None) -> list[str]:
    """What ``redact_text`` hides (field values, JWTs) that is long enough to scrub everywhere else."""
    found: list[str] = []
    if _is_manifest(media_type):
        return found
    if _is_form(text, media_type):
        _redact_form(text, found)
    else:
        _redact_json(text, found)
    found += shapes.JWT.findall(text)
    return [v for v in found if len(v) >= LEARNED_VALUE_MIN]
