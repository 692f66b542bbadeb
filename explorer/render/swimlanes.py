"""swimlanes.io text → ``templates/swimlanes.txt.j2``; ``--link`` gives a swimlanes.io URL instead.

swimlanes.io reads message text as Markdown and ends the participant part at
the first ``:``. So :func:`escape` puts every word holding Markdown or
punctuation that matters (paths, digests, ``host:port``, ``scope=…``) in a
code span, and participants are plain words (``Client``, ``Registry``,
``Auth``, ``Storage``) with their hosts listed in a note at the top.

The link is ``https://swimlanes.io/#`` + base64(raw DEFLATE(UTF-8 text)),
standard alphabet with padding, as the site's own "share" produces.
"""

from __future__ import annotations

import base64
import re
import zlib

from explorer.annotate import AnnotatedTrace
from explorer.printable import printable
from explorer.render import view
from explorer.render.base import RenderOptions, Templates

__all__ = ["TEMPLATES", "decode_link", "encode_link", "escape", "render"]

LINK_PREFIX = "https://swimlanes.io/#"
GLYPHS = {"request": "->", "response": "<--", "lost": "-x"}

_MARKDOWN = re.compile(r"[`*_~{}\[\]<>#|\\/&@]|:(?!$)")
_BLOCK_START = re.compile(r"^(?:[-+>!#=]|\d+[.)])")  # would start a list, quote or heading


def _code(word: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", word)), default=0)
    if not longest:
        return f"`{word}`"
    ticks = "`" * (longest + 1)
    return f"{ticks} {word} {ticks}"


def escape(text: str) -> str:
    """One line of swimlanes.io text: words with Markdown or syntax characters become code spans."""
    words = printable(text).split()
    return " ".join(_code(w) if _MARKDOWN.search(w) or (i == 0 and _BLOCK_START.match(w)) else w
                    for i, w in enumerate(words))


def encode_link(text: str) -> str:
    """The swimlanes.io URL that opens ``text`` in the editor."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw = compressor.compress(text.encode("utf-8")) + compressor.flush()
    return LINK_PREFIX + base64.b64encode(raw).decode("ascii")


def decode_link(url: str) -> str:
    """The diagram text inside a swimlanes.io URL (the inverse of :func:`encode_link`)."""
    state = url.split("#", 1)[1] if "#" in url else url
    return zlib.decompress(base64.b64decode(state), -15).decode("utf-8")


TEMPLATES = Templates(swimlanes=escape)


def render(annotated: AnnotatedTrace, options: RenderOptions) -> str:
    sequence = view.build(annotated, notes=options.notes, full=options.full, timing=options.timing,
                          title=options.title)
    text = TEMPLATES.render("swimlanes.txt.j2", view=sequence, glyphs=GLYPHS)
    return encode_link(text) + "\n" if options.link else text
