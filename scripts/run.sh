#!/usr/bin/env bash
# Set up krefactor and run its main job: the writeback-void series.
#   scripts/run.sh            on the shipped fixture tree (imported to a temp dir)
#   scripts/run.sh TREE       on a kernel git tree (or a tarball / unpacked tree,
#                             which is imported next to the output first)
# Patches go to ./out/<recipe>/ (override with OUT=...).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/setup.sh"
out=${OUT:-$PWD/out/writeback-void}
target=${1:-$here/fixtures/writeback-6.1}
# A directory inside another repository (the fixture, inside this one) is
# not a kernel git tree of its own: import it.
top=$(git -C "$target" rev-parse --show-toplevel 2>/dev/null || true)
if [ "$top" != "$(cd "$target" 2>/dev/null && pwd -P)" ]; then
    work=$(mktemp -d "${TMPDIR:-/tmp}/krefactor-tree.XXXXXX")
    krefactor import "$target" --to "$work/linux"
    target=$work/linux
    echo "imported into $target" >&2
fi
git -C "$target" config user.email >/dev/null || git -C "$target" config user.email "you@example.org"
git -C "$target" config user.name >/dev/null || git -C "$target" config user.name "krefactor user"
rm -rf "$out"
krefactor series --tree "$target" --output "$out"
