"""The exception hierarchy of arkhiv; each error knows the exit code the CLI gives for it."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes of every arkhiv command (documented in `arkhiv --help`)."""

    OK = 0
    PARTIAL = 1  # the batch finished, but some pages or documents failed
    USAGE = 2  # bad arguments or settings
    MISSING_DEPENDENCY = 3  # a program or language pack is not installed
    FATAL = 4  # nothing useful could be done (catalog, index or archive unusable)
    BUSY = 5  # another arkhiv process is writing to the archive (or watching the inbox): retry
    INTERRUPTED = 130  # stopped by Ctrl-C or SIGTERM before the end; the same command resumes


class ArkhivError(Exception):
    """Base of all errors arkhiv reports to the user as a message, not a traceback."""

    exit_code: ExitCode = ExitCode.FATAL

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  {self.hint}" if self.hint else self.message


class ConfigError(ArkhivError):
    """Settings that cannot be used: unknown key, bad value, missing file."""

    exit_code = ExitCode.USAGE


class UsageError(ArkhivError):
    """A command-line request that makes no sense (e.g. an input folder that does not exist)."""

    exit_code = ExitCode.USAGE


class MissingDependencyError(ArkhivError):
    """An external program or a Tesseract language pack is missing."""

    exit_code = ExitCode.MISSING_DEPENDENCY


class InputFileError(ArkhivError):
    """One input file cannot be used: corrupt, encrypted, unsupported. Fails that file only."""

    exit_code = ExitCode.PARTIAL

    def __init__(self, path: object, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.path = str(path)


class PageHasTextError(InputFileError):
    """A PDF page that already has a text layer (born-digital, or OCRed before)."""


class ToolError(ArkhivError):
    """An external program failed: it exited non-zero, timed out or wrote no output."""

    exit_code = ExitCode.PARTIAL

    def __init__(self, tool: str, returncode: int | None, stderr_tail: str, message: str) -> None:
        super().__init__(message)
        self.tool = tool
        self.returncode = returncode
        self.stderr_tail = stderr_tail


class CatalogError(ArkhivError):
    """The catalog database cannot be opened, migrated or written."""


class SearchIndexError(ArkhivError):
    """The full-text index is missing, corrupt or locked."""


class ArchiveNotFoundError(ArkhivError):
    """The archive folder has no catalog yet."""

    exit_code = ExitCode.USAGE


class QueryError(ArkhivError):
    """A search query that cannot be parsed."""

    exit_code = ExitCode.USAGE


class MetadataError(ArkhivError):
    """Archival metadata that cannot be used as a whole (a manifest with an unknown column, a
    bad layout template). A single document's bad metadata fails that document only."""

    exit_code = ExitCode.USAGE


class ArchiveBusyError(ArkhivError):
    """Another arkhiv process holds the archive (or the inbox): nothing is wrong, try later."""

    exit_code = ExitCode.BUSY
