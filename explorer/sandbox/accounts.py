"""Sandbox accounts: users with full access, read-only users, anonymous callers.

Rule 1: shared by the registry's gatekeepers (access.py) and the
token server (tokens.py), so both grant the same rights.
Rule 2: like a real token server, a grant is the INTERSECTION of what was
asked and what the account may have, never an error (protocol.md §3.3).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field

from explorer.protocol.challenge import Scope
from explorer.sandbox.wsgi import Request

__all__ = ["Accounts", "basic_credentials"]

FULL_ACTIONS = frozenset({"pull", "push", "delete", "*"})


@dataclass
class Accounts:
    """Users with full access, read-only users, and what anonymous callers get (token auth only)."""

    users: Mapping[str, str]
    read_only: Mapping[str, str] = field(default_factory=dict)
    anonymous_actions: frozenset[str] = frozenset({"pull"})

    def authenticate(self, username: str, password: str) -> bool:
        expected = self.users.get(username, self.read_only.get(username))
        return expected is not None and hmac.compare_digest(expected.encode(), password.encode())

    def allowed(self, account: str | None, scope: Scope) -> tuple[str, ...]:
        """The actions of ``scope`` this account may have: the intersection, never an error."""
        wanted = set(scope.actions)
        if scope.type == "registry":
            return ("*",) if account in self.users and scope.name == "catalog" else ()
        if not scope.type.startswith("repository"):
            return ()
        if account in self.users:
            permitted = FULL_ACTIONS
        elif account in self.read_only:
            permitted = frozenset({"pull"})
        else:
            permitted = self.anonymous_actions
        if "*" in wanted and "*" in permitted:
            return ("*",)
        return tuple(sorted(wanted & permitted))


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """``(user, password)`` from ``Authorization: Basic …``, or None."""
    header = request.header("Authorization") or ""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, colon, password = decoded.partition(":")
    return (user, password) if colon else None
