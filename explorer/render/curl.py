"""A bash script of curl commands following the protocol a trace shows → ``templates/curl.sh.j2``.

Rule 1: pure; the view model comes from ``scripts``, every value through ``script_values``.
Rule 2: the script needs bash (3.2 is enough), curl, awk and sha256sum/shasum: no jq (a small
awk reader flattens manifests to ``path<TAB>value`` lines). It learns the auth scheme from
the registry's 401, gets its own tokens from the realm that registry's challenge names, keeps
credentials and tokens in a private temporary file passed with ``curl -H @file`` (never on a
command line), sends them only to the registry's own origin (curl drops them on a redirect to
another host; a 401 from another origin is not answered), streams blobs to
``OUT/blobs/sha256/<hex>`` and verifies each digest. Digests read from a manifest are checked
(``sha256:<64 hex>``) before they name a URL or a file.
Rule 3: every value is a shell word: parameters as ``"$NAME"``, literals single-quoted
(:func:`shlex.quote`), defaults assigned on their own lines; free text only in comments
(``comment`` filter: one printable line).
"""

from __future__ import annotations

import shlex

from explorer.annotate import AnnotatedTrace
from explorer.render import script_values, scripts
from explorer.render.base import RenderOptions, Templates

__all__ = ["TEMPLATES", "render", "word"]


def word(value: object) -> str:
    """A shell word for a script value: ``"$NAME"`` for a parameter, else the literal single-quoted."""
    if isinstance(value, scripts.Value):
        return f'"${value.name}"' if value.name else shlex.quote(str(value.literal))
    return shlex.quote(str(value))


TEMPLATES = Templates(comment=script_values.comment, sh=word)


def render(annotated: AnnotatedTrace, options: RenderOptions) -> str:
    return scripts.render(annotated, options, TEMPLATES, "curl.sh.j2")
