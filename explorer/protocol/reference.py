"""Image references: ``[registry/]repository[:tag][@digest]``, parsed and normalised.

Rule 1: the grammar is distribution/reference's ``regexp.go`` (module
``github.com/distribution/reference`` v0.6.0 / main 0965666), transcribed
below with its productions as comments; the Docker Hub defaults are
``normalize.go`` (``ParseNormalizedNamed``, ``splitDockerDomain``,
``TagNameOnly``). Where we are stricter or friendlier, a comment says so.
Rule 2: every refusal is ONE ``InvalidReference`` line naming the part that is
wrong and what is allowed.

Normalisation (protocol.md §9), applied to the part before the first ``/``:

1. no ``/`` at all → ``docker.io/library/<name>`` (so ``localhost`` alone, or
   ``localhost:5000`` alone, is a Docker Hub name with a tag: Docker's quirk);
2. ``localhost`` → the registry;
3. ``index.docker.io`` (legacy) → ``docker.io``;
4. contains ``.`` or ``:`` (``ghcr.io``, ``127.0.0.1:5000``, ``[::1]:5000``) → the registry;
5. contains an upper-case letter → the registry (upper case is illegal in paths);
6. otherwise the whole name is a Docker Hub path;
7. ``docker.io`` with a one-component path gets ``library/``;
8. neither tag nor digest → tag ``latest``; both may be given
   (``busybox:1.36@sha256:…``: the digest decides what is pulled);
9. a bare 64-hex string is an image id and is refused.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import replace

from explorer.errors import InvalidReference
from explorer.protocol import digest as digests
from explorer.protocol.quoting import quote
from explorer.records import record

__all__ = [
    "DEFAULT_TAG",
    "DOCKER_HUB",
    "DOCKER_HUB_API_HOST",
    "LEGACY_DOCKER_HUB",
    "MAX_REPOSITORY_LENGTH",
    "OFFICIAL_PREFIX",
    "Reference",
    "is_loopback",
    "is_repository",
    "parse",
    "parse_registry",
    "parse_repository",
    "validate_repository",
    "validate_tag",
]

DOCKER_HUB = "docker.io"  # defaultDomain
LEGACY_DOCKER_HUB = "index.docker.io"  # legacyDefaultDomain
DOCKER_HUB_API_HOST = "registry-1.docker.io"  # containerd's DefaultHost for docker.io
OFFICIAL_PREFIX = "library/"  # officialRepoPrefix
DEFAULT_TAG = "latest"
MAX_REPOSITORY_LENGTH = 255  # RepositoryNameTotalLengthMax; v0.6.0 counts the path only
_MAX_HOST_LENGTH = 255  # ours: keeps the host regex's work bounded

# alphanumeric     := [a-z0-9]+
_ALPHANUMERIC = r"[a-z0-9]+"
# separator        := [._] | "__" | "-"+
_SEPARATOR = r"(?:[._]|__|-+)"
# path-component   := alphanumeric ( separator alphanumeric )*
_PATH_COMPONENT = re.compile(rf"{_ALPHANUMERIC}(?:{_SEPARATOR}{_ALPHANUMERIC})*", re.ASCII)
# remote-name      := path-component ( "/" path-component )*
_REMOTE_NAME = re.compile(rf"{_PATH_COMPONENT.pattern}(?:/{_PATH_COMPONENT.pattern})*", re.ASCII)
# domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
# domain-name      := domain-component ( "." domain-component )*      (IPv4 in decimal fits too)
_DOMAIN_NAME = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*"
# ipv6address      := "[" [a-fA-F0-9:]+ "]"        (no zone ids, no IPv4-mapped forms)
_IPV6_ADDRESS = r"\[[a-fA-F0-9:]+\]"
# domain           := ( domain-name | ipv6address ) [ ":" [0-9]+ ]
_DOMAIN = re.compile(rf"(?:{_DOMAIN_NAME}|{_IPV6_ADDRESS})(?::[0-9]+)?", re.ASCII)
# tag              := [\w][\w.-]{0,127}     (\w spelled out: Python's \w is Unicode)
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", re.ASCII)
# digest           := [A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}
#                     and then the OCI grammar of digest.py (go-digest's Validate): both must hold.
#                     (compiled by ``re`` on first use: only a reference with a digest needs it)
_REFERENCE_DIGEST = r"(?a)[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
# identifier       := [a-f0-9]{64}          (an image id; refused as a name)
_IDENTIFIER = re.compile(r"[a-f0-9]{64}", re.ASCII)

#: The grammars as regular expressions (unanchored), for documents that show them (OpenAPI).
REPOSITORY_PATTERN = _REMOTE_NAME.pattern
TAG_PATTERN = _TAG.pattern

_HOST_RULE = "a registry is host[:port] (a DNS name, IPv4 or [IPv6]), e.g. ghcr.io or 127.0.0.1:5000"


@record(frozen=True)
class Reference:
    """A normalised image reference; every field is validated on construction.

    ``registry`` is the canonical domain as written (``docker.io``,
    ``127.0.0.1:5000``, ``[::1]:5000``); :attr:`api_host` is where requests go.
    Build one with :func:`parse` to get the Docker Hub normalisation; the
    constructor validates but does not normalise (``library/`` is not added).
    """

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    def __post_init__(self) -> None:
        if not _is_host(self.registry):
            raise InvalidReference(f"invalid registry {quote(self.registry)}: {_HOST_RULE}")
        validate_repository(self.repository)
        if self.tag is not None:
            validate_tag(self.tag)
        if self.digest is not None:
            _validate_reference_digest(self.digest, self.digest)

    @property
    def api_host(self) -> str:
        """The host[:port] to send API requests to: ``registry-1.docker.io`` for Docker Hub."""
        return DOCKER_HUB_API_HOST if self.registry == DOCKER_HUB else self.registry

    @property
    def tag_or_latest(self) -> str:
        return self.tag if self.tag is not None else DEFAULT_TAG

    @property
    def reference(self) -> str:
        """What goes in ``/v2/<name>/manifests/<reference>``: the digest if any, else the tag."""
        return self.digest if self.digest is not None else self.tag_or_latest

    def __str__(self) -> str:
        """The canonical full form: ``docker.io/library/alpine:3.20[@sha256:…]``."""
        return f"{self.registry}/{self.repository}{self._suffix()}"

    def familiar(self) -> str:
        """The short form people type: ``alpine:3.20``, ``team/app:1.0``; full form off Docker Hub."""
        if self.registry != DOCKER_HUB:
            return str(self)
        path = self.repository
        if path.startswith(OFFICIAL_PREFIX) and "/" not in path[len(OFFICIAL_PREFIX):]:
            path = path[len(OFFICIAL_PREFIX):]
        elif _names_a_registry(path.split("/", 1)[0]):
            return str(self)  # ours: "docker.io/my.org/app" must not shorten to a registry "my.org"
        return path + self._suffix()

    def with_tag(self, tag: str) -> Reference:
        """The same repository at ``tag`` (validated); any digest is dropped."""
        return replace(self, tag=validate_tag(tag), digest=None)

    def with_digest(self, digest: str) -> Reference:
        """The same repository pinned to ``digest`` (validated); the tag is kept, as in ``a:1@sha256:…``."""
        return replace(self, digest=digest)

    def repository_url_path(self) -> str:
        """``/v2/<repository>``: the prefix of every repository endpoint."""
        return f"/v2/{self.repository}"

    def _suffix(self) -> str:
        return (f":{self.tag}" if self.tag is not None else "") + (f"@{self.digest}" if self.digest else "")


def parse(text: str) -> Reference:
    """Parse and normalise a user's image reference (``alpine`` → ``docker.io/library/alpine:latest``)."""
    name, tag, digest = _split_reference(text, what="reference")
    if _IDENTIFIER.fullmatch(text):
        raise InvalidReference(
            f"invalid reference {quote(text)}: a 64-hex string is an image id, not a repository name"
        )
    registry, repository = _split_registry(name, text)
    if tag is None and digest is None:
        tag = DEFAULT_TAG
    return Reference(registry, repository, tag, digest)


def parse_repository(text: str) -> Reference:
    """Parse a repository without tag or digest (``127.0.0.1:5000/team/app``, ``alpine``)."""
    name, tag, digest = _split_reference(text, what="repository")
    if digest is not None:
        raise InvalidReference(f"invalid repository {quote(text)}: a repository takes no @digest; remove it")
    if tag is not None:
        if "/" not in name and tag.isdigit() and _names_a_registry(name) and _is_host(name):
            raise InvalidReference(
                f"invalid repository {quote(text)}: this looks like a registry; add the repository, "
                f"e.g. {text}/team/app"
            )
        raise InvalidReference(
            f"invalid repository {quote(text)}: a repository takes no :tag; remove {quote(':' + tag)}"
        )
    registry, repository = _split_registry(name, text)
    return Reference(registry, repository)


def parse_registry(text: str) -> str:
    """Parse a registry ``host[:port]`` (``127.0.0.1:5000``, ``docker.io``).

    ``index.docker.io`` becomes ``docker.io``; one trailing ``/`` is forgiven; a scheme or a path is refused.
    """
    host = text.strip()
    if not host:
        raise InvalidReference("empty registry: give host[:port], e.g. 127.0.0.1:5000")
    _refuse_credentials(host, "registry", path=False)
    if "://" in host:
        raise InvalidReference(
            f"invalid registry {quote(text)}: give host[:port] without a scheme, e.g. ghcr.io"
        )
    host = host[:-1] if host.endswith("/") else host
    if "/" in host:
        raise InvalidReference(f"invalid registry {quote(text)}: a registry is host[:port], not a path")
    if not _is_host(host):
        raise InvalidReference(f"invalid registry {quote(text)}: {_HOST_RULE}")
    return DOCKER_HUB if host == LEGACY_DOCKER_HUB else host


def validate_repository(name: str) -> str:
    """Return ``name`` if it is a valid repository path (``team/app``), else raise InvalidReference."""
    problem = _repository_problem(name)
    if problem is not None:
        raise InvalidReference(f"invalid repository name {quote(name)}: {problem}")
    return name


def is_repository(name: str) -> bool:
    """True when ``name`` is a valid repository path (the ``<name>`` of ``/v2/<name>/...``)."""
    return len(name) <= MAX_REPOSITORY_LENGTH and _REMOTE_NAME.fullmatch(name) is not None


def validate_tag(tag: str) -> str:
    """Return ``tag`` if it follows the tag grammar, else raise InvalidReference."""
    problem = _tag_problem(tag)
    if problem is not None:
        raise InvalidReference(f"invalid tag {quote(tag)}: {problem}")
    return tag


def is_loopback(host: str) -> bool:
    """True for ``localhost``, ``127.0.0.0/8`` and ``::1``, with or without a port.

    Docker treats these registries as plain-http ("insecure") by default.
    """
    value = host.strip().lower()
    if value.startswith("["):
        address, bracket, port = value[1:].partition("]")
        if not bracket or (port and not re.fullmatch(r":[0-9]+", port, re.ASCII)):
            return False
    elif value.count(":") == 1:
        address, _, port = value.partition(":")
        if not re.fullmatch(r"[0-9]+", port, re.ASCII):
            return False
    else:
        address = value  # a name, an IPv4 address or a bare IPv6 address such as ::1
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


# --- helpers ------------------------------------------------------------------------------

def _refuse_credentials(text: str, what: str, *, path: bool = True) -> None:
    """``[scheme://]user:password@host/…`` is refused, and its password never echoed (ours: Docker
    says "invalid reference format" and echoes nothing; a message that quoted it would print it)."""
    rest = text.split("://", 1)[1] if "://" in text else text
    userinfo, at, after = rest.partition("@")
    if not at or "/" in userinfo or (path and "/" not in after):
        return  # no "@", or "name:tag@sha256:…" / "host/repo@sha256:…"
    user, colon, _password = userinfo.partition(":")
    shown = f"{user}:<redacted>@{after}" if colon else f"{user}@{after}"
    raise InvalidReference(
        f"invalid {what} {quote(shown)}: credentials do not belong in it",
        f"log in with `docker login`, or give --username {user or 'USER'} and --password-stdin",
    )


def _split_reference(text: str, *, what: str) -> tuple[str, str | None, str | None]:
    """``name[:tag][@digest]`` → the three parts, with the tag and digest validated."""
    if not text:
        raise InvalidReference(f"empty {what}: give e.g. alpine:3.20 or ghcr.io/owner/app:1.0")
    _refuse_credentials(text, what)
    if text != text.strip():
        raise InvalidReference(f"invalid {what} {quote(text)}: remove the surrounding spaces")
    name, at, digest = text.partition("@")
    if at:
        _validate_reference_digest(digest, text)
    # A tag follows the last ':' after the last '/' ("localhost:5000/x" has none).
    tag: str | None = None
    colon = name.rfind(":")
    if colon > name.rfind("/"):
        name, tag = name[:colon], name[colon + 1:]
        problem = _tag_problem(tag)
        if problem is not None:
            raise InvalidReference(f"invalid tag {quote(tag)} in {what} {quote(text)}: {problem}")
    if not name:
        raise InvalidReference(f"invalid {what} {quote(text)}: the repository name is missing")
    return name, tag, (digest if at else None)


def _validate_reference_digest(digest: str, text: str) -> None:
    where = f" in reference {quote(text)}" if text != digest else ""
    problem = digests.problem(digest)
    if problem is not None:
        raise InvalidReference(f"invalid digest {quote(digest)}{where}: {problem}")
    if not re.fullmatch(_REFERENCE_DIGEST, digest):
        raise InvalidReference(
            f"invalid digest {quote(digest)}{where}: a reference digest is letters-first algorithm "
            "':' and at least 32 hex characters, e.g. sha256:<64 hex>"
        )


def _names_a_registry(component: str) -> bool:
    """splitDockerDomain's test: is the first path component a registry (rules 2, 4, 5)?"""
    return "." in component or ":" in component or component == "localhost" or component != component.lower()


def _split_registry(name: str, text: str) -> tuple[str, str]:
    """``name`` (no tag, no digest) → (registry, repository), Docker Hub rules applied."""
    first, slash, rest = name.partition("/")
    if slash and _names_a_registry(first):
        registry, path = first, rest
        if not _is_host(registry):
            raise InvalidReference(
                f"invalid registry {quote(registry)} in reference {quote(text)}: {_HOST_RULE}"
            )
    else:
        registry, path = DOCKER_HUB, name
    if registry == LEGACY_DOCKER_HUB:
        registry = DOCKER_HUB
    if registry == DOCKER_HUB and "/" not in path:
        path = OFFICIAL_PREFIX + path
    problem = _repository_problem(path)
    if problem is not None:
        raise InvalidReference(f"invalid reference {quote(text)}: {problem}")
    return registry, path


def _tag_problem(tag: str) -> str | None:
    if _TAG.fullmatch(tag):
        return None
    if not tag:
        return "a tag cannot be empty (remove the trailing ':' or add a tag)"
    if len(tag) > 128:
        return f"a tag has at most 128 characters, this one has {len(tag)}"
    if tag[0] in ".-":
        return "a tag cannot start with '.' or '-'"
    return "a tag may only hold A-Z a-z 0-9 _ . -"


def _is_host(host: str) -> bool:
    """``host[:port]`` by the domain production above."""
    return 0 < len(host) <= _MAX_HOST_LENGTH and _DOMAIN.fullmatch(host) is not None


def _repository_problem(path: str) -> str | None:
    """Why ``path`` is not a valid remote-name, or None. The checks go from broad to fine."""
    if not path:
        return "the repository name is empty"
    if len(path) > MAX_REPOSITORY_LENGTH:
        return f"repository name must not be more than {MAX_REPOSITORY_LENGTH} characters"
    if path != path.lower():
        return "repository name must be lowercase"
    for component in path.split("/"):
        if not component:
            return "repository name has an empty path component (check for // or a / at either end)"
        if not re.fullmatch(r"[a-z0-9._-]+", component, re.ASCII):
            return f"repository name may only hold a-z 0-9 . _ - and /, not {quote(component)}"
        if not _PATH_COMPONENT.fullmatch(component):
            return (f"path component {quote(component)} must start and end with a-z or 0-9, with one '.', "
                    "one or two '_', or any '-' between")
    return None
