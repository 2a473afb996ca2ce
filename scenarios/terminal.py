"""Output for a person: colours when standard output is a terminal (rich), plain text otherwise.

`output()` is what the commands write to: on a terminal, a stream that colours each line
by its marks (✓ green, ✗ and NON CONFORME red, dérive / non jugé / ignoré yellow); piped,
standard output as it is, so a file or `grep` never sees escape codes.
"""
from __future__ import annotations

import re
import sys
from typing import TextIO

RED = re.compile(r"✗|NON CONFORME|ERREUR")
YELLOW = re.compile(r"DÉRIVE|non jugé|ignoré|–")
GREEN = re.compile(r"✓|CONFORME")


class ColourStream:
    """A text stream that prints whole lines through rich, styled by what they say."""

    def __init__(self, stream: TextIO) -> None:
        from rich.console import Console

        self._console = Console(file=stream, highlight=False, soft_wrap=True)
        self._partial = ""

    def write(self, text: str) -> int:
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()
        for line in lines:
            self._console.print(line, style=_style(line), markup=False, emoji=False)
        return len(text)

    def flush(self) -> None:
        if self._partial:
            self.write("\n")
        self._console.file.flush()

    def isatty(self) -> bool:
        return True


def _style(line: str) -> str | None:
    if RED.search(line):
        return "red"
    if YELLOW.search(line):
        return "yellow"
    return "green" if GREEN.search(line) else None


def output(stream: TextIO | None = None) -> TextIO:
    stream = stream or sys.stdout
    return ColourStream(stream) if stream.isatty() else stream  # type: ignore[return-value]
