"""regexplore's pull as a library call with recording OFF (the recorder's cost, by difference).

    python -m benchmarks.norec pull IMAGE LAYOUT_DIR

It imports the CLI module like `regexplore trace pull` does, so both pay the
same start-up and the difference is the recording itself (tap, redaction,
timings, trace file).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import explorer.cli  # noqa: F401 - the same imports as the CLI run it is compared with
from explorer.flows.pull import pull
from explorer.protocol import mediatypes, reference
from explorer.session import ClientOptions, TraceSession


def main() -> None:
    verb, image, target = sys.argv[1:4]
    ref = reference.parse(image)
    trace_out = Path(tempfile.mkdtemp()) / "norec.trace.json"
    session = TraceSession(verb, image, trace_out, options=ClientOptions(record=False))
    with session.running():
        client = session.client(ref.api_host)
        if verb == "pull":
            pull(client, ref, platform=mediatypes.Platform("linux", "amd64"), layout=Path(target))
        else:
            raise SystemExit(f"unknown verb {verb}")


if __name__ == "__main__":
    main()
