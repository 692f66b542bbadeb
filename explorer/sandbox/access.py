"""Who may do what in the sandbox registry: accounts, and the none / basic / token gatekeepers.

Rule 1: scopes are parsed, compared (``covers``) and merged (``merge_scopes``) by
``protocol/challenge.py``; the scopes a request needs come from
``challenge.scopes_for_request`` (distribution's
``app.go`` rules), never from a table here.
Rule 2: answers look like distribution 2.8's: 401 ``UNAUTHORIZED`` with a
``detail`` listing the needed access records and a ``WWW-Authenticate`` of
``Basic realm="regexplore-sandbox"`` or ``Bearer realm=…,service=…,scope=…[,error=…]``
(several scopes space-separated in ONE ``scope`` value, as for a mount).
``error="invalid_token"`` for an expired or forged token, ``error="insufficient_scope"``
for a valid one that lacks an action. Basic auth is all-or-nothing in
distribution; our read-only accounts add ``403 DENIED`` for push/delete.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from explorer.protocol import challenge
from explorer.protocol.challenge import Scope
from explorer.sandbox.accounts import Accounts, basic_credentials
from explorer.sandbox.tokens import InvalidToken, TokenIssuer
from explorer.sandbox.wsgi import ApiError, Request

__all__ = ["AccessControl", "BasicAccess", "BearerAccess", "OpenAccess"]

REALM = "regexplore-sandbox"


def _access_records(scopes: Sequence[str]) -> list[dict[str, str]] | None:
    """distribution's 401 ``detail``: one record per (resource, action)."""
    records = []
    for scope in (challenge.parse_scope(text) for text in scopes):
        for action in scope.actions:
            records.append({"Type": scope.type, "Class": "", "Name": scope.name, "Action": action})
    return records or None


class AccessControl(Protocol):
    """Decides a request: return to let it through, raise ApiError (401/403) to refuse it."""

    def check(self, request: Request, scopes: Sequence[str]) -> None: ...


class OpenAccess:
    """``auth="none"``: everyone may do everything."""

    def check(self, request: Request, scopes: Sequence[str]) -> None:
        return None


class BasicAccess:
    """``auth="basic"``: the registry itself checks ``Authorization: Basic`` on every request."""

    def __init__(self, accounts: Accounts, realm: str = REALM) -> None:
        self.accounts = accounts
        self.realm = realm

    def check(self, request: Request, scopes: Sequence[str]) -> None:
        credentials = basic_credentials(request)
        if credentials is None or not self.accounts.authenticate(*credentials):
            raise ApiError("UNAUTHORIZED", _access_records(scopes),
                           headers=[("WWW-Authenticate", f'Basic realm="{self.realm}"')])
        account = credentials[0]
        for scope in (challenge.parse_scope(text) for text in scopes):
            granted = Scope(scope.type, scope.name, self.accounts.allowed(account, scope))
            if not challenge.covers([granted], [scope]):
                raise ApiError("DENIED", _access_records([str(scope)]))


class BearerAccess:
    """``auth="token"``: a JWT from the token server, checked for signature, time, audience and access."""

    def __init__(self, issuer: TokenIssuer, realm: str) -> None:
        self.issuer = issuer
        self.realm = realm

    def check(self, request: Request, scopes: Sequence[str]) -> None:
        header = request.header("Authorization") or ""
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise self._challenge(scopes, None)
        try:
            claims = self.issuer.verify(token.strip())
        except InvalidToken:
            raise self._challenge(scopes, "invalid_token") from None
        granted = [
            Scope(str(item.get("type", "")), str(item.get("name", "")), tuple(item.get("actions") or ()))
            for item in claims.get("access") or [] if isinstance(item, dict)
        ]
        if not challenge.covers(granted, scopes):
            raise self._challenge(scopes, "insufficient_scope")

    def _challenge(self, scopes: Sequence[str], error: str | None) -> ApiError:
        parts = [f'realm="{self.realm}"', f'service="{self.issuer.service}"']
        merged = challenge.merge_scopes(scopes) if scopes else ()
        if merged:
            parts.append(f'scope="{" ".join(merged)}"')
        if error:
            parts.append(f'error="{error}"')
        return ApiError("UNAUTHORIZED", _access_records(scopes),
                        headers=[("WWW-Authenticate", "Bearer " + ",".join(parts))])
