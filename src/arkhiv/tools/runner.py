"""The one function that runs an external program: argv list, timeout, stderr kept for errors."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Mapping, Sequence

from arkhiv.errors import MissingDependencyError, ToolError

log = logging.getLogger(__name__)


def run(
    argv: Sequence[str],
    *,
    timeout: float,
    env: Mapping[str, str] | None = None,
    install_hint: str = "",
) -> subprocess.CompletedProcess[str]:
    """Run a program; raise ToolError on failure or timeout, MissingDependencyError if absent."""
    log.debug("running %s", list(argv))
    try:
        proc = subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=dict(env) if env is not None else None,
            check=False,
        )
    except FileNotFoundError as e:
        raise MissingDependencyError(f"{argv[0]} is not installed", hint=install_hint) from e
    except subprocess.TimeoutExpired as e:
        raise ToolError(argv[0], None, "", f"{argv[0]} timed out after {timeout:g} s") from e
    if proc.stderr:
        log.debug("%s stderr: %s", argv[0], proc.stderr[-2000:])
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout or "")[-500:]
        raise ToolError(
            argv[0], proc.returncode, tail, f"{argv[0]} exited {proc.returncode}: {tail}"
        )
    return proc
