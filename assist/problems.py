"""Problems found in a script pack, located by file, line and field path.

A leaf module: the classifier compilers and the pack loader both report with it.

Compilers (rules, forbidden phrases, scripts) report a `Problem` with the path of the
offending field inside the file's data; the pack loader fills in the file and the
line, so a trainer reads "rules.yaml:42 categories.system_outage.rules[3].any: …".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

PathPart = str | int


@dataclass(frozen=True, slots=True)
class Problem:
    path: tuple[PathPart, ...]
    message: str
    file: str | None = None
    line: int | None = None

    def located(self, file: str, line: int | None) -> Problem:
        return replace(self, file=file, line=line)

    @property
    def dotted(self) -> str:
        out = ""
        for part in self.path:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
        return out

    def __str__(self) -> str:
        where = self.file or "<pack>"
        if self.line is not None:
            where += f":{self.line}"
        field = f" {self.dotted}:" if self.path else ""
        return f"{where}{field} {self.message}"


class PackError(Exception):
    """A pack failed validation; `problems` lists every problem found, not just the first."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems) or "invalid pack")

    def __reduce__(self) -> tuple[type[PackError], tuple[list[Problem]]]:
        """Pickle with the problems (training runs in a worker process and may raise this)."""
        return (PackError, (self.problems,))
