"""The one error hierarchy and the exit codes the CLI maps it to."""

from __future__ import annotations

import errno
import os
import re

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2


class ForensicsError(Exception):
    """Root of every error the tool reports to a user as one line (exit code 2)."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str, *, file: str | None = None, column: str | None = None):
        self.message = message
        self.file = file
        self.column = column
        super().__init__(self.line())

    def line(self) -> str:
        """The one-line message: where, then what."""
        where = []
        if self.file:
            where.append(str(self.file))
        if self.column:
            where.append(f"column {self.column!r}")
        return f"{': '.join(where)}: {self.message}" if where else self.message


class InputError(ForensicsError):
    """The logs are missing, unreadable or break the input contract."""


def _problem_block(problems: list[str], kind: str) -> str:
    """One problem as one line; several as a counted header and one line each.

    A line "… and N more …" stands for N problems that were not listed one by one.
    """
    if len(problems) == 1:
        return problems[0]
    count = 0
    for p in problems:
        more = re.match(r"… and (\d+) more", p)
        count += int(more[1]) if more else 1
    return f"{count} {kind} problems:\n" + "\n".join(f"  {p}" for p in problems)


class InputProblems(InputError):
    """Several fatal input problems, all reported at once."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__(_problem_block(self.problems, "input"))

    def line(self) -> str:
        return self.message


class ConfigError(ForensicsError):
    """The case config (TOML) or a command-line option is invalid."""


class ConfigProblems(ConfigError):
    """Several problems in one config file, all reported at once."""

    def __init__(self, problems: list[str], *, file: str | None = None):
        self.problems = [f"{file}: {p}" if file else p for p in problems]
        super().__init__(_problem_block(self.problems, "config"))

    def line(self) -> str:
        return self.message


class HeuristicError(ForensicsError):
    """A heuristic file is malformed or cannot run."""

    def __init__(self, message: str, *, heuristic: str | None = None, file: str | None = None):
        self.heuristic = heuristic
        super().__init__(message, file=file)


class OutputError(ForensicsError):
    """The output directory cannot be written as asked."""


class LeakError(ForensicsError):
    """The public-profile dossier contains a raw identifier from the inputs."""


class SystemFault(ForensicsError):
    """The machine refused a file operation: a full or read-only disk, a missing permission.

    Not a bug of the tool, so it is reported as one line naming the path (exit 2)."""


# errno values that describe the machine, not a mistake in the code: a run that meets one can
# succeed elsewhere or after the operator frees space or fixes permissions.
OS_FAULTS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM,
                       errno.EFBIG, errno.EIO})
# The same faults as DuckDB words them: its IOException carries the OS message, not errno.
_FAULT_WORDS = tuple(os.strerror(e) for e in sorted(OS_FAULTS))


def os_fault(exc: BaseException) -> str | None:
    """The OS's words for `exc` when it is a fault of the machine (disk full, read-only,
    no permission, I/O error), else None. Works on OSError and on DuckDB's IO errors."""
    if isinstance(exc, ForensicsError):
        return None
    if isinstance(exc, OSError):
        return (exc.strerror or str(exc)) if exc.errno in OS_FAULTS else None
    text = str(exc)
    return next((w for w in _FAULT_WORDS if w in text), None)
