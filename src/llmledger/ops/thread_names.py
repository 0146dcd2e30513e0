"""Operating-system names for the process's own threads, so that ``top -H``, ``ps -L``
and ``/proc/<pid>/task/*/comm`` tell the ledger writer from the event loop (Python
3.11 names its threads for itself only)."""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

#: prctl(2) option that sets the calling thread's name (Linux).
_PR_SET_NAME = 15


def name_this_thread(name: str) -> bool:
    """Give the calling thread `name` (at most 15 bytes are kept) at the operating-system
    level; False where that is not possible (not Linux, no C library found)."""
    if not sys.platform.startswith("linux"):
        return False
    path = ctypes.util.find_library("c")
    if path is None:
        return False
    libc = ctypes.CDLL(path, use_errno=True)
    return int(libc.prctl(_PR_SET_NAME, name.encode()[:15], 0, 0, 0)) == 0
