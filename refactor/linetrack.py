"""A line of a base followed through the commits of a range (-U0 hunks)."""
from __future__ import annotations

from unidiff import PatchSet

from .tree import Sha, Tree


class LineTracker:
    """Follows a line of the base through the commits of a range."""

    def __init__(self, tree: Tree, commits: list[tuple[Sha, str]], base: Sha):
        self.steps: list[tuple[Sha, dict[str, list[tuple[int, int, int, int]]]]] = []
        parent = base
        for sha, _ in commits:
            diff = tree.git("diff", "-U0", "--no-renames", parent, sha).decode(errors="replace")
            hunks = {f.path: [(h.source_start, h.source_length, h.target_start,
                               h.target_length) for h in f] for f in PatchSet(diff)}
            self.steps.append((sha, hunks))
            parent = sha

    def first_touch(self, path: str, first: int, last: int) -> str:
        """The first commit of the range that changes lines first..last of the
        base (moved along by earlier commits), or "". A -U0 hunk with no
        source lines inserts after line s0."""
        return next(iter(self.touches(path, first, last)), "")

    def touches(self, path: str, first: int, last: int) -> list[Sha]:
        """Every commit of the range that changes lines first..last of the
        base, in order; the span grows by the lines a commit inserts in it."""
        out: list[Sha] = []
        for sha, hunks in self.steps:
            shift = grow = 0
            hit = False
            for s0, slen, _, tlen in hunks.get(path, []):
                if slen and s0 <= last and s0 + slen - 1 >= first:
                    hit = True
                    grow += tlen - slen
                elif not slen and first <= s0 < last:
                    hit = True
                    grow += tlen
                elif (slen and s0 + slen - 1 < first) or (not slen and s0 < first):
                    shift += tlen - slen
            if hit:
                out.append(sha)
            first, last = first + shift, last + shift + grow
        return out

    def follow(self, path: str, line: int, until: str | None = None
               ) -> tuple[int | None, str, str]:
        """(line at the end or at `until`, commit that changed it, commit that
        inserted a line right before it)."""
        inserted = ""
        for sha, hunks in self.steps:
            if until is not None and sha == until:
                break
            delta = 0
            for s0, slen, _, tlen in hunks.get(path, []):
                if slen and s0 <= line < s0 + slen:
                    return None, sha, inserted
                if not slen and s0 == line - 1 and not inserted:
                    inserted = sha
                if (slen and s0 + slen <= line) or (not slen and s0 < line):
                    delta += tlen - slen
            line += delta
        return line, "", inserted
