"""``regexplore proxy``: record any client's flow through a reverse proxy on loopback."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from explorer.cli.base import app
from explorer.cli.options import InsecureOpt, PlainHttpOpt, QuietOpt
from explorer.errors import UsageError


@app.command("proxy")
def proxy(
    upstream: Annotated[str, typer.Argument(
        metavar="UPSTREAM", help="The registry to forward to: http(s)://host[:port] (no scheme: http for loopback, else https).")],
    port: Annotated[int, typer.Option("--port", "-p", min=0, max=65535,
                                      help="Port to listen on, on 127.0.0.1 (default: a free one).")] = 0,
    output: Annotated[Path | None, typer.Option(
        "-o", "--output", help="Trace file to write on exit (default: proxy-<upstream host>.trace.json).")] = None,
    plain_http: PlainHttpOpt = False,
    insecure: InsecureOpt = False,
    timeout: Annotated[float, typer.Option(
        "--timeout", min=1, help="Seconds an upstream connection may stall before that request fails.")] = 30.0,
    max_exchanges: Annotated[int | None, typer.Option(
        "--max-exchanges", min=1, help="Stop by itself after this many exchanges.")] = None,
    once: Annotated[bool, typer.Option(
        "--once", help="Stop by itself when the client has been quiet for --idle seconds after its first request.")] = False,
    idle: Annotated[float, typer.Option("--idle", min=0.1, help="Quiet seconds that end a --once run.")] = 2.0,
    quiet: QuietOpt = False,
) -> None:
    """Forward a registry on 127.0.0.1 and record every exchange of whatever client uses it.

    Point the client at the printed address: docker treats loopback registries as insecure
    and needs no TLS setup; skopeo and podman need --tls-verify=false. The realm of the
    registry's challenges, redirects to storage and Link/Location headers are routed
    through the proxy too, so the token request and the storage hop are recorded. Ctrl-C
    (or SIGTERM) writes the trace and exits 0.

    Example: regexplore proxy https://registry-1.docker.io -o docker-pull.trace.json
    """
    from explorer.proxy import ProxyOptions, RecordingProxy
    from explorer.proxy.routes import origin_of

    url = _upstream_url(upstream, plain_http)
    target = output or Path(f"proxy-{origin_of(url).split('://', 1)[1].replace(':', '-').strip('[]')}.trace.json")
    if target.is_dir():
        raise UsageError(f"the trace output {target} is a directory", "give a file name with -o")
    options = ProxyOptions(upstream=url, port=port, insecure=insecure, timeout=timeout,
                           max_exchanges=max_exchanges, idle=idle if once else None, argv=sys.argv[1:])
    echo = None if quiet else (lambda line: typer.echo(line, err=True))
    recording = RecordingProxy(options, echo=echo)
    try:
        context = recording.running()
        running = context.__enter__()
    except OSError as exc:
        raise UsageError(f"cannot listen on port {port}: {exc.strerror or exc}",
                         "choose another --port, or leave it out to get a free one") from None
    try:
        host = running.url.split("://", 1)[1]
        typer.echo(f"proxy {running.url} -> {url}", err=True)
        typer.echo(f"use {host}/REPOSITORY:TAG as the image (skopeo/podman: --tls-verify=false); "
                   "Ctrl-C writes the trace", err=True)
        running.wait()
    finally:
        context.__exit__(None, None, None)
    saved = recording.save(target)
    typer.echo(f"wrote {saved}: {recording.summary()}", err=True)


def _upstream_url(text: str, plain_http: bool) -> str:
    from urllib.parse import urlsplit

    from explorer.protocol.reference import is_loopback

    value = text.strip()
    if "://" not in value:
        host = urlsplit("//" + value).hostname or ""
        value = ("http://" if plain_http or is_loopback(host) else "https://") + value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/") or parts.query:
        raise UsageError(f"UPSTREAM must be http(s)://host[:port], not {text!r}",
                         "for example: regexplore proxy https://registry-1.docker.io")
    if parts.username or parts.password:
        raise UsageError("UPSTREAM must not carry credentials", "the client sends its own; they pass through")
    return f"{parts.scheme}://{parts.netloc}"
