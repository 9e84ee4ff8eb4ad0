"""The command line: parse options, call a stage, render, map errors.

The only module that imports click. Errors become one line and exit 1 here
and nowhere else; --debug shows the traceback.
"""
from __future__ import annotations

import json
import logging
import os
import re
import shutil
import sys
from pathlib import Path

import click

from . import adhoc, boot, build, cocci, coverage, mail, report, results, review, safety, series
from . import b4 as b4_mod
from . import recipe as recipe_mod
from . import reroll as reroll_mod
from . import tree as tree_mod
from .choose import chosen_recipe, resolve_range, series_recipe
from .errors import BadInput, KrefactorError
from .status import Disposition
from .terminal import Progress


@click.group()
@click.option("--debug", is_flag=True, help="Show tracebacks and every command run.")
@click.option("-v", "--verbose", is_flag=True,
              help="Log every external command as `$ cmd`, with the milliseconds since start.")
@click.pass_context
def cli(ctx: click.Context, debug: bool, verbose: bool) -> None:
    """Coccinelle-driven refactoring of the Linux kernel into patch series."""
    ctx.obj = {"debug": debug}
    logging.basicConfig(level=logging.DEBUG if (debug or verbose) else logging.WARNING,
                        format="%(relativeCreated)8.0fms %(message)s", stream=sys.stderr)


@cli.command("import")
@click.argument("src", type=click.Path(path_type=Path))
@click.option("--to", "dest", required=True, type=click.Path(path_type=Path),
              help="Directory for the new git tree.")
def import_cmd(src: Path, dest: Path) -> None:
    """Make a one-commit git baseline from a kernel tarball or directory."""
    click.echo(f"importing {src} into {dest} ...", err=True)
    t, head, version = tree_mod.import_tree(src, dest)
    click.echo(f"{t.path}: Linux {version} at {head[:12]}")


@cli.command("series")
@click.option("--tree", "tree_path", default=".", type=click.Path(path_type=Path),
              help="Kernel git tree (default: the current directory).")
@click.option("--recipe", "recipe_name", default=None,
              help="Built-in recipe name, or a directory holding recipe.toml (default: "
                   "the recipe of the tree's krefactor/ branch, if it has one).")
@click.option("--cocci", "cocci_files", multiple=True,
              help="Run this plain semantic patch (e.g. one of the tree's "
                   "scripts/coccinelle/) as a step of its own; repeatable.")
@click.option("--split", type=click.Choice(["maintainers", "subsystem", "none"]),
              default=None, help="With --cocci: one commit per MAINTAINERS section "
                                 "(default), per subsystem, or one in all.")
@click.option("--subject", default=None,
              help="With --cocci: the subject after the prefix (default: the file's first "
                   "/// line).")
@click.option("--path", "paths", multiple=True,
              help="With --cocci: only files under this directory, like coccicheck's M=; "
                   "repeatable.")
@click.option("--branch", default=None, help="Branch to create (default: krefactor/RECIPE).")
@click.option("--output", type=click.Path(path_type=Path), default=None,
              help="Write format-patch files and a cover letter here.")
@click.option("--per-maintainer", is_flag=True,
              help="With --output: one series per maintainer tree (the sections' T:; a "
                   "section naming none alone), each in its own directory with its own "
                   "cover letter, To/Cc and base-commit.")
@click.option("--force", is_flag=True, help="Replace the branch if it holds something else.")
@click.option("--reroll", is_flag=True,
              help="Make the next version (BRANCH-v2, -v3, ...) beside the earlier ones, "
                   "with a changelog and range-diff.")
@click.option("--jobs", "-j", type=int, default=os.cpu_count() or 1, show_default=True)
@click.option("--timeout", type=float, default=120, show_default=True,
              help="Seconds spatch may spend on one file.")
@click.option("--b4", "b4_branch", is_flag=True,
              help="Also leave the series on b4/NAME as b4 prep's own branch: the cover "
                   "letter in b4's cover commit, with its tracking data; with --reroll, "
                   "b4's next revision.")
@click.option("--json", "json_out", type=click.Path(path_type=Path), default=None,
              help="Also write the result as JSON.")
def series_cmd(tree_path: Path, recipe_name: str | None, cocci_files: tuple[str, ...],
               split: str | None, subject: str | None, paths: tuple[str, ...],
               branch: str | None, output: Path | None,
               per_maintainer: bool, force: bool, reroll: bool, jobs: int, timeout: float,
               b4_branch: bool, json_out: Path | None) -> None:
    """Generate the recipe's patch series as commits on a new branch."""
    if reroll and force:
        raise click.UsageError("--reroll keeps every version; it does not go with --force")
    if per_maintainer and (output is None or reroll):
        raise click.UsageError("--per-maintainer needs --output, and does not go with --reroll")
    if cocci_files and recipe_name:
        raise click.UsageError("give --recipe or --cocci, not both")
    if not cocci_files and (split or subject or paths):
        raise click.UsageError("--split, --subject and --path go with --cocci")
    t = tree_mod.open_tree(tree_path)
    if cocci_files:
        rec, _ = adhoc_recipe(t, cocci_files, split or "maintainers", subject, paths)
    else:
        rec = chosen_recipe(t, recipe_name)
    if output is not None:
        check_writable(output)
    branch = branch or f"krefactor/{rec.name}"
    progress = lambda msg: click.echo(msg, err=True)  # noqa: E731
    rr = None
    with safety.exclusive(t):
        if reroll:
            res, rr = reroll_mod.run(tree=t, recipe=rec, branch=branch, jobs=jobs,
                                     timeout=timeout, progress=progress)
        else:
            res = series.generate(tree=t, recipe=rec, branch=branch, force=force, jobs=jobs,
                                  timeout=timeout, progress=progress)
    click.echo(report.series_text(res))
    if rr is not None:
        click.echo(report.reroll_text(rr))
    made_parts: list[mail.Part] = []
    if output is not None and res.tip is not None and res.tip != res.base \
            and not (reroll and res.nothing_to_do):
        if rr is not None:
            patches = mail.write_patches(
                t, res, rec, output, number=rr.number, changes=rr.changes,
                previous=f"{rr.previous.base}..{rr.previous.tip}")
        elif per_maintainer:
            made_parts = mail.parts(t, res, rec)
            written = mail.write_per_maintainer(t, res, rec, output, made_parts)
            patches = [p for ps in written.values() for p in ps]
            click.echo(f"wrote {len(written)} series, one per maintainer tree or section, "
                       f"to {output}")
        else:
            patches = mail.write_patches(t, res, rec, output)
        click.echo(f"wrote {len(patches)} patches to {output}")
    if b4_branch and res.tip is not None and res.tip != res.base:
        name = "b4/" + branch.removeprefix("krefactor/")
        if per_maintainer:
            todo = [(f"{name}-{p.slug}", p.tip, p.subject, p.blurb) for p in made_parts]
        else:
            subject, blurb = mail.cover(t, res, rec, number=rr.number if rr else 1,
                                          changes=rr.changes if rr else None)
            todo = [(name, res.tip, subject, blurb)]
        with safety.exclusive(t):
            for b, tip, subject, blurb in todo:
                made = b4_mod.make(t, base=res.base, tip=tip, branch=b, subject=subject,
                                   blurb=blurb, reroll=reroll)
                if made.unchanged:
                    click.echo(f"b4: {b} already holds this series (v{made.revision}, "
                               f"change-id {made.change_id})")
                else:
                    click.echo(f"b4: {b} -> {made.tip[:12]}, v{made.revision}, change-id "
                               f"{made.change_id}")
        click.echo(f"b4: git checkout {todo[0][0]}, then b4 prep --show-info, "
                   f"b4 prep --auto-to-cc, b4 send")
    if json_out is not None:
        json_out.write_text(report.series_json(res, rr))


def adhoc_recipe(t: tree_mod.Tree, files: tuple[str, ...], split: str, subject: str | None,
                 paths: tuple[str, ...], notes: bool = True
                 ) -> tuple[recipe_mod.Recipe, list[adhoc.AdHoc]]:
    """An ad-hoc recipe of plain semantic patches, with the tree's .cocciconfig."""
    head = t.rev("HEAD")
    config = t.read(head, [".cocciconfig"], missing_ok=True).get(".cocciconfig", b"") \
        if head else b""
    options = adhoc.cocciconfig_options(config.decode(errors="replace"))
    for p in paths:
        if Path(p).is_absolute() or ".." in Path(p).parts:
            raise BadInput(f"--path {p}: give a directory of the tree, relative to its top")
    prepared = [adhoc.prepare(f, options, t.path) for f in files]
    if subject is None and notes:
        for note in adhoc.subject_notes(prepared):
            click.echo(note, err=True)
    return adhoc.recipe(prepared, split=split, subject=subject,
                        paths=tuple(p.rstrip("/") for p in paths) or (".",)), prepared


@cli.group("recipe")
def recipe_group() -> None:
    """Make and check recipe directories."""


@recipe_group.command("new")
@click.argument("name")
@click.option("--from", "sources", multiple=True, required=True,
              help="A plain semantic patch to make a step of; repeatable, in order.")
@click.option("--dir", "parent", type=click.Path(path_type=Path), default=Path("."),
              show_default=True, help="Where to make the recipe's directory.")
def recipe_new_cmd(name: str, sources: tuple[str, ...], parent: Path) -> None:
    """Write a recipe directory (recipe.toml, the .cocci files copied) from
    plain semantic patches, one step each, to edit and run with --recipe."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
        raise BadInput(f"recipe name {name!r}: use letters, digits, '.', '_' and '-'")
    dest = parent / name
    if dest.exists():
        raise BadInput(f"{dest} exists; give another NAME or --dir")
    files = [adhoc.prepare(f) for f in sources]
    names = [f.path.name for f in files]
    if len(set(names)) != len(names):
        raise BadInput(f"two --from files share a name ({', '.join(names)}): a recipe keeps "
                       "them side by side")
    text = adhoc.recipe_toml(name, files)
    dest.mkdir(parents=True)
    for f in files:
        shutil.copyfile(f.path, dest / f.path.name)
    (dest / "recipe.toml").write_text(text)
    recipe_mod.load(str(dest))   # what it wrote must load
    click.echo(f"wrote {dest}/recipe.toml with {len(files)} step(s); run it with "
               f"`krefactor series --recipe {dest}`")


@recipe_group.command("check")
@click.argument("directory", type=click.Path(path_type=Path))
def recipe_check_cmd(directory: Path) -> None:
    """Validate a recipe directory: its recipe.toml, and each step's semantic patch."""
    if not (directory / "recipe.toml").is_file():
        raise BadInput(f"{directory}: no recipe.toml")
    rec = recipe_mod.load(str(directory))
    for step in rec.steps:
        try:
            cocci.check_syntax(step.cocci, step.mode)
        except KrefactorError as e:
            raise BadInput(f"{directory}/recipe.toml: step {step.index}: field 'cocci': "
                           f"{e}") from e
    click.echo(f"{directory}: recipe {rec.name}, {len(rec.steps)} step(s): "
               + ", ".join(s.cocci.name for s in rec.steps) + "; OK")


@cli.command("compile-test")
@click.option("--tree", "tree_path", default=".", type=click.Path(path_type=Path),
              help="Kernel git tree (default: the current directory).")
@click.option("--recipe", "recipe_name", default=None,
              help="Whose series to test by default (default: the one the tree has).")
@click.option("--range", "rng", default=None,
              help="BASE..TIP (default: HEAD..krefactor/RECIPE, its latest version).")
@click.option("--config", default="defconfig", show_default=True,
              help="Base config: defconfig, or a .config file.")
@click.option("--jobs", "-j", type=int, default=os.cpu_count() or 1, show_default=True)
@click.option("--cc", default=None, envvar="CC",
              help="Compiler or wrapper (e.g. 'distcc gcc'); default 'ccache gcc' when present.")
@click.option("--strict", is_flag=True, help="Fail when any changed line was not compiled.")
@click.option("--json", "json_out", type=click.Path(path_type=Path), default=None)
def compile_test_cmd(tree_path: Path, recipe_name: str | None, rng: str | None, config: str,
                     jobs: int, cc: str | None, strict: bool, json_out: Path | None) -> None:
    """Compile-test every commit of a range with targeted Kbuild builds."""
    t = tree_mod.open_tree(tree_path)
    base, tip = resolve_range(t, rng, recipe_name)
    with safety.exclusive(t):
        bar = Progress()
        res = build.run(tree=t, base=base, tip=tip, config=config, jobs=jobs, cc=cc,
                        progress=bar.line, status=bar.status)
        bar.clear()
        results.record_build(t, res)
    click.echo(report.build_text(res))
    if json_out is not None:
        json_out.write_text(report.to_json(res))
    if res.failed or (strict and res.uncompiled):
        sys.exit(1)


@cli.command("boot-test")
@click.option("--tree", "tree_path", default=".", type=click.Path(path_type=Path))
@click.option("--recipe", "recipe_name", default=None,
              help="The recipe whose boot workloads run (default: the recipe of the tree's "
                   "krefactor/ branch).")
@click.option("--range", "rng", default=None, help="BASE..TIP (default: HEAD..krefactor/RECIPE).")
@click.option("--each", "mode", flag_value="each", help="Test every commit.")
@click.option("--bisect", "mode", flag_value="bisect",
              help="When the tip fails and the base passes, find the first bad commit.")
@click.option("--gcov-only", "mode", flag_value="gcov",
              help="Only the gcov measurement at the tip: no pass/fail boots of base "
                   "and tip.")
@click.option("--workload", "workloads", multiple=True, help="Run only these (repeatable).")
@click.option("--gcov", "with_gcov", is_flag=True,
              help="Then boot a gcov kernel of the tip and report which changed lines ran.")
@click.option("--full-config", is_flag=True,
              help="Configure the kernel for every workload, not only those run, so "
                   "that the kernels of a full run serve a run of a few.")
@click.option("--resume", is_flag=True,
              help="Take the passes an earlier run kept for the same kernel bytes, "
                   "workloads and guest instead of booting again (an interrupted --each "
                   "goes on where it stopped); failures always run again.")
@click.option("--jobs", "-j", type=int, default=os.cpu_count() or 1, show_default=True)
@click.option("--cc", default=None, envvar="CC",
              help="Compiler or wrapper; default 'ccache gcc' when present.")
@click.option("--json", "json_out", type=click.Path(path_type=Path), default=None)
def boot_test_cmd(tree_path: Path, recipe_name: str | None, rng: str | None, mode: str | None,
                  workloads: tuple[str, ...], with_gcov: bool, full_config: bool,
                  resume: bool, jobs: int, cc: str | None, json_out: Path | None) -> None:
    """Boot commits under QEMU and run the recipe's workloads on them."""
    t = tree_mod.open_tree(tree_path)
    rec = chosen_recipe(t, recipe_name)
    base, tip = resolve_range(t, rng, str(rec.directory))
    with safety.exclusive(t):
        res = boot.run(tree=t, recipe=rec, base=base, tip=tip, mode=mode or "ends",
                       names=workloads, jobs=jobs, cc=cc,
                       with_gcov=with_gcov or mode == "gcov",
                       full_config=full_config, resume=resume,
                       progress=lambda m: click.echo(m, err=True),
                       tested=lambda cb, accel: results.record_commit_boot(t, cb, accel))
    click.echo(report.boot_text(res))
    if json_out is not None:
        json_out.write_text(report.to_json(res))
    if res.failed or (mode == "gcov" and res.gcov is not None and res.gcov.error):
        sys.exit(1)


@cli.command("results")
@click.option("--tree", "tree_path", default=".", type=click.Path(path_type=Path))
@click.option("--recipe", "recipe_name", default=None,
              help="Whose series by default (default: the one the tree has).")
@click.option("--range", "rng", default=None, help="BASE..TIP (default: HEAD..krefactor/RECIPE).")
@click.option("--json", "json_out", type=click.Path(path_type=Path), default=None)
def results_cmd(tree_path: Path, recipe_name: str | None, rng: str | None,
                json_out: Path | None) -> None:
    """The kept compile-test and boot-test results of every commit, as a matrix
    (one row per config and workload, one column per commit), from all runs."""
    t = tree_mod.open_tree(tree_path)
    base, tip = resolve_range(t, rng, recipe_name)
    m = results.matrix(t, base, tip)
    click.echo(results.matrix_text(m))
    if json_out is not None:
        json_out.write_text(json.dumps(m, indent=1) + "\n")


@cli.command("review")
@click.option("--tree", "tree_path", default=".", type=click.Path(path_type=Path))
@click.option("--recipe", "recipe_name", default=None,
              help="Whose series to review by default (default: the one the tree has).")
@click.option("--range", "rng", default=None,
              help="BASE..TIP (default: HEAD..krefactor/RECIPE, its latest version).")
@click.option("--json", "json_out", type=click.Path(path_type=Path), default=None)
def review_cmd(tree_path: Path, recipe_name: str | None, rng: str | None,
               json_out: Path | None) -> None:
    """Per-commit recipients, checkpatch results and risk flags."""
    t = tree_mod.open_tree(tree_path)
    base, tip = resolve_range(t, rng, recipe_name)
    res = review.run(tree=t, base=base, tip=tip, recipe=series_recipe(t, recipe_name),
                     jobs=os.cpu_count() or 1, progress=lambda m: click.echo(m, err=True))
    click.echo(report.review_text(res))
    if json_out is not None:
        json_out.write_text(report.to_json(res))


@cli.command("coverage")
@click.option("--tree", "tree_path", default=".", type=click.Path(path_type=Path))
@click.option("--recipe", "recipe_name", default=None,
              help="[default: the recipe of the tree's krefactor/ branch, unless --cocci "
                   "is given]")
@click.option("--cocci", "cocci_files", multiple=True,
              help="The plain semantic patch(es) of a `series --cocci` series: list what "
                   "each still matches at the tip, in its report (else context) mode.")
@click.option("--path", "paths", multiple=True, help="With --cocci: as given to series.")
@click.option("--range", "rng", default=None,
              help="BASE..TIP (default: HEAD..krefactor/RECIPE, its latest version).")
@click.option("--jobs", "-j", type=int, default=os.cpu_count() or 1, show_default=True)
@click.option("--timeout", type=float, default=120, show_default=True)
@click.option("--strict", is_flag=True,
              help="Exit non-zero when any site needs review (with --cocci: still matches).")
@click.option("--json", "json_out", type=click.Path(path_type=Path), default=None)
def coverage_cmd(tree_path: Path, recipe_name: str | None, cocci_files: tuple[str, ...],
                 paths: tuple[str, ...], rng: str | None, jobs: int, timeout: float,
                 strict: bool, json_out: Path | None) -> None:
    """Account for every in-tree reference to the recipe's symbols and hand-offs."""
    if cocci_files and recipe_name:
        raise click.UsageError("give --recipe or --cocci, not both")
    t = tree_mod.open_tree(tree_path)
    if cocci_files:
        rec, prepared = adhoc_recipe(t, cocci_files, "none", None, paths, notes=False)
        _, tip = resolve_range(t, rng or f"HEAD..krefactor/{rec.name}")
        found = coverage.adhoc_run(tree=t, recipe=rec, files=prepared, tip=tip, jobs=jobs,
                                   progress=lambda m: click.echo(m, err=True))
        click.echo(report.adhoc_coverage_text(found))
        if json_out is not None:
            json_out.write_text(report.adhoc_coverage_json(found))
        if strict and any(c.matches for c in found):
            sys.exit(1)
        return
    rec = chosen_recipe(t, recipe_name)
    base, tip = resolve_range(t, rng, str(rec.directory))
    res = coverage.run(tree=t, recipe=rec, base=base, tip=tip, jobs=jobs, timeout=timeout,
                       progress=lambda m: click.echo(m, err=True))
    click.echo(report.coverage_text(res))
    if json_out is not None:
        json_out.write_text(report.to_json(res))
    if strict and res.counts[Disposition.NEEDS_REVIEW]:
        sys.exit(1)


@cli.command("clean")
@click.option("--tree", "tree_path", default=".", type=click.Path(path_type=Path))
def clean_cmd(tree_path: Path) -> None:
    """Remove this tree's build state and what its crashed runs left.

    Only krefactor's own, in the tree's git directory: never a branch, the
    series records, or anything in $TMPDIR."""
    removed, kept = safety.clean(tree_mod.open_tree(tree_path))
    for path in removed:
        click.echo(f"removed {path}")
    for path in kept:
        click.echo(f"kept {path}")
    click.echo(f"{len(removed)} removed" if removed else "nothing to clean")


def check_writable(output: Path) -> None:
    try:
        output.mkdir(parents=True, exist_ok=True)
        probe = output / ".krefactor-probe"
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        raise KrefactorError(f"cannot write to --output {output}: {e.strerror}") from e


def main() -> None:
    debug = "--debug" in sys.argv[1:]
    safety.install_signal_handlers()
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("krefactor: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except safety.Interrupted as e:
        click.echo(f"krefactor: {e}", err=True)
        sys.exit(130)
    except KrefactorError as e:
        if debug:
            raise
        click.echo(f"krefactor: error: {e}", err=True)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        click.echo("krefactor: interrupted", err=True)
        sys.exit(130)
