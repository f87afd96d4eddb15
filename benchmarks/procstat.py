"""Shared by the benchmarks: this process tree's CPU and the whole machine's, peak memory, and
the machine and program versions the figures were measured with."""

from __future__ import annotations

import os
import platform
import resource
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import get_context
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any


def busy_cpu_seconds() -> float | None:
    """CPU seconds all processes of the machine have used since boot (Linux /proc/stat)."""
    try:
        fields_ = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    except (OSError, ValueError, IndexError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields_
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """CPU seconds of this process and its finished (reaped) descendants."""
    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def proc_status_kib(field_name: str) -> int | None:
    """A KiB figure of this process from /proc/self/status (VmRSS, VmHWM), None elsewhere.

    VmHWM is the peak RSS of this process alone. RUSAGE_SELF's ru_maxrss is not, in a spawned
    process: Linux keeps it across fork and exec, so it starts at the parent's peak.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def cpu_model_and_memory() -> tuple[str, str]:
    """The CPU model and total memory as Linux reports them ("unknown" elsewhere)."""
    cpu_model = mem = "unknown"
    try:
        cpu_model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
        mem = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    except (OSError, StopIteration):
        pass
    return cpu_model, mem


def ocrmypdf_program() -> str:
    """The ocrmypdf of this Python's environment, else the one on PATH."""
    beside = Path(sys.executable).parent / "ocrmypdf"
    return str(beside) if beside.is_file() else "ocrmypdf"


def program_version(argv: list[str]) -> str:
    """The first line a program prints for its version, or "not installed"."""
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    except OSError:
        return "not installed"
    return ((proc.stdout or proc.stderr).strip().splitlines() or ["unknown"])[0]


def machine_basics() -> dict[str, Any]:
    """The machine the figures were measured on: CPUs, memory, system, Python, load."""
    cpu_model, mem = cpu_model_and_memory()
    return {
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_model": cpu_model,
        "memory": mem,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def machine_info() -> dict[str, Any]:
    """The machine and the versions of the OCR programs and of arkhiv."""
    try:
        import arkhiv

        arkhiv_version = str(arkhiv.__version__)
    except ImportError:
        arkhiv_version = "not importable"
    return {
        **machine_basics(),
        "tesseract": program_version(["tesseract", "--version"]),
        "ocrmypdf": program_version([ocrmypdf_program(), "--version"]),
        "ghostscript": program_version(["gs", "--version"]),
        "unpaper": program_version(["unpaper", "--version"]),
        "arkhiv": arkhiv_version,
    }


@dataclass
class Timing:
    """Wall time of a measured block, the CPU this process tree used, and the CPU the rest of
    the machine took meanwhile."""

    wall_s: float = 0.0
    own_cpu_s: float = 0.0
    other_cpu_s: float | None = None
    load_before: float = 0.0
    load_after: float = 0.0

    @property
    def other_share(self) -> float | None:
        """The share of all cores that other processes used meanwhile."""
        return self.other_share_of(os.cpu_count() or 1)

    def other_share_of(self, cpus: int) -> float | None:
        if self.other_cpu_s is None or self.wall_s <= 0:
            return None
        return round(max(0.0, self.other_cpu_s) / (self.wall_s * cpus), 3)

    def as_dict(self, cpus: int | None = None) -> dict[str, Any]:
        cpus = cpus or os.cpu_count() or 1
        other_share = self.other_share_of(cpus)
        return {
            "wall_s": round(self.wall_s, 2),
            "own_cpu_s": round(self.own_cpu_s, 1),
            "own_cpu_share": round(self.own_cpu_s / (self.wall_s * cpus), 3) if self.wall_s else 0,
            "other_processes_cpu_s": None
            if self.other_cpu_s is None
            else round(self.other_cpu_s, 1),
            "other_processes_cpu_share": other_share,
            "loadavg_1min_before": self.load_before,
            "loadavg_1min_after": self.load_after,
        }


@contextmanager
def measure() -> Iterator[Timing]:
    """Time a block; also the CPU used by this process tree and by every other process."""
    t = Timing(load_before=round(os.getloadavg()[0], 2))
    busy0, own0, start = busy_cpu_seconds(), own_cpu_seconds(), time.perf_counter()
    yield t
    t.wall_s = time.perf_counter() - start
    t.own_cpu_s = own_cpu_seconds() - own0
    busy1 = busy_cpu_seconds()
    if busy0 is not None and busy1 is not None:
        t.other_cpu_s = (busy1 - busy0) - t.own_cpu_s
    t.load_after = round(os.getloadavg()[0], 2)


def run_in_child(
    target: Callable[[dict[str, Any]], dict[str, Any]],
    params: dict[str, Any],
    started: Callable[[int], None] | None = None,
) -> tuple[dict[str, Any], int | None]:
    """`target(params)` in a freshly spawned process (so that its memory and peak RSS are its
    own), and that process's exit code. A failure comes back as {"error": traceback};
    `started` is called with the process id once it runs."""
    ctx = get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child_main, args=(child, target, params))
    proc.start()
    child.close()
    if started is not None:
        started(proc.pid or 0)
    try:
        result: dict[str, Any] = parent.recv()
    except EOFError:  # killed (out of memory?) before it could answer
        result = {"error": "the process died without an answer"}
    proc.join()
    return result, proc.exitcode


def _child_main(
    conn: Connection, target: Callable[[dict[str, Any]], dict[str, Any]], params: dict[str, Any]
) -> None:
    try:
        conn.send(target(params))
    except BaseException:
        conn.send({"error": traceback.format_exc()})
    finally:
        conn.close()
