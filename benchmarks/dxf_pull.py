"""Pull an image with python-dxf (a peer): manifest, then config and every layer to files.

    python -m benchmarks.dxf_pull HOST REPO TAG OUTDIR
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from dxf import DXF


def main() -> None:
    host, repo, tag, outdir = sys.argv[1:5]
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    registry = DXF(host, repo, insecure=True)
    manifest = json.loads(registry.get_manifest(tag))
    digests = [manifest["config"]["digest"]] + [layer["digest"] for layer in manifest["layers"]]
    for digest in digests:
        with open(out / digest.replace(":", "-"), "wb") as f:
            for chunk in registry.pull_blob(digest):
                f.write(chunk)


if __name__ == "__main__":
    os.environ.setdefault("DXF_INSECURE", "1")
    main()
