"""A trusted *peer* beside a sandboxed program: the two talk in JSON lines over two pipes.

A job may carry ``peer``, a function of ours run in a thread of the worker while the program
runs. The program finds its ends of the pipes in ``PRODUCER_LAB_PEER`` ("<read fd>,<write
fd>") and typically answers questions: the trusted side runs the simulation and asks the
learner's code for its decisions, so the simulation runs once, outside the sandbox, and its
results need no replay (docs/GRADING.md). What the program sends is data — parsed as JSON,
size-capped — never code. The peer's return value comes back as ``SandboxResult.peer``.

Every read and write waits with ``select`` and gives up once the run is over (the program
exited or was killed), so a program that stops answering — or a leftover process holding a
pipe — can never hang the worker.
"""

from __future__ import annotations

import json
import os
import select
import threading
from collections.abc import Callable
from typing import Any

ENV = "PRODUCER_LAB_PEER"
LINE_CAP = 256 * 1024


class PeerGone(Exception):
    """The program stopped talking (exited, was killed, or sent something unreadable)."""


class Channel:
    def __init__(self, read_fd: int, write_fd: int, over: threading.Event) -> None:
        self._r, self._w, self._over = read_fd, write_fd, over
        os.set_blocking(read_fd, False)
        os.set_blocking(write_fd, False)
        self._buf = bytearray()

    def send(self, message: Any) -> None:
        data = memoryview((json.dumps(message, default=str) + "\n").encode())
        while data:
            if self._over.is_set():
                raise PeerGone("the program is no longer running")
            _, ready, _ = select.select([], [self._w], [], 0.1)
            if not ready:
                continue
            try:
                data = data[os.write(self._w, data):]
            except BlockingIOError:
                continue
            except BrokenPipeError:
                raise PeerGone("the program stopped reading") from None

    def receive(self) -> Any:
        while b"\n" not in self._buf:
            if len(self._buf) > LINE_CAP:
                raise PeerGone(f"the program sent a line longer than {LINE_CAP // 1024} KB")
            ready, _, _ = select.select([self._r], [], [], 0.1)
            if not ready:
                if self._over.is_set():
                    raise PeerGone("the program stopped answering")
                continue
            try:
                chunk = os.read(self._r, 65536)
            except BlockingIOError:
                continue
            if not chunk:
                raise PeerGone("the program stopped answering")
            self._buf += chunk
        line, _, rest = bytes(self._buf).partition(b"\n")
        self._buf = bytearray(rest)
        try:
            return json.loads(line)
        except ValueError:
            raise PeerGone("the program sent something that is not JSON") from None


class Peer:
    """The plumbing of one run: the program's fds, the thread, the result."""

    def __init__(self, fn: Callable[[Channel], Any]) -> None:
        self.fn = fn
        to_r, self._to_w = os.pipe()
        self._from_r, from_w = os.pipe()
        self.child_fds = (to_r, from_w)  # the program reads to_r and writes from_w
        self.over = threading.Event()
        self.result: Any = None
        self.error: str | None = None
        self._thread: threading.Thread | None = None

    def env(self) -> dict[str, str]:
        return {ENV: f"{self.child_fds[0]},{self.child_fds[1]}"}

    def start(self) -> None:
        """After the program was started: drop our copies of its ends and begin talking."""
        for fd in self.child_fds:
            os.close(fd)
        self._thread = threading.Thread(target=self._main, name="sandbox-peer", daemon=True)
        self._thread.start()

    def _main(self) -> None:
        channel = Channel(self._from_r, self._to_w, self.over)
        try:
            self.result = self.fn(channel)
        except PeerGone as exc:
            self.error = str(exc)
        except Exception as exc:  # noqa: BLE001 - ours, but reported, never raised into run()
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            os.close(self._from_r)
            os.close(self._to_w)

    def finish(self) -> None:
        """After the program ended: stop waiting on it and collect the result."""
        self.over.set()
        if self._thread is not None:
            self._thread.join()
        else:  # never started (the program could not be launched)
            for fd in (*self.child_fds, self._from_r, self._to_w):
                try:
                    os.close(fd)
                except OSError:
                    pass
