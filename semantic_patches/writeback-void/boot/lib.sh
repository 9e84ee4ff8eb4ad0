# Helpers for the writeback-void boot workloads; sourced by them, not a workload.
# The guest runs the host's own tools from its read-only root; scratch space
# is the tmpfs on /tmp, and the disks are $KREFACTOR_DISKS (image files on
# the host).
set -u

# A failed workload leaves no mount behind for the next one.
fail() { echo "FAIL: $*"; cd /; umount /tmp/mnt 2>/dev/null; exit 1; }
note() { echo "NOTE: $*"; }

# disk N: the Nth disk of this boot
disk() { echo "$KREFACTOR_DISKS" | cut -d' ' -f"$1"; }

vmstat() { grep "^$1 " /proc/vmstat | cut -d' ' -f2; }

drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }

# MemAvailable in MiB.
mem_available() { awk '/^MemAvailable:/ { print int($2 / 1024) }' /proc/meminfo; }

# hold_dirty MIB: no periodic writeback, and no background writeback below
# MIB of dirty pages, so that what a workload dirties stays dirty.
# release_dirty: the defaults again (writing the ratios clears the bytes).
hold_dirty() {
    echo 0 > /proc/sys/vm/dirty_writeback_centisecs
    echo $(($1 * 1024 * 1024)) > /proc/sys/vm/dirty_bytes
    echo $(($1 * 1024 * 1024 - 1048576)) > /proc/sys/vm/dirty_background_bytes
}
release_dirty() {
    echo 500 > /proc/sys/vm/dirty_writeback_centisecs
    echo 20 > /proc/sys/vm/dirty_ratio
    echo 10 > /proc/sys/vm/dirty_background_ratio
}

# make_files DIR SUMS: files of known content, with partial last pages,
# an overwrite in place, a truncation during writeback, and fsync; their
# checksums, relative to DIR, go to SUMS.
make_files() {
    d=$1 sums=$2
    for size in 1 4095 4096 4097 65537 1048576 3000001; do
        head -c "$size" /dev/urandom > "$d/f$size" || fail "writing $d/f$size"
    done
    # Overwrite in place, in the middle of a page and across pages.
    dd if=/dev/urandom of="$d/f1048576" bs=1000 seek=7 count=9 conv=notrunc 2>/dev/null \
        || fail "overwrite in place"
    # Truncate to a partial page while the file is under writeback.
    head -c 2000000 /dev/urandom > /tmp/trunc.src
    cp /tmp/trunc.src "$d/trunc"
    sync "$d/trunc" &
    truncate -s 5000 "$d/trunc"
    wait
    head -c 5000 /tmp/trunc.src > /tmp/trunc.want
    rm -f /tmp/trunc.src
    sync "$d"/f* || fail "fsync"
    (cd "$d" && md5sum f* trunc) > "$sums"
    [ "$(md5sum < "$d/trunc")" = "$(md5sum < /tmp/trunc.want)" ] \
        || fail "truncated file differs from its first 5000 bytes"
}

# new_fs FSTYPE MKFS...: make the filesystem on the first disk ($dev) and
# mount it on /tmp/mnt.
new_fs() {
    fstype=$1; shift
    dev=$(disk 1)
    "$@" "$dev" > /tmp/mkfs.log 2>&1 || { cat /tmp/mkfs.log; fail "mkfs for $fstype failed"; }
    mkdir -p /tmp/mnt
    mount -t "$fstype" "$dev" /tmp/mnt || fail "mount $fstype"
}

# empty_files DIRS FILES: directories d0.. under /tmp/mnt, each with FILES
# new, empty files e0..: their dentry and inode pages dirty.
empty_files() {
    d=0
    while [ $d -lt "$1" ]; do
        mkdir "/tmp/mnt/d$d" || fail "mkdir d$d"
        (cd "/tmp/mnt/d$d" && touch $(seq -f "e%g" 0 $(($2 - 1)))) || fail "creating files in d$d"
        d=$((d + 1))
    done
}

# roundtrip FSTYPE MKFS...: make the filesystem on the first disk, write the
# files, sync, drop caches, unmount, mount again and verify every checksum.
roundtrip() {
    new_fs "$@"
    make_files /tmp/mnt /tmp/sums
    sync
    drop_caches
    umount /tmp/mnt || fail "umount $fstype"
    mount -t "$fstype" "$dev" /tmp/mnt || fail "mount $fstype again"
    (cd /tmp/mnt && md5sum -c --quiet /tmp/sums) || fail "checksum mismatch on $fstype after remount"
    umount /tmp/mnt || fail "umount $fstype"
    echo "$fstype: $(wc -l < /tmp/sums) files verified after remount"
}

# mmap_load DIR: the mmap exerciser (shared writable mmap, msync, write(2),
# truncation of dirty pages, fallocate, punched holes; every byte checked
# against its model) and fio's verified writes through a shared mapping.
# verify_mmap_load DIR checks both again, after a remount.
mmap_load() {
    /usr/bin/python3 "$KREFACTOR_BOOT_DIR/mmapx.py" "$1/mmapx" /tmp/mmapx.want 400 \
        || fail "mmap exerciser on $1"
    fio_mmap "$1" || fail "fio: verified mmap writes on $1"
}
fio_mmap() {   # fio_mmap DIR [--verify_only]
    # --thread: fio keeps its state in threads, not System V shared memory,
    # which the boot kernel leaves out.
    fio --name=mmap --thread --filename="$1/fio" --ioengine=mmap --rw=randwrite --bs=4k --size=4m \
        --verify=crc32c --do_verify=1 --fsync=16 --randseed=7 --minimal ${2:-} \
        > /tmp/fio.out 2>&1 || { cat /tmp/fio.out; return 1; }
}
verify_mmap_load() {
    cmp "$1/mmapx" /tmp/mmapx.want || fail "mmap exerciser's file differs from its model ($2)"
    fio_mmap "$1" --verify_only || fail "fio: mmap-written data does not verify ($2)"
}

# The mount of fsload; a workload may define its own (fuse) after sourcing lib.sh.
do_mount() { mount -t "$fstype" $mount_args "$dev" /tmp/mnt; }
do_umount() { umount /tmp/mnt; }

# fsload FSTYPE "MOUNT ARGS" MKFS...: make the filesystem on the first disk (or
# on $FSLOAD_DEV, a 9p share tag);
# write the files of make_files and run mmap_load; sync, drop caches and
# verify; unmount, mount again and verify everything once more.
fsload() {
    fstype=$1 mount_args=$2; shift 2
    dev=${FSLOAD_DEV:-$(disk 1)}
    "$@" "$dev" > /tmp/mkfs.log 2>&1 || { cat /tmp/mkfs.log; fail "mkfs for $fstype failed"; }
    mkdir -p /tmp/mnt
    do_mount || fail "mount $fstype $mount_args"
    make_files /tmp/mnt /tmp/sums
    mmap_load /tmp/mnt
    sync
    drop_caches
    (cd /tmp/mnt && md5sum -c --quiet /tmp/sums) || fail "checksum mismatch on $fstype after drop_caches"
    verify_mmap_load /tmp/mnt "after drop_caches"
    do_umount || fail "umount $fstype"
    do_mount || fail "mount $fstype again"
    (cd /tmp/mnt && md5sum -c --quiet /tmp/sums) || fail "checksum mismatch on $fstype after remount"
    verify_mmap_load /tmp/mnt "after remount"
    do_umount || fail "umount $fstype"
    echo "$fstype${mount_args:+ $mount_args}: $(wc -l < /tmp/sums) files, mmap exerciser and fio verified after remount"
}

# nfs_server: kernel nfsd exporting the ext4 on $dev at /tmp/exp over the
# loopback; nfs_server_stop undoes it. The server's state directories live on
# tmpfs over the read-only root; the export is given on exportfs's command
# line, not in /etc/exports. NFSv3 needs rpcbind for the mount and nothing
# else; nolock: no statd.
nfs_server() {
    ip link set lo up || fail "loopback up"
    for d in /run /var/lib/nfs; do mount -t tmpfs tmpfs "$d" || fail "tmpfs on $d"; done
    mkdir -p /run/rpcbind /var/lib/nfs/sm /var/lib/nfs/v4recovery
    : > /var/lib/nfs/etab; : > /var/lib/nfs/rmtab
    rpcbind -w || fail "rpcbind"
    mount -t nfsd nfsd /proc/fs/nfsd || fail "mount nfsd"
    mkdir -p /tmp/exp
    mount -t ext4 "$dev" /tmp/exp || fail "mount the exported ext4"
    exportfs -o rw,no_root_squash,insecure,no_subtree_check,fsid=1 127.0.0.1:/tmp/exp \
        || fail "exportfs"
    rpc.mountd -N 4 || fail "rpc.mountd"
    rpc.nfsd -N 4 2 || fail "rpc.nfsd"
}
nfs_server_stop() {
    rpc.nfsd 0
    pkill rpc.mountd; pkill rpcbind
    exportfs -ua
    umount /proc/fs/nfsd /tmp/exp /var/lib/nfs /run
}

# truncation_race NAME: on the filesystem fsload made (do_mount), race fsync
# against truncation to zero for 30 s (truncrace.py), so that ->writepage may
# meet a page wholly past the end of the file, then check the file's last
# content after a remount.
truncation_race() {
    do_mount || fail "mount $1 for the truncation race"
    /usr/bin/python3 "$KREFACTOR_BOOT_DIR/truncrace.py" /tmp/mnt/raced 30 9 || fail "truncation race on $1"
    do_umount || fail "umount $1 after the truncation race"
    do_mount || fail "mount $1 after the truncation race"
    /usr/bin/python3 "$KREFACTOR_BOOT_DIR/truncrace.py" --check /tmp/mnt/raced 9 \
        || fail "raced file differs on $1 after remount"
    do_umount || fail "umount $1"
}
