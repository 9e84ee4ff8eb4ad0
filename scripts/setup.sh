#!/usr/bin/env bash
# Install what krefactor needs on a fresh Debian machine: spatch, the kernel
# build tool chain, the reference 6.1 kernel source, QEMU and the mkfs tools
# for boot-test, and krefactor itself. Idempotent: packages already present
# are not fetched again. apt's and pip's output goes to a log file; the
# terminal gets one line per step.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
log=${KREFACTOR_SETUP_LOG:-${TMPDIR:-/tmp}/krefactor-setup.log}

debs=(coccinelle linux-source-6.1 gcc make flex bison bc libelf-dev libssl-dev
      ccache perl git xz-utils cpio
      b4          # series --b4: b4 prep/send take the branch (tests/test_b4.py)
      qemu-system-x86 e2fsprogs xfsprogs btrfs-progs dosfstools
      # boot-test: a workload per filesystem the series changes (DESIGN.md)
      f2fs-tools jfsutils reiserfsprogs nilfs-tools udftools exfatprogs
      gfs2-utils fuse2fs fuse3 util-linux fio ntfs-3g ecryptfs-utils keyutils
      nfs-kernel-server rpcbind iproute2 mtd-utils
      distcc      # compile-test on a build farm (tests/test_distcc_real.py)
      global      # the code index for reachability (refactor/index.py)
      # compile-test builds the lines x86 cannot on these (refactor/cross.py)
      gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf gcc-powerpc64le-linux-gnu
      gcc-hppa-linux-gnu gcc-sh4-linux-gnu gcc-sparc64-linux-gnu
      clang lld llvm)     # hexagon: the kernel builds it with LLVM only
missing=()
for p in "${debs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
step() {   # step "what" cmd...: one line on the terminal, the output in the log
    echo "krefactor setup: $1" >&2
    if ! "${@:2}" >>"$log" 2>&1; then
        echo "krefactor setup: failed: $1; the last lines of $log:" >&2
        tail -n 15 "$log" >&2
        exit 1
    fi
}
: >"$log"
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    step "apt-get update" $sudo apt-get update -qq
    step "installing ${missing[*]}" $sudo env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
step "installing krefactor (pip, editable)" python3 -m pip install -q -e "$here[test]"
