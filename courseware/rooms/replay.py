"""Rebuild a room's simulation from its seed and command log, exactly.

Each logged command carries the virtual time *and* the engine's scheduler step count at
which it was applied.  Replaying runs the scheduler to that step count (then moves the idle
clock to that time) before applying the command, so a command that landed between two
entries due at the same millisecond lands there again: the rebuilt simulation is the same
one, byte for byte (``producer_core`` is deterministic for a seed and a config).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from courseware.lab.commands import Command
from courseware.lab.session import LabSession


@dataclass(frozen=True)
class Entry:
    """One command of a room's log and the instant it was applied."""

    t_ms: int
    steps: int
    type: str
    args: dict

    def as_dict(self) -> dict[str, Any]:
        return {"t_ms": self.t_ms, "steps": self.steps, "type": self.type, "args": self.args}


def point(session: LabSession) -> tuple[int, int]:
    """The instant a session is at: (virtual ms, scheduler steps)."""
    return int(session.sim.now_ms), int(session.sim.scheduler.steps)


def run_to(session: LabSession, t_ms: int, steps: int) -> None:
    """Run the session's engine to exactly ``steps`` scheduler steps, then its clock to
    ``t_ms`` (without running entries: the original stopped there too)."""
    scheduler = session.sim.scheduler
    while scheduler.steps < steps:
        if not scheduler.step():
            break
    nxt = scheduler.peek_ms()
    if scheduler.now_ms < t_ms and (nxt is None or nxt > t_ms):
        scheduler.run_until(t_ms)
    session.pacer.anchor(session.sim.now_ms)
    session.dirty = True


def rebuild(lab_id: str, preset: str, seed: int, log: Iterable[Entry],
            until: tuple[int, int] | None = None) -> LabSession:
    """A fresh session replaying ``log``; then run to ``until`` = (t_ms, steps) if given.

    Commands that fail here failed in the room too (they were never logged), so any error
    is a bug worth raising.
    """
    session = LabSession(lab_id, preset=preset, seed=seed)
    for entry in log:
        run_to(session, entry.t_ms, entry.steps)
        session.apply(Command(entry.type, dict(entry.args)))
    if until is not None:
        run_to(session, *until)
    return session
