"""Names the worker process a job runs in: ``host:pid:random`` (so a dead pid on this host is
recognised at once, and a lapsed lease everywhere else)."""

from __future__ import annotations

import os
import socket
import uuid

_ID: str | None = None


def current() -> str:
    global _ID
    if _ID is None or _ID.split(":")[1] != str(os.getpid()):
        _ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    return _ID


def is_dead_here(worker: str) -> bool:
    """True when ``worker`` ran on this host and its process no longer exists."""
    try:
        host, pid, _ = worker.split(":")
    except ValueError:
        return False
    if host != socket.gethostname():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, ValueError):
        return False
    return False
