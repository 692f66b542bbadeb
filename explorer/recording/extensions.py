"""Every httpx request/response extension regexplore sets: one table, who sets each and who reads it.

Rule: names only. httpx carries ``request.extensions`` from the
client through every transport layer, so these keys are how the layers above the
recorder (client, auth, schemes, bounded) tell the layers below what a request is.
"""

from __future__ import annotations

__all__ = ["BODY_TAP_EXTENSION", "LIMIT_EXTENSION", "PING_EXTENSION", "PROBE_EXTENSION", "STEP_EXTENSION",
           "VIA_EXTENSION"]

# request: the step label of a request sent outside ``client.step`` (auth's token requests);
# set by client/auth.py, read by recording/recorder.py
STEP_EXTENSION = "regexplore.step"
# request: a Via (its url raw; the recorder redacts it) of a request the recording proxy forwards;
# set by proxy/forward.py, read by recording/recorder.py
VIA_EXTENSION = "regexplore.via"
# response: the BodyTap that counted and hashed the body (a verified download borrows its sha256);
# set by recording/recorder.py, read by client/registry.py
BODY_TAP_EXTENSION = "regexplore.body"
# request: this https request may meet a plain-http server (the loopback probe);
# set by client/schemes.py, read by recording/connections.py
PROBE_EXTENSION = "regexplore.https_probe"
# request: a ping learns the registry's challenge; its 401 is not answered with credentials;
# set by client/registry.py, read by client/auth.py
PING_EXTENSION = "regexplore.ping"
# request: cap the response body at this many bytes (token responses);
# set by client/auth.py, read by client/bounded.py
LIMIT_EXTENSION = "regexplore.body_limit"
