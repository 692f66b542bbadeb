"""``Sandbox``: the registry (+ token server + CDN, as configured) on free loopback ports; ``serve``.

Rule 1: it wires the sandbox's modules together and owns their lifetime (servers, temporary storage).
Rule 2: three origins, like the real thing: the registry on
``127.0.0.1:<port>``, the token server on ``127.0.0.1:<other port>``, the
CDN on ``localhost:<third port>`` (another host name, so clients must drop
``Authorization`` on the redirect hop). ``.app`` dispatches on the ``Host``
header to the same three applications, so in-process use through
``httpx.WSGITransport(app=sandbox.app)`` sees exactly what sockets would,
token auth and redirects included. ``listen=False`` skips the sockets
altogether (URLs then name ports nobody listens on; only ``.app`` answers).
"""

from __future__ import annotations

import secrets
import signal
import socket
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from explorer.sandbox.access import AccessControl, BasicAccess, BearerAccess, OpenAccess
from explorer.sandbox.accounts import Accounts
from explorer.sandbox.app import RegistryApp, RegistryOptions
from explorer.sandbox.cdn import BlobRedirector, CdnApp
from explorer.sandbox.server import LoopbackServer
from explorer.sandbox.storage import Storage
from explorer.sandbox.tokens import SERVICE, TokenApp, TokenIssuer

__all__ = ["AUTH_MODES", "HostDispatcher", "Sandbox", "serve"]

AUTH_MODES = ("none", "basic", "token")
DEFAULT_USER = "regexplore"


class HostDispatcher:
    """A WSGI app that hands each request to the app registered for its ``Host`` (default: the registry)."""

    def __init__(self, apps: Mapping[str, Any], default: Any) -> None:
        self.apps = {host.lower(): app for host, app in apps.items()}
        self.default = default

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        host = str(environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME')}:{environ.get('SERVER_PORT')}")
        return self.apps.get(host.lower(), self.default)(environ, start_response)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Sandbox:
    """A complete registry setup on loopback, for tests, demos and ``regexplore serve``.

        with Sandbox(auth="token", redirect=True) as sandbox:
            sandbox.registry_url     # "http://127.0.0.1:41234"
            sandbox.token_url        # "http://127.0.0.1:41235/token"
            sandbox.cdn_url          # "http://localhost:41236"
            sandbox.username, sandbox.password
            httpx.Client(transport=httpx.WSGITransport(app=sandbox.app))   # in-process, same answers
    """

    def __init__(
        self,
        auth: str = "none",
        redirect: bool = False,
        storage: str | Path | None = None,
        port: int | None = None,
        users: Mapping[str, str] | None = None,
        token_ttl: int = 300,
        *,
        read_only_users: Mapping[str, str] | None = None,
        anonymous_pull: bool = True,
        options: RegistryOptions | None = None,
        listen: bool = True,
        access_log: Callable[[str], None] | None = None,
    ) -> None:
        if auth not in AUTH_MODES:
            raise ValueError(f"auth must be one of {', '.join(AUTH_MODES)}, not {auth!r}")
        self.auth = auth
        self.redirect = redirect
        self.users = dict(users) if users else {DEFAULT_USER: secrets.token_urlsafe(12)}
        self.username, self.password = next(iter(self.users.items()))
        self.accounts = Accounts(self.users, dict(read_only_users or {}),
                                 frozenset({"pull"}) if anonymous_pull else frozenset())
        self.storage = Storage(storage)
        self._servers: list[LoopbackServer] = []
        try:
            self._build(port, token_ttl, options, listen, access_log)
        except BaseException:
            self.close()
            raise

    def _build(
        self,
        port: int | None,
        token_ttl: int,
        options: RegistryOptions | None,
        listen: bool,
        access_log: Callable[[str], None] | None,
    ) -> None:
        secret = secrets.token_bytes(32)
        routes: dict[str, Any] = {}

        def open_origin(host: str, url_host: str, wanted_port: int | None, app: Any) -> str:
            if not listen:
                netloc = f"{url_host}:{wanted_port or _free_port()}"
                routes[netloc] = app
                return netloc
            server = LoopbackServer(app, host, wanted_port or 0, url_host=url_host, access_log=access_log)
            self._servers.append(server)
            routes[server.netloc] = app
            return server.netloc

        # the registry app is created last (it needs the other URLs) but bound first (its port is asked for)
        registry_proxy = _LateApp()
        self.registry_host = open_origin("127.0.0.1", "127.0.0.1", port, registry_proxy)
        self.registry_url = f"http://{self.registry_host}"
        self.token_url: str | None = None
        self.cdn_url: str | None = None
        self.token_app: TokenApp | None = None
        self.cdn_app: CdnApp | None = None
        access: AccessControl = OpenAccess()
        if self.auth == "basic":
            access = BasicAccess(self.accounts)
        elif self.auth == "token":
            issuer = TokenIssuer(secret + b"token", service=SERVICE, ttl=token_ttl)
            self.token_app = TokenApp(issuer, self.accounts)
            self.token_url = f"http://{open_origin('127.0.0.1', '127.0.0.1', None, self.token_app)}/token"
            access = BearerAccess(issuer, realm=self.token_url)
        redirector = None
        if self.redirect:
            cdn_proxy = _LateApp()
            self.cdn_url = f"http://{open_origin('127.0.0.1', 'localhost', None, cdn_proxy)}"
            redirector = BlobRedirector(self.cdn_url, secret + b"cdn")
            self.cdn_app = CdnApp(self.storage, redirector)
            cdn_proxy.app = self.cdn_app
        self.registry_app = RegistryApp(self.storage, access=access, redirector=redirector, options=options,
                                        secret=secret + b"uploads")
        registry_proxy.app = self.registry_app
        self.app = HostDispatcher(routes, self.registry_app)
        for server in self._servers:
            server.start()

    def close(self) -> None:
        """Stop the servers and remove temporary storage."""
        for server in self._servers:
            server.close()
        self._servers.clear()
        self.storage.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _LateApp:
    """A WSGI app whose target is set after the server bound its port."""

    app: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return self.app(environ, start_response)


def serve(
    port: int | None = None,
    auth: str = "none",
    redirect: bool = False,
    storage: str | Path | None = None,
    echo: Callable[[str], None] = print,
    *,
    verbose: bool = False,
    stop: threading.Event | None = None,
) -> None:
    """Run a sandbox in the foreground until Ctrl-C (or ``stop`` is set), printing how to use it.

    ``verbose`` also echoes one line per request (``127.0.0.1 "GET /v2/ HTTP/1.1" 200``).
    """
    access_log = echo if verbose else None
    with Sandbox(auth=auth, redirect=redirect, storage=storage, port=port, access_log=access_log) as sandbox:
        for line in describe(sandbox):
            echo(line)
        waiter = stop or threading.Event()
        previous = None
        if threading.current_thread() is threading.main_thread():  # SIGTERM cleans up like Ctrl-C
            previous = signal.signal(signal.SIGTERM, lambda *_: waiter.set())
        try:
            while not waiter.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
        echo("stopping the sandbox registry")


def describe(sandbox: Sandbox) -> list[str]:
    """The lines ``serve`` prints: URLs, credentials, example commands."""
    host = sandbox.registry_host
    lines = [f"regexplore sandbox registry: {sandbox.registry_url}  (auth: {sandbox.auth}, "
             f"redirects: {'on' if sandbox.redirect else 'off'})"]
    if sandbox.token_url:
        lines.append(f"  token server:   {sandbox.token_url}")
    if sandbox.cdn_url:
        lines.append(f"  blob CDN:       {sandbox.cdn_url}")
    where = "temporary, removed on exit" if sandbox.storage.temporary else "kept"
    lines.append(f"  storage:        {sandbox.storage.root} ({where})")
    login = ""
    skopeo_creds = ""
    curl_auth = ""
    if sandbox.auth != "none":
        lines.append(f"  user:           {sandbox.username}")
        lines.append(f"  password:       {sandbox.password}")
        login = f"echo '{sandbox.password}' | "
        skopeo_creds = f" --dest-creds {sandbox.username}:{sandbox.password}"
        curl_auth = f" -u {sandbox.username}:{sandbox.password}"
    pull = f"regexplore trace pull {host}/sample:1"
    if login:
        pull = f"{login}{pull} --username {sandbox.username} --password-stdin"
    lines += [
        "",
        "try:",
        f"  skopeo copy --dest-tls-verify=false{skopeo_creds} oci:<layout-dir>:<tag> docker://{host}/sample:1",
        f"  {pull}",
    ]
    if sandbox.auth == "token":
        lines.append(f"  curl -s{curl_auth} '{sandbox.token_url}?service={SERVICE}"
                     f"&scope=registry:catalog:*'   # then: curl -H 'Authorization: Bearer <token>' "
                     f"{sandbox.registry_url}/v2/_catalog")
    else:
        lines.append(f"  curl -s{curl_auth} {sandbox.registry_url}/v2/_catalog")
    lines += ["", "press Ctrl-C to stop"]
    return lines
