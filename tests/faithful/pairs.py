"""Which sandbox variant stands in for which distribution variant, and a pair of targets to compare.

    sandbox none            ↔  distribution anonymous
    sandbox basic           ↔  distribution basic
    sandbox token           ↔  distribution token
    sandbox token+redirect  ↔  distribution redirect
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.faithful.targets import Target

__all__ = ["PAIRINGS", "Pair", "Pairing"]


@dataclass(frozen=True)
class Pairing:
    auth: str  # the sandbox's: none | basic | token
    redirect: bool
    distribution: str  # the variant of tests/conftest.py's registry_<variant>

    @property
    def sandbox_label(self) -> str:
        return self.auth + ("+redirect" if self.redirect else "")

    @property
    def id(self) -> str:
        return f"{self.sandbox_label}~{self.distribution}"


PAIRINGS = (
    Pairing("none", False, "anonymous"),
    Pairing("basic", False, "basic"),
    Pairing("token", False, "token"),
    Pairing("token", True, "redirect"),
)


@dataclass
class Pair:
    pairing: Pairing
    sandbox: Target
    distribution: Target
