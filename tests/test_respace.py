"""Only the change itself: spatch's re-spacing undone (respace.py), with real spatch."""
from __future__ import annotations

from refactor import cocci, respace
from refactor.recipe import BUILTIN

STRSCPY = BUILTIN / "strlcpy-strscpy" / "01-strscpy.cocci"

# Written here, in the shapes of 6.1's strlcpy callers that spatch re-spaces.
SOURCE = b"""// SPDX-License-Identifier: GPL-2.0
#include <linux/string.h>

#define NAMELEN 16

static void name_port(char *tack, const char *name)
{
	strlcpy(tack, name, NAMELEN+1);
}

static void psym_name(struct port *port, char *dst, const char *src)
{
	port_get_psym_name (port, dst);
	strlcpy (dst, src, NAMELEN);
}

static void label_port(struct port *port, const char *label)
{
	strlcpy(port->label,
		label,
		sizeof(port->label));
	strlcpy(port->alias,
	  label, sizeof(port->alias));
	LONG_CALL;
	if (port->flags)
		strlcpy(port->short_name, label,
				sizeof(port->short_name));
}
""".replace(b"\tLONG_CALL;", b"\tstrlcpy(port->description_of_the_port_for_humans, "
            b"port->template_label_text, sizeof(port->description_of_the_port_for_humans));")


def test_spatch_respaces_and_the_series_keeps_the_original_spacing(tmp_path, monkeypatch):
    git_dir = tmp_path / ".git"
    git_dir.mkdir()
    [kept] = cocci.run(STRSCPY, {"drivers/x/port.c": SOURCE}, git_dir=git_dir)
    monkeypatch.setattr(cocci, "respace", lambda before, after: after)
    [raw] = cocci.run(STRSCPY, {"drivers/x/port.c": SOURCE}, git_dir=git_dir)
    # spatch's own output re-spaces what it rewrites (the test would not
    # show anything if it did not)...
    assert b"strscpy(tack, name, NAMELEN + 1);" in raw.after
    # ...and lays out again the calls it rewrites: joins a call's lines,
    # breaks a long one, re-indents a continuation line.
    assert b"\tstrscpy(port->label, label, sizeof(port->label));\n" in raw.after
    assert b"\tstrscpy(port->alias, label, sizeof(port->alias));\n" in raw.after
    assert b"\tstrscpy(port->description_of_the_port_for_humans,\n" in raw.after
    assert b"\t\tstrscpy(port->short_name, label, sizeof(port->short_name));\n" in raw.after
    # ...the result keeps every byte the change does not need.
    assert kept.after == SOURCE.replace(b"strlcpy", b"strscpy")


def test_line_rebuilt_from_the_original_tokens():
    r = respace.respace_line
    assert r("\tstrlcpy(tack, name, XNMLN+1);", "\tstrscpy(tack, name, XNMLN + 1);") == \
        "\tstrscpy(tack, name, XNMLN+1);"
    assert r("x = strlcpy (a,b,c);", "x = strscpy(a,b,c);") == "x = strscpy (a,b,c);"
    # Removed tokens take their spacing with them; added ones bring spatch's.
    assert r("\treturn f(page_folio(page));", "\tf(page_folio(page));") == \
        "\tf(page_folio(page));"
    assert r("\tf(a, b, c);", "\tf(a,c);") == "\tf(a, c);"
    assert r("\tg(a);", "\tg(x, a);") == "\tg(x, a);"
    # A line whose tokens are unchanged is the original line.
    assert r("\tif (a&&b)", "\tif (a && b)") == "\tif (a&&b)"


def test_runs_of_changed_lines_keep_the_original_layout():
    before = b"a;\n  f (x,y);\nb;\n"
    after = b"a;\n  g(x, y);\nb;\nadded(1 + 2);\n"
    assert respace.respace(before, after) == b"a;\n  g (x,y);\nb;\nadded(1 + 2);\n"
    # Two lines made of one, one of two: the original's line breaks.
    assert respace.respace(b"f(a,\n  b);\n", b"g(a, b);\n") == b"g(a,\n  b);\n"
    assert respace.respace(b"\tf(a, b);\n", b"\tg(a,\n\t  b);\n") == b"\tg(a, b);\n"
    # A continuation line keeps its indentation...
    assert respace.respace(b"\tf(a,\n\t  b);\n", b"\tg(a,\n\t\tb);\n") == \
        b"\tg(a,\n\t  b);\n"
    # ...but a statement spatch moved out of a block is indented as spatch does.
    before = b"\tif (start(p)) {\n\t\tx = 1;\n\t\ty = 2;\n\t}\n"
    after = b"\tstart(p);\n\tx = 1;\n\ty = 2;\n"
    assert respace.respace(before, after) == after
