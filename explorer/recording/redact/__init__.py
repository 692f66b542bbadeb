"""Secret scrubbing, applied by the recorder and the importers BEFORE anything is stored.

Rule 1: pure (no httpx): values in, values out.
Rule 2: redaction keeps the shape and says so: ``Bearer <redacted>``,
``scope=repository:x:pull`` stays, ``X-Amz-Signature=<redacted>``; header and field
names always stay (they teach), only values go.
Rule 3: by ALLOWLIST wherever the protocol allows it (``names.py``, the one home of
every table): query parameters, request headers, form fields and token-response
fields keep their values only when known to be harmless. Response headers and JSON
fields, which carry the protocol's own vocabulary, are redacted when their name
contains a secret word or their value looks like a JWT or a long random credential
(``shapes.py``). Nothing unknown leaks.

Layers of defence, each applied to every stored string:
1. structural (``headers.py``, ``bodies.py``, ``urls.py``): the rules above, and
   user:password in URLs, also of the URLs inside free text (``redact_urls``);
2. known secrets (``secrets.py``): the credentials and every token the auth layer
   saw, and every value structural redaction hid (``hidden_header_values``,
   ``hidden_url_values``, ``hidden_text_values``), are registered in a ``Secrets``
   set and replaced wherever they appear, in the forms a server may echo them
   (percent-, JSON- and HTML-escaped), and also when a shortened message cut one
   off (``abc…``): the part left goes too.
"""

from __future__ import annotations

from explorer.recording.redact.bodies import hidden_text_values, redact_text
from explorer.recording.redact.headers import (
    LEARNED_VALUE_MIN,
    hidden_header_values,
    redact_header_value,
    redact_request_headers,
    redact_response_headers,
)
from explorer.recording.redact.names import QUERY_ALLOWLIST, secret_name
from explorer.recording.redact.secrets import PLACEHOLDER, Secrets
from explorer.recording.redact.shapes import looks_like_credential
from explorer.recording.redact.urls import LEARNED_QUERY_MIN, hidden_url_values, redact_argv, redact_url, redact_urls

__all__ = [
    "LEARNED_QUERY_MIN",
    "LEARNED_VALUE_MIN",
    "PLACEHOLDER",
    "QUERY_ALLOWLIST",
    "Secrets",
    "hidden_header_values",
    "hidden_text_values",
    "hidden_url_values",
    "looks_like_credential",
    "redact_argv",
    "redact_header_value",
    "redact_request_headers",
    "redact_response_headers",
    "redact_text",
    "redact_url",
    "redact_urls",
    "secret_name",
]
