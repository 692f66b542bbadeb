"""The JavaScript both collections share, and the one way a value becomes JavaScript.

Rule: pure. Every value that reaches a script goes through :func:`literal`
(a JSON literal, ASCII-escaped, so a quote, a newline, ``</script>`` or U+2028 in a trace
value stays inside its string). Script lines are otherwise fixed text written here or
built from our own variable names (``configDigest``, ``uploadLocation``), never from a
trace value.
"""

from __future__ import annotations

import json

__all__ = ["ABSOLUTE", "BEARER_CHALLENGE", "CHALLENGE", "TOKEN_GRANT", "body_hashes_to", "literal",
           "OTHER_ORIGIN_NOAUTH", "redirected_without_credentials", "skip_request_if", "status_is", "variable"]


def literal(value: object) -> str:
    """``value`` as a JavaScript literal: ``JSON.stringify``'s encoding, ASCII only, ``</`` escaped."""
    return json.dumps(value, ensure_ascii=True).replace("</", "<\\/")


def variable(name: str) -> str:
    """The expression reading a collection (or --env-var) variable at run time."""
    return f"pm.variables.get({literal(name)})"


def skip_request_if(condition: str, why: str) -> str:
    """A pre-request line that skips the request, saying ``why`` in the console, when ``condition`` holds."""
    return f"if ({condition}) {{ console.log({literal('skipped: ' + why)}); pm.execution.skipRequest(); }}"


def status_is(*codes: int) -> str:
    """A test that the answer's status is one of ``codes``."""
    if len(codes) == 1:
        return f'pm.test("status {codes[0]}", function () {{ pm.response.to.have.status({codes[0]}); }});'
    listed = ", ".join(str(int(c)) for c in codes)
    return (f'pm.test("status is one of {listed}", function () {{ '
            f"pm.expect(pm.response.code).to.be.oneOf([{listed}]); }});")


def body_hashes_to(expected: str, title: str, response: str = "pm.response") -> list[str]:
    """A test that the body's sha256 (of ``response``, a JavaScript expression) equals ``expected``."""
    return [f"pm.test({literal(title)}, function () {{",
            '    const crypto = require("crypto-js");',
            f'    const got = "sha256:" + crypto.SHA256(crypto.lib.WordArray.create({response}.stream)).toString();',
            f"    pm.expect(got).to.eql({expected});",
            "});"]


#: ``absolute(location)``: a Location may be relative, resolve it against this request (no URL class in the sandbox)
ABSOLUTE = ('const absolute = (location) => /^[a-z][a-z0-9+.-]*:/i.test(location) ? location : '
            '(pm.request.url.protocol || "http") + "://" + pm.request.url.getRemote() + '
            '(location.startsWith("/") ? "" : "/") + location;')

def redirected_without_credentials(on_target: list[str], otherwise: list[str],
                                   headers: dict[str, str] | None = None) -> list[str]:
    """Test lines for a request sent with ``followRedirects: false``: a 3xx is followed by hand, WITHOUT credentials.

    Postman's own redirects keep ``Authorization`` unless the host NAME changes (another port
    keeps it), so requests that carry credentials do not follow; when the registry answers
    3xx, ``pm.sendRequest`` fetches the Location with no auth and ``on_target`` tests ``res``.
    ``otherwise``: the tests of a direct answer.
    """
    request = f"{{url: hop, method: \"GET\", header: {literal(headers or {})}}}"
    return ["if (pm.response.code >= 300 && pm.response.code < 400) {", ABSOLUTE,
            'const hop = absolute(pm.response.headers.get("Location"));',
            f"pm.sendRequest({request}, function (err, res) {{",
            'pm.test("the redirect\'s target answers (sent without credentials)", function () '
            "{ pm.expect(err).to.equal(null); pm.expect(res.code).to.be.below(300); });",
            *on_target, "});", "} else {", *otherwise, "}"]


#: after a pre-request script set the URL from a Location or Link: another origin than the registry gets no credentials
OTHER_ORIGIN_NOAUTH = ('if (!pm.request.url.toString().startsWith(String(pm.variables.get("registry")).replace(/\\/+$/, "") + "/")) '
                       '{ console.log("another origin than the registry: sent without credentials"); '
                       'pm.request.authorizeUsing("noauth"); }')

#: ``challenge`` (the WWW-Authenticate header) and ``param(name)`` (one of its quoted parameters, or "")
CHALLENGE = [
    'const challenge = pm.response.headers.get("WWW-Authenticate") || "";',
    "const param = (name) => (challenge.match(new RegExp(name + '=\"([^\"]*)\"')) || [])[1] || \"\";",
]

#: after CHALLENGE: a Bearer challenge of the registry names the token server to ask (and only that one gets credentials)
BEARER_CHALLENGE = ('if (/^bearer/i.test(challenge)) { pm.collectionVariables.set("realm", param("realm")); '
                    'pm.collectionVariables.set("service", param("service")); }')

#: a token server's answer: test it and keep the token for the registry's requests
TOKEN_GRANT = [
    "const grant = pm.response.json();",
    'pm.test("a token came back", function () { pm.expect(grant.token || grant.access_token).to.be.a("string"); });',
    'pm.collectionVariables.set("token", grant.token || grant.access_token);',
]
