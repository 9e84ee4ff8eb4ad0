from refactor import ctext, kbuild

AFS = """# SPDX
kafs-y := \\
	cache.o \\
	write.o
kafs-$(CONFIG_PROC_FS) += proc.o
obj-$(CONFIG_AFS_FS)  := kafs.o
"""

FS = """obj-y +=	buffer.o mpage.o
obj-$(CONFIG_AFS_FS)		+= afs/
obj-y				+= iomap/
"""

I915 = """gem-y += \\
	gem/i915_gem_shmem.o \\
	gem/i915_gemfs.o
i915-y += \\
	  $(gem-y) \\
	  i915_active.o
obj-$(CONFIG_DRM_I915) += i915.o
"""

F2FS = """obj-$(CONFIG_F2FS_FS) += f2fs.o
f2fs-y := dir.o data.o
f2fs-$(CONFIG_F2FS_FS_COMPRESSION) += compress.o
"""


def test_composite_object():
    assert kbuild.gate_in_makefile(AFS, "write.o").symbols == {"CONFIG_AFS_FS"}
    assert kbuild.gate_in_makefile(AFS, "proc.o").symbols == {"CONFIG_AFS_FS", "CONFIG_PROC_FS"}
    assert kbuild.gate_in_makefile(AFS, "nothere.o") is None


def test_directory_and_always_built():
    assert kbuild.gate_in_makefile(FS, "afs/").symbols == {"CONFIG_AFS_FS"}
    assert kbuild.gate_in_makefile(FS, "mpage.o").symbols == frozenset()


def test_list_variable_and_subdirectory_object():
    assert kbuild.gate_in_makefile(I915, "gem/i915_gem_shmem.o").symbols == {"CONFIG_DRM_I915"}


def test_option_of_its_own_below_the_filesystem():
    assert kbuild.gate_in_makefile(F2FS, "compress.o").symbols == {
        "CONFIG_F2FS_FS", "CONFIG_F2FS_FS_COMPRESSION"}


def test_gating_symbols_walks_up_the_tree():
    files = {"fs/afs": AFS, "fs": FS, ".": "obj-y += fs/\n",
             "drivers/gpu/drm/i915": I915, "drivers/gpu/drm": "obj-$(CONFIG_DRM) += drm.o\n"
             "obj-$(CONFIG_DRM_I915) += i915/\n", "drivers/gpu": "obj-y += drm/\n"}
    syms, notes = kbuild.gating_symbols("fs/afs/write.c", files.get)
    assert syms == {"CONFIG_AFS_FS"} and notes == []
    syms, _ = kbuild.gating_symbols("drivers/gpu/drm/i915/gem/i915_gem_shmem.c", files.get)
    assert syms == {"CONFIG_DRM_I915"}


def test_kconfig_depends_takes_plain_conjuncts():
    text = """config UBIFS_FS
	tristate "UBIFS file system support"
	depends on MTD_UBI && (X86 || ARM) && !FOO
	select CRC16

config OTHER
	depends on BAR
"""
    assert kbuild.kconfig_depends(text, "UBIFS_FS") == {"MTD_UBI"}


def test_read_config():
    assert kbuild.read_config("CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=m\n") == {
        "CONFIG_A": "y", "CONFIG_C": "m"}


def test_diagnostics():
    out = ("/src/fs/afs/write.c:530:29: error: void value not ignored as it ought to be\n"
           "  530 |    if (folio_start_writeback(folio))\n"
           "fs/nfs/write.c:10:5: warning: unused variable 'ret' [-Wunused-variable]\n"
           "make[4]: *** [scripts/Makefile.build:250: fs/afs/write.o] Error 1\n")
    assert [str(d) for d in kbuild.diagnostics(out, "/src")] == [
        "fs/afs/write.c:530: error: void value not ignored as it ought to be",
        "fs/nfs/write.c:10: warning: unused variable 'ret' [-Wunused-variable]",
    ]


def test_compiled_lines_follow_markers():
    i = ('# 1 "fs/x.c"\n'
         'int a;\n'
         '\n'
         '# 1 "include/linux/y.h" 1\n'
         'int y;\n'
         '# 4 "fs/x.c" 2\n'
         'int b;\n'
         '# 9 "fs/x.c"\n'
         'int c;\n')
    assert kbuild.compiled_lines(i, "fs/x.c") == {1, 4, 9}


def test_kconfig_enclosing_if_blocks():
    ubi = 'source "drivers/mtd/ubi/Kconfig"'
    parent = f'menuconfig MTD\n\ttristate "MTD"\n\nif MTD\n{ubi}\nendif # MTD\n'
    assert kbuild.enclosing_ifs(parent, lambda l: l == ubi) == {"MTD"}
    text = "if BLOCK\nconfig EXT4_FS\n\tdepends on FOO\nendif\nconfig OTHER\n"
    assert kbuild.kconfig_depends(text, "EXT4_FS") == {"BLOCK", "FOO"}
    assert kbuild.kconfig_depends(text, "OTHER") == set()


def test_code_lines_skip_comments_blanks_and_directives():
    src = ("/**\n"                      # 1
           " * kernel-doc\n"            # 2
           " */\n"                      # 3
           "void f(void)\n"             # 4
           "{\n"                        # 5
           "\n"                         # 6
           "\tg(\"/* not a comment\");  // trailing\n"   # 7
           "#ifdef CONFIG_X\n"          # 8
           "\th(); /* c */\n"           # 9
           "#endif\n"                   # 10
           "#define M(x) \\\n"          # 11
           "\t(x)\n"                    # 12
           "}\n")                       # 13
    assert ctext.code_lines(src) == {4, 5, 7, 9, 13}


def test_error_inside_a_macro_is_put_at_its_use():
    out = ("In file included from ./include/linux/mmzone.h:23,\n"
           "../src/include/linux/page-flags.h:772:9: error: void value not ignored as it "
           "ought to be\n"
           "  772 |         __folio_start_writeback(folio, false)\n"
           "../src/fs/afs/write.c:530:29: note: in expansion of macro "
           "'folio_start_writeback'\n"
           "make[4]: *** [../src/scripts/Makefile.build:250: fs/afs/write.o] Error 1\n")
    [d] = kbuild.diagnostics(out, "../src")
    assert str(d) == ("fs/afs/write.c:530: error: void value not ignored as it ought to be "
                      "(in macro at include/linux/page-flags.h:772)")
    assert kbuild.failed_objects(out) == ["fs/afs/write.o"]


HEADER = """/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _LINUX_WB_H
#define _LINUX_WB_H
#include <linux/types.h>

bool __folio_start_writeback(struct folio *folio,
		bool keep_write);	/* an unbalanced ( in a comment */
bool set_page_writeback(struct page *page);

#define folio_start_writeback(folio)			\\
	__folio_start_writeback(folio, false)
PAGEFLAG(Writeback, writeback, PF_NO_TAIL)
	TESTSCFLAG(Writeback, writeback, PF_NO_TAIL)

static inline bool test_set_page_writeback(struct page *page)
{
#ifdef CONFIG_WB_DEBUG
	pr_info("{");
#endif
	return set_page_writeback(page);
}
struct wb_ops {
	int (*writepage)(struct page *page);
};
typedef int (*writepage_t)(struct folio *folio, void *data);
typedef struct { int flags; } wb_flags_t;
extern int wb_table[3];
#endif
"""


def test_header_declarations_span_and_name():
    assert ctext.header_decls(HEADER) == [
        (3, 3, "_LINUX_WB_H"),
        (6, 7, "__folio_start_writeback"),
        (8, 8, "set_page_writeback"),
        (10, 11, "folio_start_writeback"),
        (12, 12, "PAGEFLAG"),
        (13, 13, "TESTSCFLAG"),
        (15, 21, "test_set_page_writeback"),
        (22, 24, "wb_ops"),
        (25, 25, "writepage_t"),
        (26, 26, "wb_flags_t"),
        (27, 27, "wb_table"),
    ]
    assert ctext.enclosing(ctext.header_decls(HEADER), 20) == "test_set_page_writeback"
    assert ctext.enclosing(ctext.header_decls(HEADER), 5) is None


def test_make_output_is_split_per_object():
    out = ("make[1]: Entering directory '/out'\n"
           "  CC [M]  fs/afs/write.o\n"
           "fs/afs/write.c:10:5: warning: unused variable 'ret' [-Wunused-variable]\n"
           "  CC      mm/page-writeback.o\n"
           "  CPP     fs/afs/write.i\n")
    blocks = kbuild.by_target(out)
    assert blocks[""] == "make[1]: Entering directory '/out'"
    assert [str(d) for d in kbuild.diagnostics(blocks["fs/afs/write.o"])] == [
        "fs/afs/write.c:10: warning: unused variable 'ret' [-Wunused-variable]"]
    assert blocks["mm/page-writeback.o"] == "  CC      mm/page-writeback.o"
    assert set(blocks) == {"", "fs/afs/write.o", "mm/page-writeback.o", "fs/afs/write.i"}
    assert kbuild.echoed_target("  LD [M]  fs/afs/kafs.o") is None


def test_kconfig_index_follows_depends_and_the_if_around_a_source_line():
    index = kbuild.KconfigIndex({
        "drivers/mtd/Kconfig": 'menuconfig MTD\n\ttristate "MTD"\nif MTD\n'
                               'source "drivers/mtd/ubi/Kconfig"\nendif # MTD\n',
        "drivers/mtd/ubi/Kconfig": 'menuconfig MTD_UBI\n\ttristate "UBI"\n',
        "fs/ubifs/Kconfig": 'config UBIFS_FS\n\ttristate "UBIFS"\n\tdepends on MTD_UBI\n',
        "fs/Kconfig": 'if BLOCK\nsource "fs/ubifs/Kconfig"\nendif\n',
    })
    assert index.depends("UBIFS_FS") == {"MTD_UBI", "BLOCK"}
    assert index.depends("MTD_UBI") == {"MTD"}
    assert index.closure({"UBIFS_FS"}, have={"BLOCK"}) == {"UBIFS_FS", "MTD_UBI", "MTD"}
    assert index.depends("NOWHERE") == set()


def test_homes_are_the_arch_directories_that_define_what_a_file_needs():
    index = kbuild.KconfigIndex({
        "arch/arm64/Kconfig.platforms": "config ARCH_QCOM\n\tbool \"Qualcomm\"\n",
        "arch/arm/mach-qcom/Kconfig": "menuconfig ARCH_QCOM\n\tbool \"Qualcomm\"\n",
        "arch/powerpc/platforms/pseries/Kconfig": "config PPC_PSERIES\n\tbool \"pSeries\"\n",
        "drivers/soc/qcom/Kconfig": "config QCOM_SMEM\n\ttristate \"smem\"\n"
                                    "\tdepends on ARCH_QCOM\n",
        "drivers/scsi/Kconfig": "config SCSI_IBMVSCSI\n\ttristate \"ibmvscsi\"\n"
                                "\tdepends on PPC_PSERIES\nconfig SCSI\n\ttristate \"scsi\"\n",
        "fs/hostfs/Kconfig": "config HOSTFS\n\ttristate \"hostfs\"\n\tdepends on UML\n",
        "arch/um/Kconfig": "config UML\n\tbool\n",
    })
    assert index.homes({"QCOM_SMEM"}) == {"arm", "arm64"}
    assert index.homes({"SCSI_IBMVSCSI"}) == {"powerpc"}
    assert index.homes({"HOSTFS"}) == {"um"}
    assert index.homes({"SCSI"}) is None
    # Options of two architectures at once: no architecture can set both.
    assert index.homes({"QCOM_SMEM", "SCSI_IBMVSCSI"}) == set()
