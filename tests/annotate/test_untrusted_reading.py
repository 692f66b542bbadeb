"""Pure helpers for reading untrusted values: a trace's malformed challenges, an image config's platform."""

from __future__ import annotations

from explorer.annotate.challenges import readable_challenges
from explorer.protocol import mediatypes
from explorer.protocol.mediatypes import Platform


def test_readable_challenges_skips_a_malformed_value_and_keeps_the_others() -> None:
    broken = 'Bearer realm="http://a/token",service="x" y"'
    good = 'Bearer realm="http://a/token",scope="repository:a:pull"'
    (found,) = readable_challenges([broken, good])
    assert found.realm == "http://a/token" and found.scopes == ("repository:a:pull",)
    assert readable_challenges(broken) == []


def test_config_platform_and_runs_on() -> None:
    assert mediatypes.config_platform({"os": "linux", "architecture": "arm", "variant": "v7"}) == \
        Platform("linux", "arm", "v7")
    assert mediatypes.config_platform({"architecture": "amd64"}) is None
    assert mediatypes.config_platform([]) is None  # type: ignore[arg-type]
    amd64, arm64 = Platform("linux", "amd64"), Platform("linux", "arm64")
    assert mediatypes.runs_on(amd64, amd64) and not mediatypes.runs_on(amd64, arm64)
    assert mediatypes.runs_on(Platform("linux", "arm64", "v8"), arm64)  # v8 is arm64's default variant
    assert mediatypes.runs_on(Platform("linux", "386"), amd64)  # docker's compatibility rules
