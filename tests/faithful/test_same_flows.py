"""The built-in registry answers the same flows like CNCF distribution 2.8.2, except where the table says.

Each flow (flows.py) runs against a sandbox variant and the distribution variant
it stands in for (conftest.py), on a fresh repository of the same name. Per
step: the same (method, endpoint id or host role, status) hops, the same
digests and error codes on them, the same exit code, error code and printed
digests — after applying only the allowed differences (differences.py).
"""

from __future__ import annotations

import secrets

import pytest

from explorer import sandbox
from tests.faithful.compare import compare_step, error_code
from tests.faithful.pairs import Pair
from tests.faithful.differences import ALLOWED_DIFFERENCES
from tests.faithful.flows import FLOWS, Flow, expected_error


@pytest.mark.parametrize("flow", FLOWS, ids=lambda flow: flow.name.replace(" ", "-").replace(",", ""))
def test_sandbox_answers_like_distribution(flow: Flow, pair: Pair) -> None:
    repository = f"faithful/{flow.name.replace(' ', '-').replace(',', '')}-{secrets.token_hex(4)}"
    ours = flow.run(pair.sandbox, repository)
    theirs = flow.run(pair.distribution, repository)
    for step, traced in theirs.items():  # the reference does what the step's name says
        wanted = expected_error(step, pair.pairing.auth)
        assert (traced.code, error_code(traced)) == ((1, wanted) if wanted else (0, None)), (
            f"{pair.distribution.label}: {flow.name} / {step}:\n{traced.stdout}{traced.stderr}")
    assert list(ours) == list(theirs)
    problems = [problem for step in ours for problem in compare_step(
        flow.name, step, ours[step], theirs[step], token_auth=pair.pairing.auth == "token")]
    assert not problems, f"{pair.sandbox.label} vs {pair.distribution.label}:\n" + "\n".join(problems)


def test_every_allowed_difference_is_documented_by_the_sandbox() -> None:
    documented = " ".join((sandbox.__doc__ or "").split())
    flows = {flow.name for flow in FLOWS}
    for row in ALLOWED_DIFFERENCES:
        assert row.flow in flows, f"{row.name}: no flow {row.flow!r}"
        assert " ".join(row.documented.split()) in documented, f"{row.name}: not in explorer/sandbox's docstring"
        assert len(row.reason) > 80 and row.distribution != row.sandbox, row.name
