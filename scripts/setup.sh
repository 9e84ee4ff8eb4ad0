#!/usr/bin/env bash
# Install what krefactor needs on a fresh Debian machine: spatch, the kernel
# build tool chain, the reference 6.1 kernel source, and krefactor itself.
# Idempotent: packages already present are not fetched again.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

debs=(coccinelle linux-source-6.1 gcc make flex bison bc libelf-dev libssl-dev
      ccache perl git xz-utils)
missing=()
for p in "${debs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    echo "krefactor setup: installing ${missing[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

python3 -m pip install -q -e "$here[test]" >&2
