"""The hostile-value corpus: values a shared trace or a hostile registry can carry, for every output.

Traces are shared and every recorded value is untrusted (DESIGN.md). Each output must treat
these values as data in its own language. Tests build traces from this module, run every
export for real (bash the curl script, python the Python script, newman the collection) and
assert that:

- no marker file appears (:func:`marker_path` is the file each payload tries to create);
- no canary reaches a listener (:data:`CANARY_PASSWORD`, sent as ``{{password}}``);
- no environment value is expanded (:data:`ENV_NAME` holds :data:`ENV_CANARY` while rendering);
- no raw control sequence (:data:`CONTROL`) reaches a terminal.

Two kinds of trace:

- :func:`free_text_trace`: valid protocol values (repository, tag, digests, hosts), hostile
  values in every free-text field (``created``, ``command``, ``step``, ``error``, reasons,
  outcome message, header values, bodies, URLs of "Other" hosts and their query strings).
  Every output must render it, inertly.
- :func:`leading_trace`: one exchange per payload, the payload LEADING its step, reason,
  error and challenge scope, so that no label cut (diagrams cut labels at ~120
  characters) hides a payload from an output that would act on it.
- :func:`protocol_traces`: one trace per hostile protocol value (tag, repository, digest,
  host). A script or collection built from it must either be refused at export time with a
  one-line error (exit 2) or encode the value so that it stays data.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from urllib.parse import quote

from explorer.trace import Body, Trace
from tests.render.factory import AUTH, OCI_MANIFEST, OCTET, REG, Builder, body, dg, json_body

CANARY_PASSWORD = "canary-pw-7f3a91c2"  # the password a collection run is given; must reach no listener
ENV_NAME = "REGEXPLORE_HOSTILE_ENV"
ENV_CANARY = "env-canary-5be02d7e"  # the value of ENV_NAME while rendering; must appear in no output
# markup that, if a browser ever ran it, marks the page: <html data-pwned="…"> (a test looks for it)
DOM_WRITE = ("<script>document.documentElement.setAttribute('data-pwned','script')</script>"
             "<img src=x onerror=\"document.documentElement.setAttribute('data-pwned','img')\">"
             "<svg onload=\"document.documentElement.setAttribute('data-pwned','svg')\"></svg>")
CONTROL = ("\x1b]52;c;cHduZWQ=\x07", "\x1b]8;;http://evil.example/\x07", "\x1b]0;title\x07", "\x1b[2J", "\x1bc")


def marker_path(directory: Path) -> Path:
    """The file every payload tries to create; a test asserts it never exists."""
    return directory / "PWNED"


def payloads(marker: Path) -> dict[str, str]:
    """Name -> hostile value. Each code-shaped payload tries to create ``marker``."""
    m = str(marker)
    return {
        "shell-subst": f"$(touch {m})",
        "backticks": f"`touch {m}`",
        "single-quote-break": f"'; touch {m}; '",
        "double-quote-break": f'"; touch {m}; "',
        "newline": f"x\ntouch {m}\n",
        "crlf": f"x\r\ntouch {m}\r\n",
        "url-newline": f"x%0atouch%20{m.replace('/', '%2F')}%0a",
        "param-default": f"${{HOME:-$(touch {m})}}",
        "python-break": f"'''\nimport os; os.system('touch {m}')\n'''",
        "python-dq-break": f'"""\nimport os; os.system("touch {m}")\n"""',
        "js-break": f"\"+require('child_process').execSync('touch {m}')+\"",
        "js-comment-break": f"x\nrequire('child_process').execSync('touch {m}')//",
        "template-var": "{{password}}",
        "script-tag": "</script><script>alert(1)</script>",
        "html-img": "<img src=x onerror=alert(1)>",
        "dom-write": DOM_WRITE,
        "js-link": "[click](javascript:alert(1))",
        "remote-image": "![x](http://evil.example/x.png)",
        "markdown-code": "`last`",
        "plantuml-getenv": f'%getenv("{ENV_NAME}")',
        "plantuml-dirpath": "%dirpath()",
        "plantuml-include": "!include /etc/hostname",
        "plantuml-end": "@enduml",
        "mermaid-break": "%%{init: {'theme':'dark'}}%%\nNote over Client: injected",
        "osc52": CONTROL[0],
        "osc8": CONTROL[1] + "link" + "\x1b]8;;\x07",
        "title": CONTROL[2],
        "clear": CONTROL[3],
        "lone-surrogates": "half \ud800 a pair \udfff",  # a JSON trace may escape them; UTF-8 cannot encode them
    }


def joined(marker: Path) -> str:
    """All payloads in one string (for fields that hold one value)."""
    return " ".join(payloads(marker).values())


def free_text_trace(marker: Path, operation: str = "pull") -> Trace:
    """A well-formed pull (or push) whose every free-text field is hostile."""
    evil = joined(marker)
    b = Builder(operation, f"{REG}/team/app:1.0", command=["regexplore", "trace", operation, evil])
    b.trace.created = evil
    b.add("GET", f"http://{REG}/v2/", 401, step=f"ping {evil}", reason=evil, headers=[
        ("WWW-Authenticate", f'Bearer realm="http://{AUTH}/token",service="{evil}"'), ("X-Evil", evil)])
    b.add("GET", f"http://{AUTH}/token?scope=repository%3Ateam%2Fapp%3Apull&service=registry.test", 200,
          step="authenticate", resp_body=json_body({"token": "<redacted>", "expires_in": 300}))
    b.bearer = True
    manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                      "digest": dg("config"), "size": 1469},
                           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                                       "digest": dg("layer1"), "size": 1000,
                                       "annotations": {"evil": evil}}]})
    b.add("GET", f"http://{REG}/v2/team/app/manifests/1.0", 200, step=f"resolve tag {evil}",
          req_headers=[("Accept", OCI_MANIFEST), ("X-Client-Evil", evil)],
          headers=[("Content-Type", OCI_MANIFEST), ("Docker-Content-Digest", f'{dg("m")}"); {evil}'),
                   ("Link", f'<http://evil.example/{evil}>; rel="next"')],
          resp_body=Body(size=len(manifest), sha256=hashlib.sha256(manifest.encode()).hexdigest(),
                         media_type=OCI_MANIFEST, text=manifest))
    b.add("GET", f"http://{REG}/v2/team/app/blobs/{dg('config')}", 200, step=f"fetch config {evil}",
          resp_body=body(1469, OCTET))
    b.add("GET", f"http://{REG}/v2/team/app/blobs/{dg('layer1')}", 404, step="fetch layer 1/1",
          resp_body=json_body({"errors": [{"code": "BLOB_UNKNOWN", "message": evil, "detail": evil}]}),
          error=evil)
    b.add("GET", f"http://other.example:8080/{{{{password}}}}/x?q={evil}", 200, step=f"other {evil}",
          req_headers=[("X-Token-Evil", "{{password}}")], headers=[("X-Evil", evil)])
    b.add("GET", f"http://{REG}/v2/team/app/blobs/{dg('layer2')}", None, step=evil, error=evil)
    return b.done("failed", evil)


def leading_trace(marker: Path) -> Trace:
    """A pull with three exchanges per payload, the payload starting every text field.

    A 401 whose step and reason are the payload, the token request, a failed blob GET.
    Each challenge carries the payload as its ``scope`` (a well-formed quoted string, so
    parsers read it) and each token request asks for that scope; ``created`` and the
    outcome message are the payloads joined.
    """
    evil = payloads(marker)
    b = Builder("pull", f"{REG}/team/app:1.0")
    b.trace.created = joined(marker)
    for name, value in evil.items():
        quoted = value.replace("\\", "\\\\").replace('"', '\\"')
        b.add("GET", f"http://{REG}/v2/team/app/manifests/1.0", 401, step=value, reason=value, headers=[
            ("WWW-Authenticate", f'Bearer realm="http://{AUTH}/token",service="registry.test",scope="{quoted}"')])
        scope = quote(value, safe="", errors="surrogatepass")
        b.add("GET", f"http://{AUTH}/token?service=registry.test&scope={scope}", 200,
              step=f"{value} ({name})", resp_body=json_body({"token": "<redacted>", "expires_in": 300}))
        b.add("GET", f"http://{REG}/v2/team/app/blobs/{dg(name)}", None, step=f"fetch layer {value}", error=value)
    return b.done("failed", joined(marker))


def findings_trace(marker: Path) -> Trace:
    """A pull breaking the spec with every payload as the broken value, so that each leads a finding.

    For reports that quote what they found (``check``): per payload, a ``WWW-Authenticate``,
    an error ``code``, a tags ``Link``, a ``Content-Length`` and a ``Docker-Content-Digest``.
    """
    b = Builder("pull", f"{REG}/team/app:1.0")
    for name, value in payloads(marker).items():
        b.add("GET", f"http://{REG}/v2/", 401, step=f"ping ({name})", headers=[("WWW-Authenticate", value)])
        b.add("GET", f"http://{REG}/v2/team/app/blobs/{dg(name)}", 404, step=f"fetch layer ({name})",
              resp_body=json_body({"errors": [{"code": value, "message": value}]}))
        b.add("GET", f"http://{REG}/v2/team/app/tags/list", 200, step=f"list tags ({name})",
              headers=[("Link", value), ("Content-Length", value)], resp_body=json_body({"tags": ["1.0"]}))
        manifest = "{}"
        b.add("GET", f"http://{REG}/v2/team/app/manifests/1.0", 200, step=f"resolve tag ({name})",
              headers=[("Content-Type", OCI_MANIFEST), ("Docker-Content-Digest", "sha256:" + value)],
              resp_body=Body(size=2, sha256=hashlib.sha256(manifest.encode()).hexdigest(),
                             media_type=OCI_MANIFEST, text=manifest))
    return b.done("failed", joined(marker))


def protocol_traces(marker: Path) -> dict[str, Trace]:
    """One pull trace per hostile protocol value: tag, repository, digest, host."""
    evil = payloads(marker)
    out: dict[str, Trace] = {}
    for name in ("shell-subst", "single-quote-break", "newline", "url-newline", "python-break", "js-break",
                 "template-var"):
        value = evil[name]
        out[f"tag:{name}"] = _pull(REG, "team/app", value, dg("layer1"))
        out[f"repository:{name}"] = _pull(REG, f"team/{value}", "1.0", dg("layer1"))
        out[f"digest:{name}"] = _pull(REG, "team/app", "1.0", "sha256:" + value)
        out[f"host:{name}"] = _pull(f"{value}.example", "team/app", "1.0", dg("layer1"))
    out["digest:path-traversal"] = _pull(REG, "team/app", "1.0", "sha256:../../../../etc/hostname")
    return out


def _pull(host: str, repo: str, tag: str, layer: str) -> Trace:
    b = Builder("pull", f"{host}/{repo}:{tag}")
    b.add("GET", f"http://{host}/v2/", 200, step="ping")
    b.add("GET", f"http://{host}/v2/{repo}/manifests/{tag}", 200, step="resolve tag",
          headers=[("Content-Type", OCI_MANIFEST), ("Docker-Content-Digest", dg("m"))],
          resp_body=body(1187, OCI_MANIFEST, "{}"))
    b.add("GET", f"http://{host}/v2/{repo}/blobs/{layer}", 200, step="fetch layer 1/1", resp_body=body(10, OCTET))
    b.add("PUT", f"http://{host}/v2/{repo}/manifests/{tag}", 201, step="push manifest",
          req_body=body(10, OCI_MANIFEST, "{}"))
    return b.done()
