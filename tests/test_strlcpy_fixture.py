"""The strlcpy-strscpy recipe end to end on its own small fixture, with real spatch:
golden patches, one commit per MAINTAINERS section, and what coverage says of
every reference."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ROOT, check_golden, imported, krefactor
from test_series_fixture import normalize

FIXTURE = ROOT / "fixtures" / "strlcpy-6.1"
GOLDEN = Path(__file__).parent / "data" / "strlcpy-series" / "expected"


@pytest.fixture
def tree(tmp_path) -> Path:
    dest = tmp_path / "linux"
    return imported(FIXTURE, dest)


def test_series_matches_golden_patches(tree, tmp_path, request):
    out = tmp_path / "out"
    res = krefactor("series", "--tree", str(tree), "--recipe", "strlcpy-strscpy",
                    "--output", str(out))
    assert res.returncode == 0, res.stderr
    produced = {p.name: normalize(p.read_text()) for p in sorted(out.glob("*.patch"))}
    check_golden(produced, GOLDEN, request)


def test_coverage_accounts_for_every_reference(tree, tmp_path):
    assert krefactor("series", "--tree", str(tree), "--recipe", "strlcpy-strscpy").returncode == 0
    out = tmp_path / "c.json"
    res = krefactor("coverage", "--tree", str(tree), "--recipe", "strlcpy-strscpy",
                    "--json", str(out))
    assert res.returncode == 0, res.stderr
    sites = {(s["file"], s["line"]): s for s in json.loads(out.read_text())["sites"]}
    by = {k: (s["disposition"], s["kind"]) for k, s in sites.items()}
    assert by == {
        ("arch/arm/kernel/setup.c", 9): ("changed", "call"),
        ("drivers/hwmon/bar.c", 10): ("NEEDS REVIEW", "call-value-used"),
        ("drivers/hwmon/bar.c", 12): ("NEEDS REVIEW", "call-value-used"),
        ("drivers/hwmon/bar.c", 18): ("NEEDS REVIEW", "call-value-used"),
        ("drivers/hwmon/bar.c", 23): ("changed", "call"),
        ("drivers/net/foo/foo_main.c", 12): ("changed", "call"),
        ("drivers/net/foo/foo_main.c", 17): ("changed", "call-value-used"),
        ("drivers/net/foo/foo_main.c", 23): ("NEEDS REVIEW", "macro-body"),
        ("drivers/net/foo/foo_main.c", 27): ("NEEDS REVIEW", "macro-use"),
        ("include/linux/string.h", 5): ("left", "declaration"),
        ("include/trace/events/baz.h", 10): ("NEEDS REVIEW", "text-only"),
        ("lib/string.c", 5): ("left", "definition"),
        ("lib/string.c", 17): ("left", "export"),
        ("tools/lib/str.c", 7): ("excluded", "excluded"),
    }
    # A length taken from the value is left, and the reason says why.
    assert "-E2BIG" in sites[("drivers/hwmon/bar.c", 18)]["reason"]
    assert sites[("include/trace/events/baz.h", 10)]["reason"].startswith(
        "inside the arguments of TP_fast_assign()")
    assert sites[("tools/lib/str.c", 7)]["reason"].startswith("userspace: tools/")
    assert "net: foo: replace strlcpy() with strscpy()" in \
        sites[("drivers/net/foo/foo_main.c", 17)]["commit"]


def test_one_series_per_maintainers_section(tree, tmp_path):
    import subprocess
    out = tmp_path / "out"
    res = krefactor("series", "--tree", str(tree), "--recipe", "strlcpy-strscpy",
                    "--output", str(out), "--per-maintainer")
    assert res.returncode == 0, res.stderr
    dirs = sorted(p.name for p in out.iterdir())
    assert dirs == ["arm-port", "bar-hardware-monitor-driver", "foo-network-driver"]
    cover = (out / "foo-network-driver" / "0000-cover-letter.patch").read_text()
    assert "Subject: [PATCH 0/1] net: foo: replace strlcpy() with strscpy()" in cover
    assert "To: foo@example.org" in cover and "netdev@vger.kernel.org" in cover
    assert "arm@example.org" not in cover
    base = subprocess.run(["git", "-C", str(tree), "rev-parse", "master"], capture_output=True,
                          text=True).stdout.strip()
    assert f"base-commit: {base}" in cover
    # Each series applies on the base by itself.
    for d in dirs:
        clone = tmp_path / f"apply-{d}"
        subprocess.run(["git", "clone", "-q", str(tree), str(clone)], check=True)
        patches = sorted(str(p) for p in (out / d).glob("000[1-9]-*.patch"))
        am = subprocess.run(["git", "-C", str(clone), "am", "-q", *patches],
                            capture_output=True, text=True)
        assert am.returncode == 0, (d, am.stderr)


def test_sections_that_name_one_tree_go_in_one_series(tree, tmp_path):
    import subprocess

    def git(*args):
        return subprocess.run(["git", "-C", str(tree), *args], check=True, capture_output=True,
                              text=True).stdout
    text = (tree / "MAINTAINERS").read_text()
    net = "T:\tgit git://git.kernel.org/pub/scm/linux/kernel/git/netdev/net-next.git\n"
    text = text.replace("F:\tdrivers/net/foo/\n", "F:\tdrivers/net/foo/\n" + net)
    text = text.replace("F:\tdrivers/hwmon/bar.c\n", "F:\tdrivers/hwmon/bar.c\n" + net)
    (tree / "MAINTAINERS").write_text(text)
    git("commit", "-q", "-am", "MAINTAINERS: one tree for foo and bar")
    out = tmp_path / "out"
    res = krefactor("series", "--tree", str(tree), "--recipe", "strlcpy-strscpy",
                    "--output", str(out), "--per-maintainer")
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in out.iterdir()) == ["arm-port", "netdev-net-next"]
    cover = (out / "netdev-net-next" / "0000-cover-letter.patch").read_text()
    assert "Subject: [PATCH 0/2] treewide: replace strlcpy() with strscpy() (netdev/net-next)" \
        in cover
    assert "foo@example.org" in cover and "bar@example.org" in cover
    assert "the netdev/net-next tree (MAINTAINERS: BAR HARDWARE MONITOR DRIVER, FOO" in \
        " ".join(cover.split())
    assert len(list((out / "netdev-net-next").glob("000[1-9]-*.patch"))) == 2
