"""What a long command shows on a terminal while it works."""
from __future__ import annotations

import shutil
import sys

from . import report


class Progress:
    """Lines on stderr and, on a terminal, a bar rewritten in place below them."""

    def __init__(self) -> None:
        self.live = sys.stderr.isatty()
        self.shown = False

    def line(self, msg: str) -> None:
        self.clear()
        self.write(msg + "\n")

    def status(self, label: str, done: int, total: int) -> None:
        if not self.live:
            return
        self.write("\r\033[K" + report.bar(label, done, total, shutil.get_terminal_size().columns))
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.write("\r\033[K")
            self.shown = False

    @staticmethod
    def write(text: str) -> None:
        sys.stderr.write(text)
        sys.stderr.flush()
