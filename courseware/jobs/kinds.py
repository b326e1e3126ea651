"""The registry of job kinds: ``@job_kind("replay")`` on a plain function.

A kind's function takes the job's ``params`` (a JSON-safe dict) and a :class:`Progress`, and
returns a JSON-safe result. It must be idempotent: a job whose worker died runs again from the
start. Raise :class:`JobError` with a sentence for the learner when the work cannot be done;
any other exception is logged with its traceback and shown as a generic failure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

KINDS: dict[str, Callable[[dict, Progress], Any]] = {}


class JobError(Exception):
    """A failure the learner should read (the message is shown as it is)."""


class Progress:
    """Reports how far a job is; writes at most every ``min_interval_s`` (the last always)."""

    def __init__(self, write: Callable[[float, str], None], min_interval_s: float = 0.25,
                 clock: Callable[[], float] | None = None):
        import time

        self._write = write
        self._clock = clock or time.monotonic
        self._min = min_interval_s
        self._last = float("-inf")

    def __call__(self, fraction: float, text: str = "", *, force: bool = False) -> None:
        now = self._clock()
        if force or now - self._last >= self._min:
            self._last = now
            self._write(max(0.0, min(1.0, float(fraction))), text[:200])


def job_kind(name: str):
    """Register ``fn(params, progress) -> result`` as the job kind ``name``."""

    def register(fn):
        if name in KINDS and KINDS[name] is not fn:
            raise RuntimeError(f"job kind {name!r} registered twice")
        KINDS[name] = fn
        return fn

    return register
