"""Compile on other architectures the changed lines the host's build left out.

compile-test builds for the host (x86_64). A changed line under arch/arm/, in
a driver gated by ARCH_QCOM, or in fs/hostfs (UML only) is not compiled
there. This pass takes those lines to the architectures that can build them,
with Debian's cross compilers where they are installed: each architecture
gets its own O= directory beside the host's (`build/cross/<arch>/`), its
defconfig plus the gating options of the files it is given, and builds the
objects and the preprocessed files of the commits that changed them. The
lines no architecture compiled keep a reason: no cross compiler, or the
options no configuration tried could set.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass


@dataclass(frozen=True)
class Arch:
    name: str              # make's ARCH=
    srcarch: str           # its directory under arch/
    prefixes: tuple[str, ...]   # CROSS_COMPILE candidates; () for the host's compiler
    package: str           # the Debian package of the compiler, "" for none
    defconfig: str = "defconfig"
    llvm: bool = False     # built with clang and LLVM's binutils (LLVM=1)

    def make_vars(self, prefix: str) -> tuple[str, ...]:
        return (f"ARCH={self.name}",) + ((f"CROSS_COMPILE={prefix}",) if prefix else ()) \
            + (("LLVM=1",) if self.llvm else ())


# Tried in this order for a file outside arch/: the first that builds its lines wins.
ARCHES = (
    Arch("um", "um", (), "gcc"),
    Arch("arm64", "arm64", ("aarch64-linux-gnu-",), "gcc-aarch64-linux-gnu"),
    Arch("arm", "arm", ("arm-linux-gnueabihf-", "arm-linux-gnueabi-"), "gcc-arm-linux-gnueabihf"),
    Arch("powerpc", "powerpc", ("powerpc64le-linux-gnu-",), "gcc-powerpc64le-linux-gnu",
         "ppc64le_defconfig"),
    Arch("riscv", "riscv", ("riscv64-linux-gnu-",), "gcc-riscv64-linux-gnu"),
    Arch("s390", "s390", ("s390x-linux-gnu-",), "gcc-s390x-linux-gnu"),
    Arch("mips", "mips", ("mips-linux-gnu-",), "gcc-mips-linux-gnu"),
    Arch("parisc", "parisc", ("hppa-linux-gnu-",), "gcc-hppa-linux-gnu"),
    Arch("parisc64", "parisc", ("hppa64-linux-gnu-",), "gcc-hppa64-linux-gnu"),
    Arch("sh", "sh", ("sh4-linux-gnu-",), "gcc-sh4-linux-gnu"),
    Arch("sparc", "sparc", ("sparc64-linux-gnu-",), "gcc-sparc64-linux-gnu"),
    Arch("sparc64", "sparc", ("sparc64-linux-gnu-",), "gcc-sparc64-linux-gnu"),
    Arch("m68k", "m68k", ("m68k-linux-gnu-",), "gcc-m68k-linux-gnu"),
    Arch("alpha", "alpha", ("alpha-linux-gnu-",), "gcc-alpha-linux-gnu"),
    Arch("arc", "arc", ("arc-linux-gnu-",), "gcc-arc-linux-gnu"),
    Arch("hexagon", "hexagon", (), "clang", llvm=True),     # no GCC: the kernel builds it with LLVM
)

def prefix(arch: Arch) -> str | None:
    """The installed cross prefix of `arch`, "" for the host's compiler or LLVM,
    None if none is installed."""
    if arch.llvm:
        return "" if shutil.which("clang") and shutil.which("ld.lld") else None
    if not arch.prefixes:
        return ""
    return next((p for p in arch.prefixes if shutil.which(p + "gcc")), None)


def compiler(cc: str | None, arch: Arch, cross: str) -> str | None:
    """The host's CC setting for an architecture: 'ccache gcc' -> 'ccache
    aarch64-linux-gnu-gcc', or 'ccache clang' with LLVM; None: make's default."""
    if not cc:
        return cc
    words = cc.split()
    if words[-1] != "gcc":
        return None
    return " ".join(words[:-1] + ["clang" if arch.llvm else cross + "gcc"])


def candidates(src: str, homes: set[str] | None) -> list[Arch]:
    """The architectures that may build `src`, in the order they are tried:
    its own under arch/; else those whose Kconfig defines the architecture-only
    options it needs (`homes`, see KconfigIndex.homes); else every one but UML."""
    parts = src.split("/")
    if parts[0] == "arch" and len(parts) > 2:
        return [a for a in ARCHES if a.srcarch == parts[1]]
    if homes:
        return [a for a in ARCHES if a.srcarch in homes]
    return [a for a in ARCHES if a.srcarch != "um"]


def unavailable(src: str) -> str:
    """Why no architecture could be tried for `src`."""
    d = src.split("/")[1] if src.startswith("arch/") else ""
    want = [a for a in ARCHES if a.srcarch == d]
    if d and not want:
        return f"{d}: Debian ships no cross compiler for it"
    pkgs = sorted({a.package for a in want if a.package})
    return f"{d}: no cross compiler installed ({', '.join(pkgs)})" if pkgs else \
        "no cross compiler installed"
