"""``protocol.urls`` answers exactly what ``urllib.parse`` answers, for any URL: generated, recorded or hostile.

Its :func:`~explorer.protocol.urls.split` and :func:`~explorer.protocol.urls.join` take a fast
path for plain ``http[s]://`` URLs; each case here runs with the caches emptied, so the
function's own code answers, and its value (or its error: type and message) must be urllib's.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from explorer.protocol import urls
from tests.hostile import corpus
from tests.render import factory

FAST = settings(max_examples=600, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

# the characters urlsplit and urljoin treat specially, and some that NFKC turns into them
SPECIAL = ":/?#[]@;%.=&\t\r\n \x00\x1f\x7fAZaz09-_~ß\u2100\uff1f\u0130"
piece = st.text(alphabet=SPECIAL, max_size=12)
scheme = st.sampled_from(["http", "https", "HTTP", "Https", "ftp", "h", "", " http", "\thttp", "http\n", "1http"])
host = st.one_of(piece, st.sampled_from(["localhost:5000", "[::1]:5000", "[v1.x]", "[1.2.3.4]", "u:p@h",
                                         "h:port", "[::1", "::1]", "ex\u2100mple.com", "EXAMPLE.com"]))
built = st.builds(lambda s, sep, h, p, q, f: f"{s}{sep}{h}{p}{q}{f}", scheme,
                  st.sampled_from(["://", ":", ":/", ":///", "//", ""]), host,
                  st.one_of(st.just(""), piece.map(lambda p: "/" + p)),
                  st.one_of(st.just(""), piece.map(lambda q: "?" + q)),
                  st.one_of(st.just(""), piece.map(lambda f: "#" + f)))
any_url = st.one_of(built, st.text(max_size=60), piece)


def _same(ours, theirs, *args: str) -> None:
    """``ours(*args)`` is ``theirs(*args)``: the same value, or the same error."""
    for cached in (urls.split, urls.join, urls.netloc, urls.query_pairs, urls.query_params):
        cached.cache_clear()
    try:
        expected = theirs(*args)
    except Exception as error:  # noqa: BLE001 - whichever urllib raises, ours must raise too
        with pytest.raises(type(error)) as raised:
            ours(*args)
        assert str(raised.value) == str(error)
        return
    got = ours(*args)
    assert got == expected and type(got) is type(expected), args


def _query_pairs(url: str) -> tuple[tuple[str, str], ...]:
    return tuple(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def _netloc(url: str) -> str:
    return urlsplit(url).netloc.lower().rpartition("@")[2]


def _query_params(url: str) -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    for key, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        found[key] = (*found.get(key, ()), value)
    return found


@FAST
@given(any_url)
@example("http://h/p?#")
@example("http://h#f?q")
@example("http://h?q#f?g#h")
@example("http://[::1]:5000/v2/")
@example("http://[::1/v2/")
@example("http://ex\u2100mple.com/")
@example("http://h\t/p")
@example(" http://h/p")
def test_split_and_its_derivatives_are_urllibs(url: str) -> None:
    _same(urls.split, urlsplit, url)
    _same(urls.query_pairs, _query_pairs, url)
    _same(urls.query_params, _query_params, url)
    _same(urls.netloc, _netloc, url)


def test_query_params_keep_every_value_of_a_name_in_order() -> None:
    params = urls.query_params("http://h/token?scope=a&service=r&scope=b&x=&scope=c")
    assert params == {"scope": ("a", "b", "c"), "service": ("r",), "x": ("",)}
    assert list(params) == ["scope", "service", "x"]
    assert urls.query_params("http://h/v2/") == {}


@FAST
@given(any_url, any_url)
@example("http://r/v2/a/blobs/x", "http://cdn/blobs/x?sig=1")
@example("http://r/v2/a/blobs/x", "https://cdn/blobs/x?sig=1")
@example("http://r/v2/", "http://cdn/p;")
@example("http://r/v2/", "http://cdn/a;b/c;d")
@example("http://r/v2/", "http://cdn/p?#")
@example("http://r/v2/", "http:///p")
@example("http://[::1/v2/", "http://cdn/p")
@example("http://r/v2/", "http://ex\u2100mple.com/p")
@example("", "http://cdn/p")
@example("http://r/v2/", "")
def test_join_is_urljoin(base: str, ref: str) -> None:
    _same(urls.join, urljoin, base, ref)


def _recorded_urls() -> list[tuple[str, str]]:
    """(URL, Location or "") of every exchange of every factory case and hostile trace."""
    marker = Path("/nonexistent/PWNED")
    traces = [make() for make in factory.CASES.values()] + [
        corpus.free_text_trace(marker), corpus.leading_trace(marker), corpus.findings_trace(marker),
        *corpus.protocol_traces(marker).values()]
    return [(ex.request.url, (ex.response.header("location") if ex.response else None) or "")
            for trace in traces for ex in trace.exchanges]


def test_recorded_and_hostile_urls_split_and_join_as_urllib() -> None:
    recorded = _recorded_urls()
    hostile = [(f"http://h/v2/{v}", ref) for v in corpus.payloads(Path("/nonexistent/PWNED")).values()
               for ref in (f"http://{v}", f"http://h/{v}", f"http://h/p?q={v}", f"http://h/p#{v}",
                           f"https://{v}.example/v2/", v)]
    for url, location in recorded + hostile:
        _same(urls.split, urlsplit, url)
        _same(urls.split, urlsplit, location)
        _same(urls.join, urljoin, url, location)
    assert sum(urlsplit(url).scheme in ("http", "https") for url, _ in recorded) > 100, "the fast form is exercised"
