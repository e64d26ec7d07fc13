"""Process figures for the benchmark children."""

from __future__ import annotations

import resource


def peak_rss_mb() -> float:
    """Peak RSS of this process. Linux carries ru_maxrss over fork+exec (a child starts
    with its parent's high-water mark), so VmHWM, which exec resets, comes first."""
    try:
        for line in open("/proc/self/status").read().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux
