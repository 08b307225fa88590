"""Custos' error hierarchy and the exit codes the CLI maps them to.

    CustosError                 exit 3: an operational or internal problem
    +-- UserError               exit 2: bad input or usage; the message says what to fix
        +-- DataError           a file is malformed: names the file, the line and the problem
        +-- UnknownIdError      an id (control, framework, format) that does not exist

Library code raises these; only the CLI turns them into exit codes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_OPERATIONAL = 3


class CustosError(Exception):
    """Base of every error Custos raises on purpose."""

    exit_code = EXIT_OPERATIONAL


class UserError(CustosError):
    """The user's input or invocation is wrong; the message says what to do."""

    exit_code = EXIT_USAGE


class DataError(UserError):
    """A data file is malformed.

    `str()` gives one line per problem, each `file:line: what is wrong`, so a user can fix a
    file in one pass instead of one error per run.
    """

    def __init__(
        self,
        path: Path | str,
        message: str,
        line: int | None = None,
        more: Sequence[tuple[int | None, str]] = (),
    ) -> None:
        self.path = Path(path)
        self.line = line
        self.message = message
        self.problems: tuple[tuple[int | None, str], ...] = ((line, message), *more)
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        """Each problem as `file:line: message`."""
        return [
            f"{self.path}:{line}: {message}" if line is not None else f"{self.path}: {message}"
            for line, message in self.problems
        ]


class UnknownIdError(UserError):
    """An identifier that is not in the catalog (or a format that is not known)."""
