"""What a push sends: an image source (OCI layout, generated sample, another registry) and its plan.

A plan lists the manifests in push order, children of an index first, then the
index, each with its exact bytes, media type and the blobs it references.

Rules: building a plan from local sources touches no network, so everything
wrong with a push SOURCE (not a layout, a tag it lacks, a missing or truncated
blob, a manifest that does not hash to its digest) is a ``BadSource`` (exit 2)
before the first request; nothing is pushed half-way because of bad input.
"""

from __future__ import annotations

import json
from dataclasses import field
from typing import TYPE_CHECKING, Any, Protocol

from explorer.errors import BadSource, ExplorerError, ManifestError
from explorer.flows.blobs import Descriptor, check_descriptor
from explorer.flows.upload import BlobSource, BlobStep, ChunksSource, FileSource
from explorer.oci.layout import OciLayout
from explorer.protocol import digest as digests
from explorer.protocol import mediatypes
from explorer.records import record
from explorer.trace import Intent

if TYPE_CHECKING:
    from explorer.oci.sample import SampleImage  # a --sample push loads it; a layout push does not

__all__ = ["ImageSource", "LayoutImage", "ManifestPlan", "SampleSource", "plan_push"]


class ImageSource(Protocol):
    """An image to push: its root descriptor, manifest bytes by digest, blob bytes by descriptor."""

    root: Descriptor
    name: str  # for messages: "OCI layout ./dir:1.0", "sample image", "127.0.0.1:5000/a:1"

    def manifest_bytes(self, descriptor: Descriptor) -> bytes: ...

    def blob(self, descriptor: Descriptor) -> BlobSource: ...


@record
class ManifestPlan:
    """One manifest to PUT: under ``reference`` (a digest for index children, else the tag)."""

    digest: str
    media_type: str
    data: bytes
    parsed: dict[str, Any]
    reference: str
    label: str  # "push manifest linux/arm64", "push index", "push manifest": Intent.label of ``intent``
    blobs: list[tuple[BlobStep, Descriptor]] = field(default_factory=list)  # (layer 2/3, descriptor)
    item: str = "manifest"  # "index" for the root of a multi-platform push
    platform: str | None = None  # of an index child (or its short digest when it names none)

    def intent(self, repository: str) -> Intent:
        """What the HEAD and PUT of this manifest are for (the client refines the kind per request)."""
        return Intent("push-manifest", repository=repository, digest=self.digest, item=self.item,
                      platform=self.platform)

    @property
    def subject(self) -> Descriptor | None:
        subject = self.parsed.get("subject")
        return subject if isinstance(subject, dict) else None


def plan_push(source: ImageSource, reference: str) -> list[ManifestPlan]:
    """The manifests of ``source`` in push order; the root goes under ``reference``."""
    root = source.root
    data, parsed, media = _read_manifest(source, root, "the image")
    if not mediatypes.is_index(media):
        return [_image_plan(root["digest"], media, data, parsed, reference, None, source.name)]
    entries = parsed.get("manifests")
    if not isinstance(entries, list):
        raise ManifestError(f"index of {source.name} has no manifests list")
    plans = []
    for number, entry in enumerate(entries, 1):
        child_digest, _size = check_descriptor(entry, f"manifest {number} of the index")
        platform = mediatypes.platform_of(entry)
        name = str(platform) if platform else digests.short(child_digest)
        child_data, child_parsed, child_media = _read_manifest(source, entry, f"manifest {name}")
        if mediatypes.is_index(child_media):
            raise ManifestError(f"{source.name}: nested indexes are not supported for push")
        plans.append(
            _image_plan(child_digest, child_media, child_data, child_parsed, child_digest,
                        name, f"{source.name} ({name})")
        )
    index = Intent("push-manifest", item="index")
    plans.append(ManifestPlan(root["digest"], media, data, parsed, reference, index.label(), item="index"))
    return plans


def _image_plan(
    digest: str, media: str, data: bytes, parsed: dict[str, Any], reference: str, platform: str | None, where: str
) -> ManifestPlan:
    layers = parsed.get("layers")
    if not isinstance(layers, list):
        raise ManifestError(f"manifest of {where} has no layers list")
    check_descriptor(parsed.get("config"), f"config of {where}")
    blobs: list[tuple[BlobStep, Descriptor]] = []
    seen: set[str] = set()
    for number, layer in enumerate(layers, 1):
        what = BlobStep("layer", number, len(layers))
        layer_digest, _size = check_descriptor(layer, f"{what} of {where}")
        if layer.get("urls") or layer_digest in seen:  # foreign layers are never pushed; duplicates once
            continue
        seen.add(layer_digest)
        blobs.append((what, layer))
    blobs.append((BlobStep("config"), parsed["config"]))
    label = Intent("push-manifest", item="manifest", platform=platform).label()
    return ManifestPlan(digest, media, data, parsed, reference, label, blobs, platform=platform)


def _read_manifest(source: ImageSource, descriptor: Descriptor, what: str) -> tuple[bytes, dict[str, Any], str]:
    data = source.manifest_bytes(descriptor)
    try:
        parsed = json.loads(data)
    except ValueError:
        raise ManifestError(f"{what} of {source.name} is not JSON") from None
    if not isinstance(parsed, dict):
        raise ManifestError(f"{what} of {source.name} is not a JSON object")
    declared = parsed.get("mediaType")
    media = descriptor.get("mediaType") or (declared if isinstance(declared, str) else "")
    if not mediatypes.is_manifest(media):
        raise ManifestError(f"{what} of {source.name} has media type {media or '(none)'}, not a manifest or index")
    return data, parsed, media


class LayoutImage:
    """A tagged image in an OCI image layout, checked completely before anything is sent."""

    def __init__(self, layout: OciLayout, tag: str | None) -> None:
        self.layout = layout
        self.name = f"OCI layout {layout.root}" + (f":{tag}" if tag else "")
        self.root = layout.resolve(tag)

    def manifest_bytes(self, descriptor: Descriptor) -> bytes:
        digest = descriptor["digest"]
        if not self.layout.has_blob(digest):
            raise BadSource(f"{self.name} lacks manifest {digest}; the layout is incomplete")
        data = self.layout.read_blob(digest)
        if digests.compute(data, digest.split(":", 1)[0]) != digest:
            raise BadSource(f"manifest {digest} in {self.name} does not hash to its digest; the layout is damaged")
        return data

    def blob(self, descriptor: Descriptor) -> BlobSource:
        return FileSource(self.layout.blob_path(descriptor["digest"]), descriptor["digest"], descriptor["size"])

    def plan(self, reference: str) -> list[ManifestPlan]:
        """``plan_push``, then every referenced blob must be in the layout with its declared size."""
        try:
            plans = plan_push(self, reference)
        except BadSource:
            raise
        except ExplorerError as exc:
            raise BadSource(exc.message, exc.hint) from None
        for plan in plans:
            where = plan.label.removeprefix("push ")
            for what, descriptor in plan.blobs:
                digest, size = descriptor["digest"], descriptor["size"]
                if not self.layout.has_blob(digest):
                    raise BadSource(
                        f"{self.name} lacks blob {digest} ({what} of {where}); the layout is incomplete",
                        "copy the image into the layout again (skopeo copy ... oci:DIR:TAG)",
                    )
                actual = self.layout.blob_size(digest)
                if actual != size:
                    raise BadSource(
                        f"blob {digest} ({what} of {where}) in {self.name} is {actual} bytes, "
                        f"its descriptor says {size}; the layout is damaged"
                    )
        return plans


class SampleSource:
    """A generated ``SampleImage`` (``--sample``): blobs replayed from their generators."""

    def __init__(self, image: SampleImage) -> None:
        self.image = image
        self.name = "sample image"
        self.root = image.root

    def manifest_bytes(self, descriptor: Descriptor) -> bytes:
        return self.image.manifests[descriptor["digest"]]

    def blob(self, descriptor: Descriptor) -> BlobSource:
        blob = self.image.blobs[descriptor["digest"]]
        return ChunksSource(blob.chunks, blob.digest, blob.size)
