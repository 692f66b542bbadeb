"""Words of the annotations: one-line texts, human units, step counters, and the teaching tables.

Rule: pure data and string functions. ``WHY`` says why an
exchange happened, ``REQUEST_LABELS``/``RESPONSE_LABELS`` give the arrows'
short labels; they are keyed by endpoint id or by a *situation* string
(``"blob exists"``, ``"mount refused"``, …) that ``exchanges.py`` works out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from explorer.printable import printable


@dataclass(frozen=True)
class StepCounter:
    """The ``i/n`` counter of a step, from its intent: ``fetch layer 2/5`` is (2, 5, "layer")."""

    index: int
    total: int | None
    noun: str  # the word before the counter: "layer", "page"; "" when there is none


_HEX64 = re.compile(r"(sha256|sha512)?([:/])?\b([a-f0-9]{64,128})\b")


def one_line(text: str, limit: int = 300) -> str:
    """``text`` as one printable line (control characters → space), cut to ``limit`` with "…"."""
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        flat = text  # already one line: a printable text's only blanks are spaces, here single ones between words
    else:
        flat = " ".join(printable(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def shorten_digests(text: str) -> str:
    """Every sha256/sha512 hex run in ``text`` shortened like ``digest.short``."""
    def repl(m: re.Match[str]) -> str:
        hexpart = m.group(3)
        return f"{m.group(1) or ''}{m.group(2) or ''}{hexpart[:4]}…{hexpart[-4:]}"
    return _HEX64.sub(repl, text)


#: situation → one-line explanation; ``{…}`` fields are filled from the exchange.
WHY: dict[str, str] = {
    "failed": "The connection failed before any answer arrived: {error}.",
    "https probe": "Registries on loopback are tried over https first, as docker and skopeo do for insecure registries; this one gave no TLS answer ({error}), so the client goes on over plain http. Not a failure, and not a ping.",
    "ping": "Checks that the host speaks the registry API v2; 200 says the root asks for no credentials, not that nothing will: each repository may still answer 401 with a challenge.",
    "ping 401": "Probes the API root without credentials; the 401 challenge names the token server (realm) and service to ask.",
    "basic 401": "The registry wants HTTP Basic credentials on every request (no token server involved).",
    "challenge": "No token for this resource yet: the 401 challenge says which scope to ask the token server for.",
    "insufficient scope": "The token does not grant what this request needs (error=insufficient_scope): the repository is private, missing, or the credentials lack rights.",
    "token": "Asks the token server named in the challenge's realm for a Bearer token for {scope}.",
    "token failed": "The token server refused to issue a token: wrong credentials or a scope it will not grant.",
    "retry": "The same request again, now carrying the Bearer token.",
    "manifest index": "Resolves {ref} to an index: one manifest per platform; the client picks its own next.",
    "manifest image": "Fetches the image manifest: it names the config blob and every layer blob by digest.",
    "manifest head": "Asks for the manifest's digest and size without downloading it (a HEAD is not counted as a pull on Docker Hub).",
    "manifest missing": "Checks whether the registry already has this manifest under that reference: not there yet (404 is the expected answer), so the push goes on.",
    "manifest put": "Pushes the manifest; the registry accepts it only if every blob it references is already there.",
    "blob redirect": "The registry does not serve blob bytes itself: it redirects to {host}, and the client follows without the registry's Authorization.",
    "blob get": "Downloads a blob; the client checks its sha256 against the digest it asked for.",
    "storage": "Follows the redirect to the storage host for the bytes; no registry Authorization header goes there.",
    "storage leak": "Follows the redirect to the storage host, and WRONGLY sends the registry's Authorization header there.",
    "blob exists": "Checks whether the registry already has this blob: it does, so the upload is skipped.",
    "blob missing": "Checks whether the registry already has this blob: it does not, so it must be uploaded.",
    "blob head": "Asks whether the blob exists and how big it is, without downloading it.",
    "mounted": "Cross-repository mount: the registry links the blob from {source} without any bytes being uploaded.",
    "mount refused": "The mount from {source} was refused (blob not found there, no pull right, or mounting off): the registry opened an ordinary upload session instead.",
    "upload opened": "Opens an upload session; the Location header says where the bytes go next.",
    "upload monolithic": "Uploads the whole blob in the POST itself (single-request upload).",
    "upload chunk": "Sends one chunk of the blob; the Range header of the answer tells how much the registry now holds.",
    "upload close": "Closes the upload session with the digest; the registry verifies the bytes and stores the blob.",
    "upload status": "Asks how much of the upload the registry holds so far (Range).",
    "upload cancel": "Cancels the upload session; the registry drops what it received.",
    "tags": "Lists the repository's tags; a Link header means there is another page.",
    "catalog": "Lists repositories (a Docker extension many registries disable).",
    "referrers": "Lists manifests whose subject is this digest (OCI 1.1 referrers API).",
    "no referrers api": "404 from the referrers endpoint: this registry has no referrers API (one that has it never answers 404 here), so clients use the tag-schema fallback: the index tagged sha256-<hex of the subject>.",
    "delete": "Deletes content; registries may refuse deletes (405 UNSUPPORTED).",
    "rate limited": "Rate limited: the registry refuses more requests for now{retry_after}.",
    "no referrers tag": "The tag-schema fallback for referrers: no index is tagged sha256-<hex of the subject>, so nothing refers to this manifest yet (404 is the normal answer).",
    "error": "The registry refused: {errors}.",
    "refused": "The registry answered {status_line} without an error body saying why{head}.",
    "server error": "The server failed ({status}); the request itself may be fine and worth retrying.",
    "other": "A {method} request to {host}.",
}

#: endpoint id (or "token") → request arrow label; fields from ``_Annotator._request_label``.
REQUEST_LABELS: dict[str, str] = {
    "end-2": "{method} blob {ref}", "end-10": "{method} blob {ref}",
    "end-4b": "POST upload {digest}{size}", "end-11": "POST mount {mount} from {source}",
    "end-5": "PATCH upload{range}{size}", "end-6": "PUT upload {digest}{size}",
    "end-13": "GET upload status", "end-14": "DELETE upload",
    "end-7": "PUT {path}{size}", "end-7b": "PUT {path}{query}{size}",
    "token": "{method} {raw_path}{scope}",
}

#: situation → response arrow label (401s, 3xx, errors and failures are labelled in code).
RESPONSE_LABELS: dict[str, str] = {
    "https probe": "no TLS here: plain-HTTP registry, going on over http",
    "blob exists": "{status} exists: upload skipped", "blob missing": "{status} missing: upload needed",
    "manifest missing": "{status} not there yet: the push goes on",
    "no referrers api": "{status} no referrers API: use the tag-schema fallback",
    "no referrers tag": "{status} no fallback tag: no referrers yet",
    "mounted": "{status} mounted", "mount refused": "{status} mount refused: upload opened instead",
    "upload opened": "{status} upload opened", "upload cancel": "{status} upload cancelled",
    "token": "{status} token{expires}", "ping": "{status} {reason}{api}",
    "upload chunk": "{status} received {range}", "upload status": "{status} received {range}",
    "upload close": "{status} created{created}", "upload monolithic": "{status} created{created}",
    "manifest put": "{status} created{created}", "manifest head": "{status} {kind}{created}",
    "manifest index": "{status} {kind} ({size})", "manifest image": "{status} {kind} ({size})",
    "tags": "{status} {count}{more}", "catalog": "{status} {count}{more}", "referrers": "{status} {count}",
    "blob head": "{status} exists ({size})", "blob get": "{status} blob ({size})",
    "storage": "{status} blob ({size})", "storage leak": "{status} blob ({size})",
}

#: situation → (JSON field, singular, plural) counted in the response body
COUNTED = {"tags": ("tags", "tag", "tags"), "catalog": ("repositories", "repository", "repositories"),
           "referrers": ("manifests", "referrer", "referrers")}
