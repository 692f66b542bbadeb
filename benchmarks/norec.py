"""`regexplore trace pull` with recording OFF: the recorder's cost, by difference.

    python -m benchmarks.norec trace pull IMAGE [options...]

It runs the very same CLI command (same imports, same argument parsing, same
flow) with one difference: the session's transport passes requests straight to
httpx (``ClientOptions(record=False)``), so no exchange is recorded, hashed,
redacted or written. Benchmark-only: the switch is set here, not offered to users.
"""

from __future__ import annotations

import gc
import sys

# As ``explorer.cli.run`` does for a transfer: no young collections while start-up imports (else this
# command paid ~50 of them, 4-8 ms, that the recorded one does not); the operation resumes the collector.
gc.disable()

from explorer import cli  # noqa: E402  (light: nothing heavy before the early connections)

if __name__ == "__main__":  # the early connections and handshakes begin before the heavy imports, as in the
    cli._preconnect([w for w in sys.argv[1:] if w not in cli._ROOT_FLAGS])  # recorded command (main's order)
    cli._preconnect = lambda words: True  # begun: main() must not open them twice
    cli._import_operation()  # then, as main, the transfer's modules (explorer/cli Rule 2d), before the client below

from explorer.client import session  # noqa: E402
from explorer.cli import run  # noqa: E402

_original_init = session.TraceSession.__init__


def _unrecorded_init(self: session.TraceSession, *args: object, **kwargs: object) -> None:
    options = kwargs.get("options") or session.ClientOptions()
    options.record = False  # type: ignore[union-attr]
    kwargs["options"] = options
    _original_init(self, *args, **kwargs)  # type: ignore[arg-type]


if __name__ == "__main__":
    session.TraceSession.__init__ = _unrecorded_init  # type: ignore[method-assign]
    run()
