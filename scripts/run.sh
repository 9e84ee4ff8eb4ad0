#!/usr/bin/env bash
# Set up krefactor and run its main job: the writeback-void series.
#   scripts/run.sh            on the shipped fixture tree
#   scripts/run.sh TREE       on a kernel git tree (or a tarball / unpacked tree,
#                             which is imported next to the output first)
# Patches go to ./out/<recipe>/ (override with OUT=...). A tree this script
# imports is yours: it goes to ./out/linux-<name>/ (override with TREE_DIR=...),
# is reused by the next run, and no krefactor command ever removes it.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/setup.sh"
out=${OUT:-$PWD/out/writeback-void}
target=${1:-$here/fixtures/writeback-6.1}
# A directory inside another repository (the fixture, inside this one) is
# not a kernel git tree of its own: import it.
top=$(git -C "$target" rev-parse --show-toplevel 2>/dev/null || true)
if [ "$top" != "$(cd "$target" 2>/dev/null && pwd -P)" ]; then
    name=$(basename "${target%%.tar*}")
    work=${TREE_DIR:-$(dirname "$out")/linux-$name}
    if git -C "$work" rev-parse -q --verify HEAD >/dev/null 2>&1; then
        echo "using the tree imported earlier: $work" >&2
    else
        krefactor import "$target" --to "$work"
        echo "imported into $work (yours to keep or delete)" >&2
    fi
    target=$work
fi
git -C "$target" config user.email >/dev/null || git -C "$target" config user.email "you@example.org"
git -C "$target" config user.name >/dev/null || git -C "$target" config user.name "krefactor user"
# Patches of an earlier run would mix with this one's; nothing else in $out is touched.
mkdir -p "$out"
rm -f "$out"/[0-9][0-9][0-9][0-9]-*.patch
krefactor series --recipe writeback-void --tree "$target" --output "$out"
