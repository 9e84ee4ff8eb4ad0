"""The benches' baselines must do the work they stand for: a baseline that
fails on every file is fast, and a ratio against it means nothing."""
from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import pytest

from refactor import recipe as recipe_mod

ROOT = Path(__file__).resolve().parents[1]

# A function that takes a page and unlocks it: every rule of the prepare
# step that keeps Python state runs on it.
SOURCE = """\
static int fs_writepage(struct page *page, struct writeback_control *wbc)
{
	BUG_ON(PageWriteback(page));
	if (wbc->sync_mode == WB_SYNC_NONE) {
		unlock_page(page);
		return 0;
	}
	set_page_writeback(page);
	unlock_page(page);
	return 0;
}
"""


def series_bench():
    spec = importlib.util.spec_from_file_location(
        "series_vs_coccicheck", ROOT / "bench" / "series_vs_coccicheck.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["writeback-void", "strlcpy-strscpy"])
def test_the_oracle_runs_every_step_without_a_failure(tmp_path, name):
    bench = series_bench()
    (tmp_path / "a.c").write_text(SOURCE)
    for step in recipe_mod.load(name).steps:
        res = subprocess.run(["spatch", "--very-quiet", "--no-includes", "-D", "patch",
                              *bench.defines(step), "--sp-file", str(step.cocci), "a.c"],
                             cwd=tmp_path, capture_output=True, text=True)
        assert res.returncode == 0, (step.name, res.stderr[-500:])


def test_the_prepare_step_fails_without_its_values(tmp_path):
    """What the oracle did before: spatch skips the initialize rule of a
    semantic patch given only some of its -D values, and fails."""
    step = next(s for s in recipe_mod.load("writeback-void").steps if s.reach)
    (tmp_path / "a.c").write_text(SOURCE)
    res = subprocess.run(["spatch", "--very-quiet", "--no-includes", "-D", "patch",
                          "-D", "reached=?", "--sp-file", str(step.cocci), "a.c"],
                         cwd=tmp_path, capture_output=True, text=True)
    assert res.returncode != 0 and "NameError" in res.stderr
    assert "-D" in series_bench().defines(step) and "reached=*" in series_bench().defines(step)
