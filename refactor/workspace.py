"""The exported source tree and the O= build directories, kept per kernel tree.

compile-test and boot-test share one export in `<git dir>/krefactor/build/src`,
moved from commit to commit by rewriting only the files that differ, so make
rebuilds only what changed. Each has its own O= directory (its own config):
`out/` for compile-test, `boot/out/` for boot-test. The user's checkout is
never used, and a full `git worktree add` (98 s on the kernel) is avoided.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable

from . import proc, safety
from .tree import Sha, Tree

# The banner (init/version.c) otherwise holds the link's count and time, so
# that two builds of the same sources differ: a commit whose changes this
# config does not build would never be "the same kernel" once anything made
# vmlinux link again (as the gcov build's export of the tip does).
REPRODUCIBLE = {"KBUILD_BUILD_TIMESTAMP": "Sat Jan  1 00:00:00 UTC 2000",
                "KBUILD_BUILD_VERSION": "1", "KBUILD_BUILD_USER": "krefactor",
                "KBUILD_BUILD_HOST": "krefactor"}


class Workspace:
    """The exported source and the build directory, moved from commit to commit."""

    def __init__(self, tree: Tree, jobs: int, cc: str | None, out: str = "out",
                 make_vars: tuple[str, ...] = ()):
        self.tree = tree
        self.make_vars = make_vars  # ARCH=, CROSS_COMPILE=, LLVM= for another architecture
        self.root = safety.state_dir(tree.git_dir) / "build"
        self.src = self.root / "src"
        self.out = self.root / out
        self.state = self.root / "src-commit"
        self.jobs = jobs
        self.cc = cc

    def at(self) -> Sha | None:
        return Sha(self.state.read_text().strip()) if self.state.exists() else None

    def sync(self, commit: Sha) -> None:
        current = self.at()
        if current == commit:
            return
        if current is None or not self.src.is_dir():
            safety.remove(self.src, self.tree.git_dir)
            self.src.mkdir(parents=True)
            # A temporary index and parallel checkout: three times faster
            # than `git archive | tar -x` on the kernel.
            env = {"GIT_INDEX_FILE": str(self.root / "export-index")}
            git = ["git", "-C", str(self.tree.path)]
            proc.run([*git, "read-tree", commit], env=env)
            proc.run([*git, "-c", f"checkout.workers={self.jobs}",
                      "-c", "checkout.thresholdForParallelism=1",
                      f"--work-tree={self.src}", "checkout-index", "-a", "-f"], env=env)
            safety.remove(self.root / "export-index", self.tree.git_dir)
        else:
            out = self.tree.git("diff", "--name-status", "--no-renames", "-z", current, commit)
            fields = out.decode().split("\0")
            changed: list[str] = []
            deleted: list[str] = []
            for status, path in zip(fields[0::2], fields[1::2]):
                (deleted if status == "D" else changed).append(path)
            for path in deleted:
                safety.remove(self.src / path, self.tree.git_dir)
            for path, data in self.tree.read(commit, changed).items():
                dest = self.src / path
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(data)
        self.state.write_text(commit + "\n")

    def make(self, *targets: str, keep_going: bool = True, timeout: float | None = None,
             on_line: Callable[[str], None] | None = None,
             no_cache: bool = False) -> subprocess.CompletedProcess[bytes]:
        """Run make on `targets`; with `on_line`, stream Kbuild's per-object
        lines (output grouped per target) instead of running silently.
        `timeout` applies to silent runs (the bench's baseline)."""
        self.out.mkdir(parents=True, exist_ok=True)
        cmd = ["make", "-C", str(self.src), f"O={self.out}", f"-j{self.jobs}"]
        cmd.append("--output-sync=target" if on_line else "-s")
        if keep_going:
            cmd.append("-k")
        cmd += self.make_vars
        if self.cc:
            cmd.append(f"CC={self.cc}")
        # The export sits inside the .git directory: keep Kbuild's calls to
        # git (setlocalversion) from finding the repository.
        env = {"GIT_CEILING_DIRECTORIES": str(self.root), **REPRODUCIBLE}
        if self.cc and "ccache" in self.cc and "CCACHE_DIR" not in os.environ:
            env["CCACHE_DIR"] = str(self.root / "ccache")
        if self.cc and "ccache" in self.cc and "CCACHE_DEPEND" not in os.environ:
            # Depend mode takes Kbuild's -Wp,-MMD files instead of running the
            # preprocessor once more on a miss: a cold boot kernel of 6.1
            # built in 223 s with it, 299 s without, 225 s without ccache.
            env["CCACHE_DEPEND"] = "1"
        if no_cache:
            env["CCACHE_DISABLE"] = "1"     # same command line: Kbuild rebuilds nothing more
        if on_line:
            return proc.stream(cmd + list(targets), on_line, env=env)
        return proc.run(cmd + list(targets), env=env, check=False, timeout=timeout)


def default_cc() -> str | None:
    return "ccache gcc" if shutil.which("ccache") else None
