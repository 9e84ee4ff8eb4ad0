"""The compile-test progress bar: drawn in place on a terminal, absent in logs."""
import io

from refactor import report, terminal


def test_bar_fills_and_fits():
    assert report.bar("[4/13] mm: x: fs/afs/write.o", 10, 20) == \
        "[##########..........] 10/20 [4/13] mm: x: fs/afs/write.o"
    assert report.bar("x", 0, 0).startswith("[####################] 0/0")
    assert len(report.bar("y" * 200, 1, 3, columns=40)) == 39


class Tty(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_progress_redraws_on_a_terminal_and_clears_before_lines(monkeypatch):
    err = Tty(True)
    monkeypatch.setattr(terminal.sys, "stderr", err)
    p = terminal.Progress()
    p.status("[1/2] a: fs/a.o", 1, 2)
    p.status("[1/2] a: fs/b.o", 2, 2)
    p.line("      pass, 1.0s")
    text = err.getvalue()
    assert text.count("\r\033[K") == 3                  # two draws, one clear
    assert text.endswith("\r\033[K      pass, 1.0s\n")
    assert "2/2 [1/2] a: fs/b.o" in text


def test_progress_is_lines_only_in_a_log(monkeypatch):
    err = Tty(False)
    monkeypatch.setattr(terminal.sys, "stderr", err)
    p = terminal.Progress()
    p.status("[1/2] a: fs/a.o", 1, 2)
    p.line("[1/2] done")
    p.clear()
    assert err.getvalue() == "[1/2] done\n"
