import pytest

from refactor.maintainers import default_prefix, prefix_from_subjects, subsystem_of


@pytest.mark.parametrize("path, key, prefix", [
    ("fs/ext4/page-io.c", "fs/ext4", "ext4"),
    ("fs/mpage.c", "fs/mpage.c", "mpage"),
    ("fs/smb/client/file.c", "fs/smb/client", "smb: client"),
    ("mm/vmscan.c", "mm", "mm"),
    ("include/linux/pagemap.h", "include", "include"),
    ("drivers/gpu/drm/i915/gem/i915_gem_shmem.c", "drivers/gpu/drm/i915", "drm/i915"),
    ("block/bdev.c", "block", "block"),
])
def test_subsystem_of(path, key, prefix):
    s = subsystem_of(path)
    assert (s.key, s.prefix) == (key, prefix)


def test_prefix_from_history_takes_the_common_one():
    subjects = ["f2fs: fix a", "f2fs: fix b", "mm: c", "Linux 6.1"]
    assert prefix_from_subjects(subjects) == "f2fs"
    assert prefix_from_subjects(["Linux 6.1"]) is None


@pytest.mark.parametrize("paths,prefix", [
    (["drivers/gpu/drm/drm_mipi_dsi.c"], "drm"),
    (["drivers/gpu/drm/drm_a.c", "drivers/gpu/drm/drm_b.c"], "drm"),
    (["drivers/gpu/drm/i915/i915_perf.c"], "drm/i915"),
    (["drivers/gpu/drm/mediatek/mtk_dsi.c"], "drm/mediatek"),
    (["drivers/scsi/qla2xxx/qla_init.c"], "scsi: qla2xxx"),
    (["kernel/trace/trace.c"], "tracing"),
    (["fs/befs/linuxvfs.c"], "befs"),
    (["arch/arm/kernel/setup.c", "arch/arm/kernel/vdso.c"], "arm"),
    (["net/sched/act_api.c"], "net/sched"),
    (["sound/soc/codecs/wm.c", "drivers/mfd/wm.c"], "mfd: wm"),
])
def test_default_prefix_without_history(paths, prefix):
    assert default_prefix(paths) == prefix


@pytest.mark.parametrize("entry,name", [
    ("git git://git.kernel.org/pub/scm/linux/kernel/git/mkp/scsi.git", "mkp/scsi"),
    ("git git://git.kernel.org/pub/scm/linux/kernel/git/mkp/scsi.git for-next", "mkp/scsi"),
    ("git https://github.com/torvalds/linux.git", "torvalds/linux"),
    ("quilt http://example.org/patches/", "example.org/patches"),
])
def test_tree_name(entry, name):
    from refactor.maintainers import tree_name
    assert tree_name(entry) == name


def test_sections_sharing_a_prefix_are_told_apart():
    from refactor.series import distinct_prefixes
    assert distinct_prefixes([("drm", "drm"), ("drm", "drm_mipi_dsi"), ("befs", "befs")]) == \
        ["drm", "drm: drm_mipi_dsi", "befs"]
    assert distinct_prefixes([("ib: hw", "main"), ("ib: hw", "main"), ("ib", "cma")],
                             ["mlx4", "mlx5", "core"]) == ["ib: hw: mlx4", "ib: hw: mlx5", "ib"]
    assert distinct_prefixes([("tracing", "ftrace"), ("tracing", "trace")]) == \
        ["tracing: ftrace", "tracing: trace"]


def test_a_recipes_first_subsystems_lead_a_split_step():
    from refactor.cocci import FileResult
    from refactor.recipe import load
    from refactor.series import groups
    step = next(s for s in load("writeback-void").steps if s.split == "subsystem")
    changed = [FileResult(p, b"", b"x", (), None)
               for p in ("fs/ext4/inode.c", "block/fops.c", "mm/shmem.c", "fs/afs/write.c")]
    keys = lambda first: [g.key for g, _ in groups(step, changed, None, None, first)]  # noqa: E731
    assert keys(()) == ["block", "fs/afs", "fs/ext4", "mm"]
    assert keys(("mm",)) == ["mm", "block", "fs/afs", "fs/ext4"]
    assert load("writeback-void").first == ("mm",)


MAINTAINERS_TEXT = """\
EXT4
M:\tA <a@example.org>
F:\tfs/ext4
X:\tfs/ext4/verity.c

DRM DRIVERS
F:\tdrivers/gpu/drm/*/display/
F:\tinclude/drm/drm_*.h

WILD
F:\t*/Kconfig.x?

BY NAME
N:\tverity
F:\tDocumentation/verity.rst
"""


@pytest.mark.parametrize("path", [
    "fs/ext4/inode.c", "fs/ext4x/a.c", "fs/ext4", "fs/ext4/verity.c", "fs/verity/open.c",
    "drivers/gpu/drm/i915/display/x.c", "drivers/gpu/drm/display/x.c",
    "include/drm/drm_fb.h", "include/drm/ttm.h", "mm/Kconfig.xy", "Kconfig.x1",
    "Documentation/verity.rst", "README"])
def test_the_prefix_test_rules_out_no_section_that_matches(path):
    """Section.matches starts with a cheap prefix test: it must give what the
    patterns alone give, wildcards, X: and N: included."""
    from refactor.maintainers import parse_maintainers, pattern_matches, regex
    for s in parse_maintainers(MAINTAINERS_TEXT):
        alone = not any(pattern_matches(x, path) for x in s.excludes) and (
            any(pattern_matches(f, path) for f in s.files)
            or any(regex(n).search(path) for n in s.regexes))
        assert s.matches(path) == alone, (s.title, path)
