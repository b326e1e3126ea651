"""Wake idle workers the moment a job is queued, instead of after their poll interval.

An idle worker waits on a Unix datagram socket of its own (``listen()``) rather than sleeping;
``notify()`` — called once the job's row is committed — sends an empty datagram to every
worker socket of this database. A datagram says only "look at the queue": a lost one costs
one poll interval, a spurious one one extra poll. The sockets live in a 0700 directory per
database under the temp dir (the sandbox cannot see it: bwrap gives it a fresh /tmp, and
reduced mode runs as an unprivileged uid).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import select
import socket
import tempfile
from pathlib import Path


def directory() -> Path:
    from django.conf import settings

    db = settings.DATABASES["default"]
    name = f"{db.get('ENGINE')}:{db.get('HOST', '')}:{db.get('PORT', '')}:{db.get('NAME')}"
    digest = hashlib.sha256(name.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / "producer-lab-jobs-wakeup" / digest


class Listener:
    """One worker's wake-up socket; ``wait(timeout)`` returns early when a job is queued."""

    def __init__(self) -> None:
        folder = directory()
        folder.parent.mkdir(mode=0o700, exist_ok=True)
        folder.mkdir(mode=0o700, exist_ok=True)
        self.path = folder / f"{os.getpid()}-{secrets.token_hex(4)}.sock"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(self.path))
        self.sock.setblocking(False)

    def wait(self, timeout: float) -> None:
        ready, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
        if ready:
            self._drain()

    def _drain(self) -> None:
        while True:
            try:
                self.sock.recv(64)
            except (BlockingIOError, InterruptedError):
                return

    def close(self) -> None:
        self.sock.close()
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass


def notify() -> int:
    """Wake every listening worker of this database; returns how many were reached."""
    try:
        names = [p for p in directory().iterdir() if p.suffix == ".sock"]
    except OSError:
        return 0
    reached = 0
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        for path in names:
            try:
                sock.sendto(b"", str(path))
                reached += 1
            except ConnectionRefusedError:  # its worker is gone: tidy the socket away
                try:
                    path.unlink()
                except FileNotFoundError:
                    pass
            except OSError:  # a full queue (that worker is awake already), a vanished file
                continue
    return reached
