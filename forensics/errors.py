"""The one error hierarchy and the exit codes the CLI maps it to."""

from __future__ import annotations

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


class InputProblems(InputError):
    """Several fatal input problems, all reported at once."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems) if len(problems) == 1 else
                         f"{len(problems)} input problems:\n" + "\n".join(problems))

    def line(self) -> str:
        return self.message


class ConfigError(ForensicsError):
    """The case config (TOML) or a command-line option is invalid."""


class HeuristicError(ForensicsError):
    """A heuristic file is malformed or cannot run."""

    def __init__(self, message: str, *, heuristic: str | None = None, file: str | None = None):
        self.heuristic = heuristic
        super().__init__(message, file=file)


class OutputError(ForensicsError):
    """The output directory cannot be written as asked."""


class LeakError(ForensicsError):
    """The public-profile dossier contains a raw identifier from the inputs."""
