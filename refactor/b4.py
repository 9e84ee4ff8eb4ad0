"""series --b4: the series as a branch that b4 (0.12) takes for its own prep branch.

b4's "commit" cover strategy, as its ez.py writes it: the cover letter is an
empty commit at the start of the series, whose message is the cover letter,
a blank line, the line `--- b4-submit-tracking ---`, a comment line, and the
tracking data as indented JSON ({"series": {"revision", "change-id",
"base-branch", "prefixes"}, plus "history" once b4 has sent a revision}); the
branch's git config says `b4-prep-cover-strategy = commit`. b4 finds the
cover commit by that line (git log --grep, within a year), and the series
starts after it.

The branch is `b4/<name>` beside krefactor's own, whose commits it holds
again on top of the cover commit (same trees, messages and authors): the
commits of krefactor's branch stay the ones compile-test and boot-test
recorded. A branch that b4 sent a revision of (its tag `sent/<name>-vN`)
gets the next revision, with the same change-id, when made again.
"""
from __future__ import annotations

import datetime
import json
import re
import uuid
from dataclasses import dataclass

from . import maintainers
from .errors import KrefactorError
from .tree import Sha, Tree

MARKER = "--- b4-submit-tracking ---"
COMMENT = "# This section is used internally by b4 prep for tracking purposes."


@dataclass(frozen=True)
class B4Branch:
    branch: str
    tip: Sha
    old_tip: Sha | None
    revision: int
    change_id: str
    unchanged: bool = False


def tracking(tree: Tree, ref: str) -> tuple[Sha, dict] | None:
    """The cover commit of a b4 prep branch and its tracking data, or None."""
    out = tree.git("log", "--grep", MARKER, "-F", "--max-count=1", "--format=%H%x00%B",
                   ref, "--", check=False).decode(errors="replace")
    if MARKER not in out:
        return None
    sha, message = out.split("\x00", 1)
    data = message.split(MARKER, 1)[1]
    try:
        found = json.loads("{" + data.split("{", 1)[1])
    except (IndexError, ValueError):
        return None
    return (Sha(sha.strip()), found) if isinstance(found.get("series"), dict) else None


def sent_tag(branch: str, revision: int) -> str:
    """The tag `b4 send` leaves for a revision it sent (ez.get_sent_tagname)."""
    return f"sent/{branch.removeprefix('b4/')}-v{revision}"


def cover_message(subject: str, blurb: str, data: dict) -> str:
    return (f"{subject}\n\n{blurb.strip()}\n\n{MARKER}\n{COMMENT}\n"
            f"{json.dumps(data, indent=2)}")


@dataclass(frozen=True)
class Copy:
    """What a commit of the series is made again from."""
    tree: str
    author: tuple[str, str, str]      # name, email, date (raw)
    message: str                      # as the commit holds it


def commits(tree: Tree, base: Sha, tip: Sha) -> list[Copy]:
    """The commits of base..tip, oldest first, in one git log."""
    return [Copy(t, (name, email, date), message) for t, name, email, date, message in
            tree.log_fields(["%T", "%an", "%ae", "%ad", "%B"], "--reverse", "--date=raw",
                            f"{base}..{tip}")]


def series_of(tree: Tree, cover: Sha, tip: Sha) -> list[tuple[str, str]]:
    """(tree, message) of each commit after the cover commit."""
    return [(c.tree, c.message) for c in commits(tree, cover, tip)]


def recipients(tree: Tree, base: Sha, tip: Sha) -> str:
    """To: and Cc: trailers for the cover letter, from MAINTAINERS at `base`
    for every file the series changes (as krefactor's --per-maintainer
    mails have them): b4 send takes its recipients from the cover's
    trailers, and b4 prep --auto-to-cc adds get_maintainer.pl's to them."""
    files = tree.git("diff", "--name-only", "--no-renames", base, tip).decode().split()
    rec = maintainers.recipients(maintainers.sections_at(tree, base), files)
    return "\n".join([f"To: {a}" for a in rec.to] + [f"Cc: {a}" for a in rec.cc])


def make(tree: Tree, *, base: Sha, tip: Sha, branch: str, subject: str, blurb: str,
         reroll: bool) -> B4Branch:
    """Write `branch` as b4's prep branch of base..tip with this cover letter.
    An existing one holding the same commits is left as it is (its cover may
    have been edited with b4 prep --edit-cover); one holding others is
    replaced only for a re-roll."""
    old = tree.rev(f"refs/heads/{branch}")
    found = tracking(tree, old) if old else None
    if old and not found:
        raise KrefactorError(f"branch {branch} exists and is not a b4 prep branch; "
                             f"delete it or pass another name")
    copies = commits(tree, base, tip)
    wanted = [(c.tree, c.message) for c in copies]
    if found and old:
        cover, data = found
        series = data["series"]
        if series_of(tree, cover, old) == wanted and tree.rev(f"{cover}^") == base:
            return B4Branch(branch, old, old, int(series.get("revision", 1)),
                            str(series.get("change-id")), unchanged=True)
        if not reroll:
            raise KrefactorError(
                f"branch {branch} holds another version of the series; pass --reroll "
                f"for b4's next revision of it")
        revision = int(series.get("revision", 1))
        if tree.rev(f"refs/tags/{sent_tag(branch, revision)}"):
            revision += 1       # that revision was sent: this is the next one
        series["revision"] = revision
    else:
        slug = re.sub(r"[^a-z0-9]+", "-", branch.removeprefix("b4/").lower()).strip("-")
        data = {"series": {"revision": 1,
                           "change-id": f"{datetime.date.today():%Y%m%d}-{slug}-"
                                        f"{uuid.uuid4().hex[:12]}",
                           "base-branch": current_branch(tree), "prefixes": []}}
    author = tree.identity()
    env = {"GIT_AUTHOR_NAME": author.name, "GIT_AUTHOR_EMAIL": author.email,
           "GIT_COMMITTER_NAME": author.name, "GIT_COMMITTER_EMAIL": author.email}
    to_cc = recipients(tree, base, tip)
    text = f"{blurb.strip()}\n\n{to_cc}" if to_cc else blurb
    parent = Sha(tree.git("commit-tree", f"{base}^{{tree}}", "-p", base, "-F", "-",
                          input=cover_message(subject, text, data).encode(),
                          env=env).decode().strip())
    for c in copies:
        name, email, date = c.author
        parent = Sha(tree.git("commit-tree", c.tree, "-p", parent, "-F", "-",
                              input=c.message.encode(),
                              env={**env, "GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email,
                                   "GIT_AUTHOR_DATE": date}).decode().strip())
    tree.update_branch(branch, parent, old)
    tree.git("config", f"branch.{branch}.b4-prep-cover-strategy", "commit")
    series = data["series"]
    return B4Branch(branch, parent, old, int(series["revision"]), str(series["change-id"]))


def current_branch(tree: Tree) -> str | None:
    out = tree.git("symbolic-ref", "-q", "--short", "HEAD", check=False).decode().strip()
    return out or None
