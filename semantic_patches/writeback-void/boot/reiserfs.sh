#!/bin/sh
# workload: reiserfs (reiserfs_writepage -> reiserfs_write_full_page): files, mmap exerciser, fio mmap verify, remount, verify; then fsync raced by truncation to zero (truncrace.py), so that ->writepage meets pages wholly past the end of the file, and the file's last content verified after a remount
# proves: nr_written
# needs: REISERFS_FS
# timeout: 300
. "$KREFACTOR_BOOT_DIR/lib.sh"
fsload reiserfs "" mkfs.reiserfs -q -f -f
do_mount || fail "mount reiserfs for the truncation race"
/usr/bin/python3 "$KREFACTOR_BOOT_DIR/truncrace.py" /tmp/mnt/raced 30 9 || fail "truncation race on reiserfs"
do_umount || fail "umount reiserfs after the truncation race"
do_mount || fail "mount reiserfs after the truncation race"
/usr/bin/python3 "$KREFACTOR_BOOT_DIR/truncrace.py" --check /tmp/mnt/raced 9 || fail "raced file differs on reiserfs after remount"
do_umount || fail "umount reiserfs"
echo "reiserfs: fsync raced by truncation for 30 s, the last content verified after remount"
