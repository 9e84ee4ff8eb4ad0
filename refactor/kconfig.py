"""A kernel's .config for a build (compile-test's and boot-test's), made
from a base config and the symbols it needs, and what a build links in.
"""
from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

from . import kbuild, proc, safety
from .errors import KrefactorError
from .workspace import Workspace


def linked_objects(out: Path) -> frozenset[str] | None:
    """The objects the last build in `out` linked into vmlinux: the members of
    its thin archive (vmlinux.a; built-in.a before 6.1). An object file alone
    proves nothing, since Kbuild leaves those of an earlier config in place.
    None when `out` holds no such archive."""
    for name in ("vmlinux.a", "built-in.a"):
        archive = out / name
        if archive.is_file():
            res = proc.run(["ar", "t", name], cwd=out, check=False)
            if res.returncode == 0:
                return frozenset(res.stdout.decode().split())
    return None


def built_into(out: Path, source: str, linked: frozenset[str] | None) -> bool:
    """Did the build in `out` link `source`'s object into vmlinux? Without an
    archive (`linked` None), an object file in `out` is taken as the answer."""
    obj = str(Path(source).with_suffix(".o"))
    return obj in linked if linked is not None else (out / obj).is_file()

def configure(ws: Workspace, base_config: str, needed: set[str],
              progress: Callable[[str], None], *, closure: bool = True,
              unwanted: tuple[str, ...] = ()) -> tuple[list[str], list[str], list[str]]:
    """Make a .config from `base_config` with every needed symbol; return the
    symbols enabled, those that could not be (with why) and those disabled.

    The .config of an earlier run is kept when the base config, the needed
    symbols and every Kconfig file are the same."""
    config = ws.out / ".config"
    index = kconfig_index(ws)
    key = hashlib.sha256(json.dumps([
        "krefactor-config-2", base_config, closure, unwanted,
        "" if make_target(base_config) else Path(base_config).read_text(errors="replace"),
        sorted(needed), ws.make_vars,
        sorted(index.files.items())]).encode()).hexdigest()
    saved = ws.out / "krefactor-config-key.json"
    if config.exists() and saved.exists():
        old = json.loads(saved.read_text())
        if old["key"] == key:
            progress("config: unchanged since the last run")
            return old["enabled"], old["unmet"], old["disabled"]
    safety.remove(saved, ws.tree.git_dir)
    enabled, unmet, disabled = make_config(ws, base_config, needed, index, progress, closure,
                                           unwanted)
    saved.write_text(json.dumps({"key": key, "enabled": enabled, "unmet": unmet,
                                 "disabled": disabled}))
    return enabled, unmet, disabled


def make_config(ws: Workspace, base_config: str, needed: set[str], index: kbuild.KconfigIndex,
                progress: Callable[[str], None], closure: bool = True,
                unwanted: tuple[str, ...] = ()) -> tuple[list[str], list[str], list[str]]:
    """`closure` also enables what the needed symbols depend on, as the Kconfig
    index reads it (across architectures: right for compile-test's gating
    options, too wide for a small boot kernel whose list is complete).
    `unwanted` symbols are disabled: the other members of a choice, which
    would otherwise keep the base config's pick (UNWINDER_GUESS)."""
    config = ws.out / ".config"
    if make_target(base_config):
        res = ws.make(base_config, keep_going=False)
    else:
        ws.out.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(base_config, config)
        res = ws.make("olddefconfig", keep_going=False)
    if res.returncode != 0:
        raise KrefactorError(f"make {base_config} failed: {proc.tail(res.stderr)}")
    have = base_have = kbuild.read_config(config.read_text())
    names = {s.removeprefix("CONFIG_") for s in needed}
    wanted = index.closure(names, {s.removeprefix("CONFIG_") for s in have}) if closure \
        else names
    enabled: set[str] = set()
    # With WERROR a warning the parent already had fails the commit; without
    # it, warnings are compared with the parent's and only new ones reported.
    args = ["--disable", "WERROR"] if have.get("CONFIG_WERROR") == "y" else []
    for sym in unwanted:
        args += ["--disable", sym]
    if args:
        progress("config: disabling WERROR: warnings are compared with the parent's instead")
    for _ in range(3):
        missing = sorted(s for s in wanted if f"CONFIG_{s}" not in have)
        if not missing and not args:
            break
        if missing:
            progress(f"config: enabling {', '.join(missing)}")
        for sym in missing:
            args += ["--enable", sym]
        proc.run([str(ws.src / "scripts" / "config"), "--file", str(config), *args])
        enabled |= set(missing)
        ws.make("olddefconfig", keep_going=False)
        before, have, args = have, kbuild.read_config(config.read_text()), []
        if before.keys() == have.keys():
            break
    unmet = []
    for name in sorted(names):
        if f"CONFIG_{name}" not in have:
            deps = sorted(d for d in index.depends(name) if f"CONFIG_{d}" not in have)
            unmet.append(f"CONFIG_{name} (unmet: {', '.join(deps) or 'not user-selectable'})")
    disabled = ["CONFIG_WERROR"] if "CONFIG_WERROR" in base_have and \
        "CONFIG_WERROR" not in have else []
    return sorted(f"CONFIG_{s}" for s in enabled if f"CONFIG_{s}" in have), unmet, disabled


def make_target(base_config: str) -> bool:
    """Whether `base_config` names a make target (defconfig, ppc64le_defconfig)
    rather than a .config file."""
    return base_config in ("defconfig", "tinyconfig") or \
        base_config.endswith("_defconfig") and not Path(base_config).is_file()


def kconfig_index(ws: Workspace) -> kbuild.KconfigIndex:
    """Every Kconfig file of the exported tree, listed by git rather than by a walk."""
    names = ws.tree.git("ls-tree", "-r", "--name-only", "-z", ws.at() or "HEAD").decode()
    files = {}
    for name in names.split("\0"):
        if name.rsplit("/", 1)[-1].startswith("Kconfig") and (ws.src / name).is_file():
            files[name] = (ws.src / name).read_text(errors="replace")
    return kbuild.KconfigIndex(files)
