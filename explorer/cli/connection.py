"""The connection options, declared ONCE: ``@connection_options`` adds them to a command.

A command declares one parameter ``connection: Connection = CONNECTION`` where the flags
belong in its ``--help``; the decorator replaces it, in the signature typer reads, by
``--username``/``--password-stdin``/``--password`` (unless ``credentials=False``),
``--plain-http``, ``--insecure``, ``--jobs`` (with ``jobs=True``), ``--retries`` and
``--timeout``, and calls the command with one :class:`Connection` built from them.

Rule: options only; the library's ``ConnectionOptions`` is imported when a command runs.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from explorer.cli.base import state
from explorer.cli.options import (
    credentials_from_flags,
    InsecureOpt,
    JobsOpt,
    PasswordOpt,
    PasswordStdinOpt,
    PlainHttpOpt,
    RetriesOpt,
    TimeoutOpt,
    UsernameOpt,
)

if TYPE_CHECKING:
    from explorer.client.credentials import Credentials
    from explorer.operations import ConnectionOptions

__all__ = ["CONNECTION", "Connection", "connection_options"]

F = TypeVar("F", bound=Callable[..., Any])


class Connection:
    """What the connection flags say: the credentials (None: the Docker config, else anonymous) and options.

    A plain class: a dataclass's generated methods, which nothing here uses, cost start-up ~0.6 ms."""

    __slots__ = ("credentials", "options")

    def __init__(self, credentials: Credentials | None, options: ConnectionOptions) -> None:
        self.credentials = credentials
        self.options = options


CONNECTION: Any = None  # the marker parameter's default: the decorator always passes a Connection

# name, annotation, default; in --help order
_CREDENTIALS = (("username", UsernameOpt, None), ("password_stdin", PasswordStdinOpt, False),
                ("password", PasswordOpt, None))
_TRANSPORT = (("plain_http", PlainHttpOpt, False), ("insecure", InsecureOpt, False))
_JOBS = (("jobs", JobsOpt, 8),)  # 8: fastest at 25 ms RTT, no loss on loopback (issue 17, docs/performance.md)
_PATIENCE = (("retries", RetriesOpt, 3), ("timeout", TimeoutOpt, 30.0))


def connection_options(*, credentials: bool = True, jobs: bool = False) -> Callable[[F], F]:
    """Give the command the connection flags in place of its ``connection`` parameter."""
    flags = (*(_CREDENTIALS if credentials else ()), *_TRANSPORT, *(_JOBS if jobs else ()), *_PATIENCE)
    names = [name for name, _, _ in flags]

    def decorate(command: F) -> F:
        signature = inspect.signature(command, eval_str=True)
        params: list[inspect.Parameter] = []
        for param in signature.parameters.values():
            if param.name == "connection":
                params += [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default,
                                             annotation=annotation) for name, annotation, default in flags]
            else:
                params.append(param)
        assert len(params) == len(signature.parameters) - 1 + len(flags), f"{command.__name__} has no connection"

        @functools.wraps(command)
        def with_connection(**kwargs: Any) -> Any:
            from explorer.operations import ConnectionOptions

            given = {name: kwargs.pop(name) for name in names}
            login = None
            if credentials:
                login = credentials_from_flags(given.pop("username"), given.pop("password"),
                                               given.pop("password_stdin"))
            options = ConnectionOptions(debug_log=state["debug"], **given)
            return command(**kwargs, connection=Connection(login, options))

        del with_connection.__wrapped__  # typer reads the signature below, not the command's
        with_connection.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
        with_connection.__annotations__ = {p.name: p.annotation for p in params}
        return with_connection  # type: ignore[return-value]

    return decorate
