from pathlib import Path

import pytest

from refactor import recipe
from refactor.errors import KrefactorError


def test_builtin_writeback_void_loads_in_order():
    r = recipe.load("writeback-void")
    assert r.name == "writeback-void"
    assert [s.index for s in r.steps] == list(range(1, 12))
    assert r.steps[0].cocci.name == "01-afs-bug-on-start.cocci"
    assert r.steps[5].split == "subsystem" and r.steps[5].reach == "any"
    # nilfs2's own fix comes before the VFS starts writeback.
    assert r.steps[6].cocci.name == "06-nilfs-begin-page-io.cocci" and r.steps[6].split == "none"
    # So does f2fs's, for the exits the generic preparation leaves.
    assert r.steps[7].cocci.name == "06-f2fs-end-writeback.cocci" and r.steps[7].split == "none"
    assert r.steps[8].cocci.name == "06-nfs-end-writeback.cocci" and r.steps[8].split == "none"
    assert r.steps[9].split == "subsystem" and not r.steps[9].reach
    assert "test_set_page_writeback" in r.symbols


def write(tmp_path: Path, toml: str) -> Path:
    (tmp_path / "a.cocci").write_text("virtual patch\n")
    (tmp_path / "recipe.toml").write_text(toml)
    return tmp_path


GOOD_STEP = '[[steps]]\ncocci = "a.cocci"\ngrep = ["x"]\nsubject = "x: y"\nbody = "z"\n'


@pytest.mark.parametrize("toml, field", [
    ('summary = "s"\ndescription = "d"\n' + GOOD_STEP, "'name'"),
    ('name = 3\nsummary = "s"\ndescription = "d"\n' + GOOD_STEP, "'name' must be a str"),
    ('name = "n"\nsummary = "s"\ndescription = "d"\n'
     '[[steps]]\ncocci = "missing.cocci"\ngrep = ["x"]\nsubject = "s"\nbody = "b"\n', "'cocci'"),
    ('name = "n"\nsummary = "s"\ndescription = "d"\n' + GOOD_STEP + 'split = "file"\n', "'split'"),
    ('name = "n"\nsummary = "s"\ndescription = "d"\n' + GOOD_STEP + 'split = "subsystem"\n',
     "{prefix}"),
    ('name = "n"\nsummary = "s"\ndescription = "d"\n'
     '[[steps]]\ncocci = "a.cocci"\ngrep = []\nsubject = "s"\nbody = "b"\ngrep_fixed = 1\n',
     "'grep_fixed'"),
    ('name = "n"\nsummary = "s"\ndescription = "d"\n' + GOOD_STEP +
     '[[flags]]\nremoved = ["f"]\nnear = "(x"\nmessage = "m"\n', "'near' is not a regexp"),
    ('name = "n"\nsummary = "s"\ndescription = "d"\n' + GOOD_STEP +
     '[[flags]]\nremoved = ["f"]\nmessage = "m"\n', "flags 1: give 'near' or 'exported"),
])
def test_malformed_recipe_names_the_field(tmp_path, toml, field):
    with pytest.raises(KrefactorError, match="step 1: |recipe.toml") as e:
        recipe.load(str(write(tmp_path, toml)))
    assert field in str(e.value)


def test_invalid_toml_is_one_error(tmp_path):
    with pytest.raises(KrefactorError, match="not valid TOML"):
        recipe.load(str(write(tmp_path, "name = ")))


def test_unknown_recipe_lists_builtins():
    with pytest.raises(KrefactorError, match="writeback-void"):
        recipe.load("no-such-recipe")
