"""Re-record every trace in recordings/ against real registries, then regenerate what depends on them.

    .venv/bin/python scripts/record.py          # after scripts/test.sh has installed the tools once
    .venv/bin/python scripts/record.py anonymous/push-jobs4.trace.json   # only these; the others are kept
    .venv/bin/python scripts/record.py --clients  # only recordings/clients/ (skopeo, podman via the proxy)

It starts CNCF distribution (Debian's docker-registry) in the four test variants
(anonymous, basic, token with our JWT token server, redirect = token + CDN-style
307s) and the built-in registry (token auth + redirects), seeds the same images
the tests use with skopeo, runs `regexplore trace ...` for each recording as a
real subprocess (so each trace records its own command line), and writes
recordings/README.md with the provenance of every file.

recordings/clients/ holds other clients' flows, recorded through `regexplore proxy`
in front of the token variant (skopeo and podman, pull and push), each beside
regexplore's own trace of the same operation, so the gallery can show their diff. Then it regenerates the
golden files that render recordings (tests/render/golden) and the gallery
(docs/gallery, via scripts/gen_docs.py). Review the result with `git diff`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from explorer.protocol.mediatypes import Platform  # noqa: E402
from explorer.oci.sample import build_sample  # noqa: E402
from explorer.sandbox import Sandbox  # noqa: E402
from tests.infra.podman import Podman  # noqa: E402
from tests.infra.registry import RunningRegistry, seed, start_registry  # noqa: E402
from tests.infra.skopeo import skopeo_copy  # noqa: E402

OUT = REPO / "recordings"


@dataclass
class Recording:
    path: str  # relative to recordings/
    registry: str  # which registry (variant)
    args: list[str]  # regexplore arguments, HOST standing for the registry's host:port
    expect_failure: bool = False
    login: bool = True
    title: str = ""


RECORDINGS = [
    Recording("anonymous/pull.trace.json", "anonymous", ["trace", "pull", "HOST/test/small:1.0", "--jobs", "1"],
              title="Pull from an anonymous registry"),
    Recording("anonymous/pull-multi-arch.trace.json", "anonymous",
              ["trace", "pull", "HOST/test/multi:1.0", "--platform", "linux/arm64/v8", "--jobs", "1"],
              title="Pull one platform of a multi-arch index"),
    Recording("anonymous/push-first.trace.json", "anonymous",
              ["trace", "push", "--sample", "HOST/recordings/hello:1", "--jobs", "1"],
              title="First push: every blob uploaded"),
    Recording("anonymous/push-second.trace.json", "anonymous",
              ["trace", "push", "--sample", "HOST/recordings/hello:1", "--jobs", "1"],
              title="Second push: every blob already present, skipped"),
    Recording("anonymous/push-chunked.trace.json", "anonymous",
              ["trace", "push", "--sample", "HOST/recordings/chunked:1", "--chunk-size", "4KiB", "--jobs", "1"],
              title="Chunked push: PATCH with Content-Range"),
    Recording("anonymous/catalog-paginated.trace.json", "anonymous", ["trace", "catalog", "HOST", "-n", "2"],
              title="Catalog pagination following Link"),
    Recording("anonymous/fail-unknown-manifest.trace.json", "anonymous", ["trace", "pull", "HOST/test/small:nope"],
              expect_failure=True, title="Failure: unknown tag (MANIFEST_UNKNOWN)"),
    Recording("basic/pull.trace.json", "basic", ["trace", "pull", "HOST/test/small:1.0", "--jobs", "1"],
              title="Pull with HTTP Basic auth"),
    Recording("basic/fail-wrong-password.trace.json", "basic", ["trace", "pull", "HOST/test/small:1.0"],
              expect_failure=True, title="Failure: wrong password"),
    Recording("token/pull.trace.json", "token", ["trace", "pull", "HOST/test/small:1.0", "--jobs", "1"],
              title="Pull with Bearer token auth"),
    Recording("token/push-mount.trace.json", "token",
              ["trace", "push", "--sample", "HOST/recordings/mounted:1", "--mount-from", "recordings/source",
               "--jobs", "1"],
              title="Push with cross-repository mounts (201)"),
    Recording("token/copy-mount.trace.json", "token",
              ["trace", "copy", "HOST/test/multi:1.0", "HOST/recordings/copy:1", "--all-platforms", "--jobs", "1",
               "--src-creds", "USER:PASS", "--dest-creds", "USER:PASS"],
              login=False, title="Copy within one registry: blobs mounted"),
    Recording("redirect/pull.trace.json", "redirect", ["trace", "pull", "HOST/test/small:1.0", "--jobs", "1"],
              title="Pull through CDN-style 307 redirects"),
    Recording("anonymous/push-jobs4.trace.json", "anonymous",
              ["trace", "push", "--sample", "HOST/recordings/parallel:1", "--jobs", "4"],
              title="Push at the default concurrency: blob transfers overlap"),
    Recording("redirect/copy-jobs4.trace.json", "redirect",
              ["trace", "copy", "HOST/test/small:1.0", "ANONYMOUS/recordings/copied:1", "--jobs", "4",
               "--src-creds", "USER:PASS"],
              login=False, title="Copy between two registries at the default concurrency (307s on the source)"),
    Recording("builtin/pull.trace.json", "builtin", ["trace", "pull", "HOST/demo/hello:1", "--jobs", "1"],
              title="Built-in registry: Client, Registry, Auth and Storage"),
    Recording("builtin/tags-paginated.trace.json", "builtin", ["trace", "tags", "HOST/demo/hello", "-n", "2"],
              title="Tags pagination with n and Link"),
]


def main(only: list[str]) -> None:
    """Record every recording, or only the paths in ``only`` (keeping the others and their provenance)."""
    if only == ["--clients"]:
        record_clients_only()
        return
    unknown = set(only) - {r.path for r in RECORDINGS}
    if unknown:
        raise SystemExit(f"no such recording: {', '.join(sorted(unknown))}")
    work = Path(tempfile.mkdtemp(prefix="regexplore-record-"))
    images = {
        "test/small:1.0": build_sample(layers=3),
        "test/multi:1.0": build_sample([Platform("linux", "amd64"), Platform("linux", "arm64", "v8")],
                                       seed="regexplore-multi"),
    }
    registries: dict[str, RunningRegistry] = {}
    provenance: list[dict[str, str]] = []
    try:
        for variant in ("anonymous", "basic", "token", "redirect"):
            registry = registries[variant] = start_registry(variant, work / "registries")
            for name, image in images.items():
                seed(registry, image, *name.split(":"))
        for name in ("recordings/catalog-a", "recordings/catalog-b", "recordings/catalog-c"):
            seed(registries["anonymous"], images["test/small:1.0"], name, "1")
        seed(registries["token"], build_sample(), "recordings/source", "1")
        with Sandbox(auth="token", redirect=True) as sandbox:
            layout = build_sample([Platform("linux", "amd64"), Platform("linux", "arm64", "v8")]).write_layout(
                work / "builtin-layout", "1")
            creds = (sandbox.username, sandbox.password)
            for tag in ("1", "2", "3", "4", "5"):
                skopeo_copy(f"oci:{layout}:1", f"docker://{sandbox.registry_host}/demo/hello:{tag}", dest_creds=creds)
            if not only:
                shutil.rmtree(OUT, ignore_errors=True)
            for rec in RECORDINGS:
                if only and rec.path not in only:
                    continue
                if rec.registry == "builtin":
                    host, user, password, version = sandbox.registry_host, *creds, "regexplore built-in registry"
                else:
                    reg = registries[rec.registry]
                    host, user, password, version = reg.host, reg.username, reg.password, "CNCF distribution 2.8.2"
                if rec.path.endswith("fail-wrong-password.trace.json"):
                    password = "not-the-password"
                provenance.append(record(rec, host, user, password, version, registries["anonymous"].host))
        if not only:
            provenance += record_clients(registries["token"], work / "clients", images)
    finally:
        for registry in registries.values():
            registry.stop()
        shutil.rmtree(work, ignore_errors=True)
    if only:  # keep the other recordings' provenance, in the order of RECORDINGS
        kept = {e["path"]: e for e in json.loads((OUT / "index.json").read_text(encoding="utf-8"))}
        kept.update({e["path"]: e for e in provenance})
        provenance = [kept[r.path] for r in RECORDINGS if r.path in kept]
    write_readme(provenance)
    env = {**os.environ, "REGEXPLORE_REGOLD": "1"}
    subprocess.run([sys.executable, "-m", "pytest", "-q", "tests/render/test_golden.py", "-p", "no:cacheprovider"],
                   cwd=REPO, env=env, check=True)
    subprocess.run([sys.executable, "scripts/gen_docs.py"], cwd=REPO, check=True)


def record(rec: Recording, host: str, user: str | None, password: str | None, version: str,
           anonymous: str) -> dict[str, str]:
    target = OUT / rec.path
    target.parent.mkdir(parents=True, exist_ok=True)
    args = [a.replace("HOST", host).replace("ANONYMOUS", anonymous).replace("USER:PASS", f"{user}:{password}")
            for a in rec.args]
    login = ["--username", user, "--password-stdin"] if user and rec.login else []
    # --plain-http: the recordings show the protocol, not the https probe a loopback registry gets without it
    argv = [sys.executable, "-m", "explorer", *args, "--plain-http", *login, "-o", str(target.relative_to(REPO)), "-q"]
    proc = subprocess.run(argv, cwd=REPO, input=(password or "") + "\n", text=True, capture_output=True)
    if (proc.returncode != 0) != rec.expect_failure:
        raise SystemExit(f"{rec.path}: exit {proc.returncode}\n{proc.stderr}")
    shown = " ".join(["regexplore", *rec.args, "--plain-http", *(["--username", "USER", "--password-stdin"] if login else [])])
    print(f"recorded {rec.path} (exit {proc.returncode})")
    return {"path": rec.path, "title": rec.title, "registry": f"{version}, {rec.registry}", "command": shown}


# --- other clients, through the recording proxy ---------------------------------------------
CLIENTS = OUT / "clients"


def record_clients(registry: RunningRegistry, work: Path, images: dict) -> list[dict[str, str]]:
    """skopeo and podman pull and push through ``regexplore proxy``, each beside regexplore's own flow."""
    version = "CNCF distribution 2.8.2"
    creds = (registry.username, registry.password)
    shutil.rmtree(CLIENTS, ignore_errors=True)
    CLIENTS.mkdir(parents=True)
    layout = images["test/small:1.0"].write_layout(work / "layout", "1")
    entries = []
    ours_pull = Recording("clients/regexplore-pull.trace.json", "token",
                          ["trace", "pull", "HOST/test/small:1.0", "--plain-http"],
                          title="regexplore pull, for comparison with the other clients")
    ours_push = Recording("clients/regexplore-push.trace.json", "token",
                          ["trace", "push", f"{layout}:1", "HOST/recordings/regexplore-push:1", "--plain-http"],
                          title="regexplore push, for comparison with the other clients")
    for rec in (ours_pull, ours_push):
        entry = record(rec, registry.host, *creds, version, registry.host)
        entry["command"] = entry["command"].replace(str(layout), "LAYOUT")
        entries.append(entry)
    podman = Podman(work / "podman")
    pulled: list[str] = []  # podman's local name of the pulled image (it names the proxy it came through)

    def skopeo_pull(host: str) -> str:
        skopeo_copy(f"docker://{host}/test/small:1.0", f"oci:{work / 'skopeo-out'}:1", src_creds=creds)
        return "skopeo copy --src-tls-verify=false docker://PROXY/test/small:1.0 oci:DIR:1"

    def skopeo_push(host: str) -> str:
        skopeo_copy(f"oci:{layout}:1", f"docker://{host}/recordings/skopeo-push:1", dest_creds=creds)
        return "skopeo copy --dest-tls-verify=false oci:LAYOUT:1 docker://PROXY/recordings/skopeo-push:1"

    def podman_pull(host: str) -> str:
        podman.login(host, *creds)
        podman.pull(f"{host}/test/small:1.0")
        pulled.append(f"{host}/test/small:1.0")
        return "podman pull --tls-verify=false PROXY/test/small:1.0"

    def podman_push(host: str) -> str:
        podman.login(host, *creds)
        podman.push(pulled[-1], f"{host}/recordings/podman-push:1")
        return "podman push --tls-verify=false IMAGE docker://PROXY/recordings/podman-push:1"

    for name, run, ours, title in (
        ("skopeo-pull", skopeo_pull, ours_pull, "skopeo pull, through regexplore proxy"),
        ("skopeo-push", skopeo_push, ours_push, "skopeo push, through regexplore proxy"),
        ("podman-pull", podman_pull, ours_pull, "podman pull, through regexplore proxy"),
        ("podman-push", podman_push, ours_push, "podman push (mounts from the pulled repository), through regexplore proxy"),
    ):
        entries.append(record_proxied(name, run, registry, f"{version}, token", title, ours.path))
    return entries


def record_proxied(name: str, run, registry: RunningRegistry, version: str, title: str,
                   compare: str) -> dict[str, str]:
    """Start ``regexplore proxy`` as a real subprocess, run the client through it, stop it with SIGTERM."""
    import re
    import signal

    target = CLIENTS / f"{name}.trace.json"
    argv = [sys.executable, "-m", "explorer", "proxy", registry.url, "-q", "-o", str(target.relative_to(REPO))]
    proxy = subprocess.Popen(argv, cwd=REPO, stderr=subprocess.PIPE, text=True)
    try:
        host = re.search(r"http://(127\.0\.0\.1:\d+)", proxy.stderr.readline()).group(1)
        command = run(host)
    finally:
        proxy.send_signal(signal.SIGTERM)
        proxy.communicate(timeout=30)
    if proxy.returncode != 0:
        raise SystemExit(f"{name}: the proxy exited {proxy.returncode}")
    print(f"recorded clients/{name}.trace.json")
    return {"path": f"clients/{name}.trace.json", "title": title, "registry": version,
            "command": f"regexplore proxy UPSTREAM, then: {command}", "compare": compare}


def record_clients_only() -> None:
    """Re-record recordings/clients/ alone, keeping every other entry of index.json."""
    work = Path(tempfile.mkdtemp(prefix="regexplore-record-"))
    images = {"test/small:1.0": build_sample(layers=3)}
    registry = start_registry("token", work / "registries")
    try:
        seed(registry, images["test/small:1.0"], "test/small", "1.0")
        entries = record_clients(registry, work / "clients", images)
    finally:
        registry.stop()
        shutil.rmtree(work, ignore_errors=True)
    kept = [e for e in json.loads((OUT / "index.json").read_text(encoding="utf-8"))
            if not e["path"].startswith("clients/")]
    write_readme(kept + entries)
    env = {**os.environ, "REGEXPLORE_REGOLD": "1"}
    subprocess.run([sys.executable, "-m", "pytest", "-q", "tests/render/test_golden.py", "-p", "no:cacheprovider"],
                   cwd=REPO, env=env, check=True)
    subprocess.run([sys.executable, "scripts/gen_docs.py"], cwd=REPO, check=True)


def write_readme(entries: list[dict[str, str]]) -> None:
    (OUT / "index.json").write_text(json.dumps(entries, indent=1) + "\n", encoding="utf-8")
    rows = [f"| `{e['path']}` | {e['title']} | {e['registry']} | `{e['command']}` |" for e in entries]
    text = f"""# recordings/

Real traces, made by regexplore against real registries on loopback: CNCF distribution
2.8.2 (Debian's `docker-registry`) in the four test variants (anonymous; htpasswd basic
auth; Bearer token auth with the tests' JWT token server; token auth plus CDN-style 307
redirects to a static server on `localhost`) and regexplore's built-in registry (token auth
and redirects). Images are the tests' deterministic samples, seeded with skopeo.

They are test input (every one is validated against the trace schema, and rendered to
golden files in `tests/render/golden/`) and the source of the gallery in `docs/gallery/`.
`index.json` lists them with their titles and commands (the gallery reads it).
Secrets never reached them: tokens, passwords and signed URL parameters were redacted
by the recorder before anything was stored. Host ports differ between recordings.

Re-record them all (and regenerate the goldens and the gallery) with one command, after
`scripts/test.sh` installed the registry, skopeo and podman:

```sh
.venv/bin/python scripts/record.py
```

`clients/` holds other clients' flows recorded through `regexplore proxy` (skopeo and
podman, pull and push), each listed with the regexplore trace of the same operation that
the gallery compares it with (`regexplore diff`). Re-record only those with
`.venv/bin/python scripts/record.py --clients`.

| file | what it shows | registry | command (HOST = the registry's host:port, ANONYMOUS = the anonymous one's) |
|---|---|---|---|
{chr(10).join(rows)}
"""
    (OUT / "README.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
