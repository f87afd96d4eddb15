"""CPU accounting shared by the benchmarks: this process tree's CPU and the whole machine's."""

from __future__ import annotations

import os
import resource
from pathlib import Path


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
