#!/bin/sh
# workload: ecryptfs over ext4 (generic_writepages -> ecryptfs_writepage, which encrypts into the lower file): files, mmap exerciser, fio mmap verify, remount, verify
# proves: nr_written
# needs: MISC_FILESYSTEMS ECRYPT_FS KEYS CRYPTO CRYPTO_AES EXT4_FS
# timeout: 300
. "$KREFACTOR_BOOT_DIR/lib.sh"
# The key goes into the user session keyring with ecryptfs-add-passphrase,
# and the mount is the kernel's own (mount -i): the mount helper reads the
# kernel's version from /etc/mtab's sysfs, which the guest does not have,
# and then refused these options (-EINVAL).
sig=$(printf '%s' krefactor | ecryptfs-add-passphrase - 2>&1 | sed -n 's/.*sig \[\([0-9a-f]*\)\].*/\1/p')
[ -n "$sig" ] || fail "ecryptfs-add-passphrase gave no signature"
do_mount() {
    mkdir -p /tmp/lower
    mountpoint -q /tmp/lower || mount -t ext4 "$dev" /tmp/lower || return 1
    mkdir -p /tmp/lower/crypt
    mount -i -t ecryptfs -o "ecryptfs_sig=$sig,ecryptfs_cipher=aes,ecryptfs_key_bytes=16" \
        /tmp/lower/crypt /tmp/mnt
}
do_umount() { umount /tmp/mnt && umount /tmp/lower; }
fsload ecryptfs "" mkfs.ext4 -q -F
