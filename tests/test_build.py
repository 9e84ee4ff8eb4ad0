"""The compile-test plan: which objects a header change needs built."""
import subprocess

from refactor import impact, kconfig, objects

OLD = """#ifndef _WB_H
#define _WB_H
bool __folio_start_writeback(struct folio *folio, bool keep_write);
bool set_page_writeback(struct page *page);
#define folio_start_writeback(folio) __folio_start_writeback(folio, false)
#define folio_start_writeback_keepwrite(folio) \\
	__folio_start_writeback(folio, true)
#define wb_start_checked(f) folio_start_writeback(f)

static inline bool test_set_page_writeback(struct page *page)
{
	return set_page_writeback(page);
}
#endif
"""


def lines_of(text: str, *needles: str) -> list[int]:
    return [n for n, line in enumerate(text.splitlines(), 1) if any(s in line for s in needles)]


def test_removing_an_inline_names_it_not_what_its_body_calls():
    new = OLD.replace("""static inline bool test_set_page_writeback(struct page *page)
{
	return set_page_writeback(page);
}
""", "")
    removed = list(range(10, 14))
    assert impact.changed_symbols(OLD, new, removed, []) == {"test_set_page_writeback"}


def test_a_changed_prototype_brings_the_macros_built_on_it():
    new = OLD.replace("bool __folio", "void __folio").replace("bool set_page", "void set_page")
    changed = lines_of(OLD, "bool __folio", "bool set_page")
    assert impact.changed_symbols(OLD, new, changed, changed) == {
        "__folio_start_writeback", "set_page_writeback", "folio_start_writeback",
        "folio_start_writeback_keepwrite", "wb_start_checked"}


def test_a_new_declaration_is_its_own_symbol():
    new = OLD.replace("#endif", "void folio_wait_start_writeback(struct folio *folio);\n#endif")
    assert impact.changed_symbols(OLD, new, [], lines_of(new, "wait_start")) == {
        "folio_wait_start_writeback"}


def test_only_this_architecture_builds():
    assert impact.buildable("fs/afs/write.c")
    assert impact.buildable("arch/x86/mm/init.c")
    assert not impact.buildable("arch/arm64/mm/init.c")
    assert not impact.buildable("tools/testing/selftests/mm/gup.c")


def test_an_object_is_built_once_per_distinct_input():
    # base, then: afs fix, nfs fix, header change, mm change, two fs changes
    touched = [frozenset(), frozenset({"fs/afs/write.c"}), frozenset({"fs/nfs/write.c"}),
               frozenset({"include/linux/page-flags.h", "mm/page-writeback.c"}),
               frozenset({"mm/page-writeback.c"}), frozenset({"fs/fuse/file.c"}),
               frozenset({"fs/mpage.c"})]
    # afs/write.c at commit 1 builds as at commit 2; the header change ends that.
    assert objects.last_same(1, "fs/afs/write.c", touched) == 2
    assert objects.last_same(0, "fs/afs/write.c", touched) == 0      # commit 1 changed it
    # Commits after the last header change share one tree for what they did not touch.
    assert objects.last_same(5, "fs/fuse/file.c", touched) == 6
    assert objects.last_same(4, "mm/page-writeback.c", touched) == 6
    assert objects.last_same(3, "mm/page-writeback.c", touched) == 3
    # A .c file changed in the same directory could be #included: not the same input.
    assert not objects.same_input(frozenset({"fs/afs/dir.c"}), "fs/afs/write.c")
    assert objects.same_input(frozenset({"fs/mpage.c"}), "fs/afs/write.c")
    assert not objects.same_input(frozenset({"fs/afs/Makefile"}), "fs/nfs/write.c")


def test_other_architectures_are_tried_where_they_can_build_a_file(monkeypatch):
    from refactor import cross
    names = lambda archs: [a.name for a in archs]      # noqa: E731
    assert names(cross.candidates("arch/sparc/kernel/setup_32.c", None)) == ["sparc", "sparc64"]
    assert names(cross.candidates("arch/arm/kernel/setup.c", {"arm64"})) == ["arm"]
    assert names(cross.candidates("drivers/soc/qcom/smem.c", {"arm", "arm64"})) == ["arm64", "arm"]
    assert names(cross.candidates("fs/hostfs/hostfs_kern.c", {"um"})) == ["um"]
    assert "um" not in names(cross.candidates("drivers/eisa/eisa-bus.c", None))
    arm64, um, hexagon = (next(a for a in cross.ARCHES if a.name == n)
                          for n in ("arm64", "um", "hexagon"))
    assert cross.compiler("ccache gcc", arm64, "aarch64-linux-gnu-") == \
        "ccache aarch64-linux-gnu-gcc"
    assert cross.compiler(None, arm64, "aarch64-linux-gnu-") is None
    assert cross.compiler("ccache gcc", um, "") == "ccache gcc"
    assert cross.compiler("ccache gcc", hexagon, "") == "ccache clang"
    assert hexagon.make_vars("") == ("ARCH=hexagon", "LLVM=1")
    assert arm64.make_vars("aarch64-linux-gnu-") == ("ARCH=arm64",
                                                     "CROSS_COMPILE=aarch64-linux-gnu-")
    monkeypatch.setattr(cross.shutil, "which", lambda name: None)
    assert cross.prefix(arm64) is None and cross.prefix(hexagon) is None
    assert cross.prefix(um) == ""          # UML: the host's compiler
    assert cross.unavailable("arch/nios2/kernel/setup.c") == \
        "nios2: Debian ships no cross compiler for it"
    assert cross.unavailable("arch/sh/kernel/setup.c") == \
        "sh: no cross compiler installed (gcc-sh4-linux-gnu)"


def test_a_makefile_reads_the_files_it_includes_from_its_directory(tmp_path):
    d = tmp_path / "arch/arm/mach-s3c"
    d.mkdir(parents=True)
    (d / "Makefile").write_text("ifdef CONFIG_ARCH_S3C64XX\ninclude $(src)/Makefile.s3c64xx\n"
                                "endif\n")
    (d / "Makefile.s3c64xx").write_text("obj-$(CONFIG_MACH_REAL6410) += mach-real6410.o\n")
    text = objects.read_makefile(tmp_path, "arch/arm/mach-s3c")
    assert "obj-$(CONFIG_MACH_REAL6410) += mach-real6410.o" in text
    from refactor import kbuild
    symbols, _ = kbuild.gating_symbols("arch/arm/mach-s3c/mach-real6410.c",
                                       lambda p: objects.read_makefile(tmp_path, p))
    assert symbols == {"CONFIG_MACH_REAL6410"}


def test_make_runs_ccache_in_depend_mode_and_passes_the_architecture(monkeypatch, tmp_path):
    from types import SimpleNamespace

    from refactor import workspace
    seen = {}

    def fake_run(cmd, env=None, **kw):
        seen["cmd"], seen["env"] = cmd, env
    monkeypatch.setattr(workspace.proc, "run", fake_run)
    monkeypatch.delenv("CCACHE_DEPEND", raising=False)
    monkeypatch.delenv("CCACHE_DIR", raising=False)
    ws = workspace.Workspace(SimpleNamespace(git_dir=tmp_path), 2, "ccache aarch64-linux-gnu-gcc",
                             out="cross/arm64",
                             make_vars=("ARCH=arm64", "CROSS_COMPILE=aarch64-linux-gnu-"))
    ws.make("fs/ext4/inode.o")
    assert seen["env"]["CCACHE_DEPEND"] == "1"
    assert seen["env"]["CCACHE_DIR"] == str(tmp_path / "krefactor" / "build" / "ccache")
    assert "ARCH=arm64" in seen["cmd"] and "CC=ccache aarch64-linux-gnu-gcc" in seen["cmd"]
    assert f"O={tmp_path / 'krefactor' / 'build' / 'cross' / 'arm64'}" in seen["cmd"]
    workspace.Workspace(SimpleNamespace(git_dir=tmp_path), 2, "gcc").make("x.o")
    assert "CCACHE_DEPEND" not in seen["env"]


def test_built_means_linked_into_vmlinux_not_an_object_left_by_an_earlier_config(tmp_path):
    """Kbuild keeps fs/ext4/inode.o after a config without ext4; vmlinux.a (a
    thin archive, made here with real ar as Kbuild makes it) says what the
    last build linked."""
    import subprocess
    out = tmp_path / "out"
    for o in ("mm/shmem.o", "fs/ext4/inode.o"):
        (out / o).parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["gcc", "-c", "-x", "c", "-", "-o", str(out / o)], input=b"int x;\n",
                       check=True)
    assert kconfig.linked_objects(out) is None
    assert kconfig.built_into(out, "fs/ext4/inode.c", None)      # no archive: the file decides
    subprocess.run(["ar", "cDPrST", "vmlinux.a", "mm/shmem.o"], cwd=out, check=True)
    linked = kconfig.linked_objects(out)
    assert linked == {"mm/shmem.o"}
    assert kconfig.built_into(out, "mm/shmem.c", linked)
    assert not kconfig.built_into(out, "fs/ext4/inode.c", linked)


def test_builds_leave_no_time_or_count_in_the_banner(monkeypatch, tmp_path):
    """Two builds of the same sources must be the same bytes, or boot-test's
    same-kernel rule never holds once vmlinux links again."""
    from refactor import proc, workspace
    seen = {}

    def run(cmd, *, env=None, check=True, timeout=None, **kw):
        seen.update(env or {})
        return subprocess.CompletedProcess(cmd, 0, b"", b"")
    monkeypatch.setattr(proc, "run", run)
    ws = workspace.Workspace.__new__(workspace.Workspace)
    ws.root, ws.out, ws.src, ws.jobs, ws.cc, ws.make_vars = \
        tmp_path, tmp_path / "out", tmp_path / "src", 1, "gcc", ()
    ws.make("vmlinux")
    assert {k: seen[k] for k in ("KBUILD_BUILD_TIMESTAMP", "KBUILD_BUILD_VERSION",
                                 "KBUILD_BUILD_USER", "KBUILD_BUILD_HOST")} == \
        workspace.REPRODUCIBLE
