#!/bin/sh
# workload: ext2 mounted -o dirsync, where each change to a directory is written at once by write_one_page() (folio_write_one(), which hands the folio to ->writepage itself): files, mmap exerciser, fio mmap verify, 2000 names created in 4 directories, remount, verify
# proves: nr_written
# needs: EXT2_FS
# timeout: 240
. "$KREFACTOR_BOOT_DIR/lib.sh"
fsload ext2 "-o dirsync" mkfs.ext2 -q -F -b 1024
do_mount || fail "mount ext2 -o dirsync for the directories"
empty_files 4 500
(cd /tmp/mnt && find . | sort) > /tmp/names
do_umount || fail "umount ext2"
do_mount || fail "mount ext2 again"
[ "$(cd /tmp/mnt && find . | sort)" = "$(cat /tmp/names)" ] || fail "directory entries differ after a remount"
do_umount || fail "umount ext2"
echo "ext2 -o dirsync: 2000 names in 4 directories verified after a remount"
