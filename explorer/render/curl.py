"""A bash script of curl commands that does again what a trace did → ``templates/curl.sh.j2``.

Rule 1: pure; imports ``explorer.render`` (``scripts`` for the view model) and the stdlib.
Rule 2: the script needs bash (3.2 is enough), curl and sha256sum/shasum: no jq. It
learns the auth scheme from the registry's 401, gets its own tokens from the
challenge's realm, keeps credentials and tokens in a private temporary file passed
with ``curl -H @file`` (never on a command line, and curl does not forward such a
header when a redirect changes host), streams blobs to ``OUT/blobs/sha256/<hex>``
and verifies each digest with sha256sum. Registry, repositories and tag are
parameters (first argument or environment); credentials are read from
``REGISTRY_USERNAME``/``REGISTRY_PASSWORD`` at run time only.
"""

from __future__ import annotations

import shlex

from explorer.render import script_values, scripts
from explorer.render.base import RenderOptions, add_filter
from explorer.trace import Trace

__all__ = ["export", "executable", "extension", "name", "render", "word"]

name = "curl"
export = True  # a full-fidelity export: every exchange, never collapsed (`regexplore export`)
extension = ".sh"
executable = True  # the CLI marks written files executable


def word(value: object) -> str:
    """A shell word for a script value: ``"$NAME"`` for a parameter, else the literal single-quoted."""
    if isinstance(value, scripts.Value):
        return f'"${value.name}"' if value.name else shlex.quote(str(value.literal))
    return shlex.quote(str(value))


add_filter("comment", script_values.comment)
add_filter("sh", word)


def render(trace: Trace, options: RenderOptions) -> str:
    return scripts.render(trace, options, "curl.sh.j2")
