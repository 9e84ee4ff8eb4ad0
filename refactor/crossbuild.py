"""compile-test on other architectures: the changed lines the host's build
did not compile, built with Debian's cross compilers (see cross.py), and the
reason for each line still not compiled."""
from __future__ import annotations

from collections.abc import Callable

from . import cross, kbuild
from .buildrec import BuildResult
from .impact import buildable
from .kconfig import configure, kconfig_index
from .objects import Built, obj, read_makefile, run_groups
from .tree import Sha
from .workspace import Workspace


def other_arches(ws: Workspace, shas: list[Sha], result: BuildResult, seconds: list[float],
                 progress: Callable[[str], None], status: Callable[[str, int, int], None]) -> None:
    """Compile on other architectures the changed lines the host's build did not
    (see cross.py), and give each line still not compiled its reason."""
    pending: dict[str, dict[int, set[int]]] = {}
    tried: dict[str, list[str]] = {}
    alone: set[str] = set()         # the host found it does not build on its own
    for k, cb in enumerate(result.commits, 1):
        for m in cb.not_compiled:
            pending.setdefault(m.src, {}).setdefault(k, set()).add(m.line)
        for u in cb.not_built:
            if u.src not in tried:
                tried[u.src] = [f"x86_64: {u.why}"]
                if u.alone:
                    alone.add(u.src)
    if not pending:
        return
    # A file the host built whose lines its preprocessor dropped stays here:
    # another architecture is tried for what the host could not build at all.
    for src in list(pending):
        if src not in tried and buildable(src):
            tried[src] = ["x86_64: built, but #if'd out in this config"]
            del pending[src]
        elif src in alone:
            del pending[src]
        else:
            tried.setdefault(src, [])
    gates = {src: kbuild.gating_symbols(src, lambda d: read_makefile(ws.src, d))[0]
             for src in pending}
    homes: dict[str, set[str] | None] = {}
    if pending:             # the Kconfig index is read only when a file is left
        index = kconfig_index(ws)
        homes = {s: index.homes({g.removeprefix("CONFIG_") for g in gates[s]})
                 for s in pending}
    for arch in cross.ARCHES:
        files = [s for s in pending if arch in cross.candidates(s, homes[s])]
        if not files:
            continue
        pre = cross.prefix(arch)
        if pre is None:
            for s in files:
                tried[s].append(f"{arch.name}: no cross compiler ({arch.package} not installed)")
            continue
        # One job: some architectures' Makefiles reach a directory twice
        # (arch/sh/drivers/), and a parallel make then builds one object twice
        # at once, failing at random. These builds are a few objects each.
        aws = Workspace(ws.tree, 1, cross.compiler(ws.cc, arch, pre),
                        out=f"cross/{arch.name}", make_vars=arch.make_vars(pre))
        progress(f"{arch.name}: {len(files)} files with changed lines not compiled yet")
        configure(aws, arch.defconfig, set().union(*(gates[s] for s in files)), progress)
        have = kbuild.read_config((aws.out / ".config").read_text())
        groups: dict[int, dict[str, list[int]]] = {}
        for s in files:
            missing = sorted(g.removeprefix("CONFIG_") for g in gates[s] if g not in have)
            if missing:
                tried[s].append(f"{arch.name}: {', '.join(missing)} not set")
                continue
            for k in pending[s]:
                group = groups.setdefault(k, {})
                group.setdefault(obj(s), []).append(k)
                group.setdefault(s[:-2] + ".i", []).append(k)
        built: dict[tuple[int, str], Built] = {}
        run_groups(aws, shas, groups, built, seconds, progress, status, f"{arch.name} ")
        parents: dict[int, dict[str, list[int]]] = {}
        for k, targets in groups.items():
            for t in targets:
                if t.endswith(".o") and built[(k, t)].needs_parent():
                    parents.setdefault(k - 1, {}).setdefault(t, []).append(k)
        run_groups(aws, shas, parents, built, seconds, progress, status, f"{arch.name} parent ")
        for k, targets in sorted(groups.items()):
            cb = result.commits[k - 1]
            for t in (t for t in targets if t.endswith(".o")):
                s, here, prior = t[:-2] + ".c", built[(k, t)], built.get((k - 1, t))
                why = here.alone(prior)
                if why:
                    tried[s].append(f"{arch.name}: {why}")
                    continue
                cb.objects.append(f"{t} ({arch.name})")
                if here.failed:
                    cb.failed_objects.append(f"{t} ({arch.name})")
                    cb.errors += [f"{arch.name}: {d}" for d in here.errors] or \
                        [f"{arch.name}: {t}: not built"]
                cb.new_warnings += [f"{arch.name}: {d}" for d in here.new_warnings(prior)]
                pre_i = built.get((k, s[:-2] + ".i"))
                done = pending[s][k] & (pre_i.kept if pre_i is not None else set())
                if done:            # the host's "not set" is no longer the story
                    cb.not_built = [u for u in cb.not_built if u.src != s]
                cb.not_compiled = [m for m in cb.not_compiled
                                   if not (m.src == s and m.line in done)]
                pending[s][k] -= done
                if pending[s][k]:
                    tried[s].append(f"{arch.name}: built, but #if'd out there"
                                    if pre_i is not None and not pre_i.failed else
                                    f"{arch.name}: built, but its .i was not made")
        for s in list(pending):
            pending[s] = {k: lines for k, lines in pending[s].items() if lines}
            if not pending[s]:
                del pending[s]
    for cb in result.commits:
        for s in sorted({m.src for m in cb.not_compiled}):
            cb.why_not[s] = "; ".join(tried[s]) or cross.unavailable(s)
