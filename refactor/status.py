"""The statuses that stages hand on, as enums.

They are string enums whose values are the strings the JSON output and the
kept records have always held: a commit's build or boot in lower case, a
workload's outcome in upper case. So nothing written before reads
differently, and a comparison with a record's plain string still holds.
"""
from __future__ import annotations

from enum import StrEnum


class Verdict(StrEnum):
    """A commit's result in compile-test or boot-test."""
    PASS = "pass"
    FAIL = "fail"
    BUILD_FAILED = "build failed"       # boot-test: no kernel to boot


class Outcome(StrEnum):
    """A boot workload's result."""
    PASS = "PASS"
    FAIL = "FAIL"
    NOT_RUN = "NOT RUN"


def verdict(failed: bool) -> Verdict:
    return Verdict.FAIL if failed else Verdict.PASS


class Disposition(StrEnum):
    """What became of a site coverage found, against the series."""
    CHANGED = "changed"
    PREPARED = "prepared"          # a hand-off implementation the series prepared
    UNAFFECTED = "unaffected"
    LEFT = "left"                  # with the reason the series recorded
    EXCLUDED = "excluded"          # by the recipe's own rule
    NEEDS_REVIEW = "NEEDS REVIEW"
