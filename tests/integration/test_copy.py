"""`regexplore trace copy` between real distribution registries: streamed across, or mounted within one."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from explorer.client.bounded import HELD_LIMIT
from explorer.protocol.mediatypes import Platform
from explorer.oci.sample import build_image, build_sample
from tests.infra.registry import seed
from tests.infra.skopeo import skopeo_copy, skopeo_inspect
from tests.infra.traces import signature
from tests.integration.helpers import core_signature, traced, user_pass

SMALL = "test/small:1.0"
MULTI = "test/multi:1.0"


def _host(url: str) -> str:
    return urlsplit(url).netloc


def test_copy_from_anonymous_to_token_streams_each_blob(registry_anonymous, registry_token, tmp_path, seeded_images):
    src, dst = registry_anonymous, registry_token
    dest = f"{dst.host}/copied/small:1"
    args = ["copy", f"{src.host}/{SMALL}", dest, "--dest-creds", *user_pass(dst), "--jobs", "2"]
    run, trace = traced(None, tmp_path, *args, name="copy.json")
    assert run.code == 0, run.output
    image = seeded_images[SMALL]
    assert f"4 blobs copied, 0 skipped, manifest {image.digest}" in run.stdout
    steps = [ex.step for ex in trace.exchanges]
    assert steps[:2] == ["ping", "resolve tag"]
    for what in ("layer 1/3", "layer 2/3", "layer 3/3", "config"):
        hops = [ex for ex in trace.exchanges if ex.step == f"copy {what}" and ex.response.status != 401]
        assert [(ex.request.method, _host(ex.request.url), ex.response.status) for ex in hops] == [
            ("POST", dst.host, 202), ("GET", src.host, 200), ("PUT", dst.host, 201)
        ]
        get, put = hops[1], hops[2]
        assert put.request.body.size == get.response.body.size == int(put.request.header("content-length"))
        assert put.request.body.sha256 == get.response.body.sha256
    assert dst.password not in (tmp_path / "copy.json").read_text()

    pulled, _ = traced(dst, tmp_path, "pull", dest, name="pull.json")
    assert pulled.code == 0 and f"manifest {image.digest}" in pulled.stdout, pulled.output


def test_copy_picks_one_platform_of_an_index(registry_anonymous, registry_basic, tmp_path, seeded_images):
    dest = f"{registry_basic.host}/copied/arm:1"
    args = ["copy", f"{registry_anonymous.host}/{MULTI}", dest, "--platform", "linux/arm64/v8",
            "--dest-creds", *user_pass(registry_basic)]
    run, trace = traced(None, tmp_path, *args, name="copy.json")
    assert run.code == 0, run.output
    index = seeded_images[MULTI].manifest()
    arm = next(m for m in index["manifests"] if m["platform"]["architecture"] == "arm64")
    assert f"manifest {arm['digest']}" in run.stdout and "(linux/arm64/v8)" in run.stdout
    assert "fetch manifest linux/arm64/v8" in [ex.step for ex in trace.exchanges]
    inspected = skopeo_inspect(f"docker://{dest}", creds=registry_basic.creds)
    assert inspected["Digest"] == arm["digest"] and inspected["Architecture"] == "arm64"


def test_copy_within_one_registry_mounts_every_blob(registry_token, tmp_path, seeded_images):
    reg = registry_token
    dest = f"{reg.host}/copied/multi:1"
    run, trace = traced(reg, tmp_path, "copy", f"{reg.host}/{MULTI}", dest, "--all-platforms",
                        "--dest-creds", *user_pass(reg), "--jobs", "1", name="copy.json", creds=False)
    assert run.code == 0, run.output
    image = seeded_images[MULTI]
    assert f"8 mounted, 0 skipped, manifest {image.digest}" in run.stdout
    sig = core_signature(trace)
    assert [hop for hop in sig if hop[1] == "end-11"] == [("POST", "end-11", 201)] * 8
    moved = [hop for hop in signature(trace) if hop[0] == "PATCH" or hop[1] == "end-6" or hop[:2] == ("GET", "end-2")]
    assert moved == []  # no blob byte read or written
    assert [ex.step for ex in trace.exchanges if ex.request.method == "PUT"] == [
        "push manifest linux/amd64", "push manifest linux/arm64/v8", "push index"
    ]
    scopes = [set(parse_qs(urlsplit(ex.request.url).query).get("scope", [])) for ex in trace.exchanges
              if ex.step == "authenticate"]
    assert {"repository:copied/multi:pull,push", "repository:test/multi:pull"} in scopes
    assert skopeo_inspect(f"docker://{dest}", creds=reg.creds)["Digest"] == image.digest


def test_what_skopeo_pushed_regexplore_pulls_verifies_and_copies(registry_redirect, tmp_path):
    reg = registry_redirect
    image = build_sample([Platform("linux", "amd64"), Platform("linux", "arm64", "v8")], seed="from-skopeo")
    layout = image.write_layout(tmp_path / "layout", "1")
    source = f"{reg.host}/interop/from-skopeo:1"
    skopeo_copy(f"oci:{layout}:1", f"docker://{source}", dest_creds=reg.creds)
    for platform in ("linux/amd64", "linux/arm64/v8"):
        run, trace = traced(reg, tmp_path, "pull", source, "--platform", platform, name=f"pull-{platform[6:11]}.json")
        assert run.code == 0, run.output
        assert f"manifest {image.platforms[platform]}, 3 layers verified" in run.stdout
    dest = f"{reg.host}/interop/copied:1"
    run, trace = traced(reg, tmp_path, "copy", source, dest, "--all-platforms", "--dest-creds", *user_pass(reg),
                        name="copy.json", creds=False)
    assert run.code == 0, run.output
    assert skopeo_inspect(f"docker://{dest}", raw=True, creds=reg.creds)["manifests"] == image.manifest()["manifests"]


def test_a_second_copy_skips_a_layer_bigger_than_any_answer_it_reads(registry_anonymous, tmp_path):
    # the destination's HEAD 200 declares the layer's size, over the 4 MiB cap of answers held in memory
    reg = registry_anonymous
    image = build_image([HELD_LIMIT + 1], seed="copy-over-the-cap")
    seed(reg, image, "copy/big-layer", "1")
    args = ["copy", f"{reg.host}/copy/big-layer:1", f"{reg.host}/copy/big-layer-mirror:1"]
    first, _ = traced(reg, tmp_path, *args, name="first.json")
    assert first.code == 0, first.output
    again, trace = traced(reg, tmp_path, *args, name="second.json")
    assert again.code == 0, again.output
    assert "0 blobs copied, 2 skipped" in again.stdout
    sizes = [ex.response.header("content-length") for ex in trace.exchanges
             if ex.request.method == "HEAD" and ex.response.status == 200 and ex.step.startswith("layer 1/1")]
    assert sizes == [str(HELD_LIMIT + 1)]
