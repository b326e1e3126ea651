"""A room's seed + command log (with the instant of each command) rebuilds the simulation
exactly: the fork and restart guarantees rest on this (courseware.rooms.replay)."""

from __future__ import annotations

import json

from courseware.lab.commands import Command
from courseware.lab.session import LabSession
from courseware.rooms.replay import Entry, point, rebuild


def _drive(session: LabSession, log: list[Entry], cmd: Command) -> None:
    at = point(session)
    session.apply(cmd)
    log.append(Entry(at[0], at[1], cmd.type, dict(cmd.args)))


def _snap(session: LabSession) -> str:
    return json.dumps(session.sim.snapshot(), sort_keys=True, default=str)


def test_replaying_the_log_to_the_same_instant_gives_the_same_snapshot():
    room = LabSession("r1.room", preset="kafka-defaults")
    log: list[Entry] = []
    # advance with tiny CPU budgets so commands land mid-millisecond, between due entries
    for budget in (0.3, 0.2, 0.5):
        room.advance(budget, now=room.created_wall + 400)
    _drive(room, log, Command("config", {"set": {"linger.ms": 50}}))
    room.advance(0.4, now=room.created_wall + 900)
    _drive(room, log, Command("fault", {"op": "stop_broker", "broker": 2}))
    room.advance(1.0, now=room.created_wall + 1500)
    _drive(room, log, Command("step", {"count": 3}))
    _drive(room, log, Command("resume", {}))
    room.advance(2.0, now=wall_plus(room, 2500))
    fork = rebuild("f1.main", "kafka-defaults", room.seed, log, point(room))
    assert point(fork) == point(room)
    assert _snap(fork) == _snap(room)
    assert fork.overrides == {"linger.ms": 50}


def wall_plus(session: LabSession, ms: float) -> float:
    return session.created_wall + ms


def test_the_fork_is_then_its_own():
    room = LabSession("r2.room", preset="kafka-defaults")
    log: list[Entry] = []
    room.advance(5.0, now=room.created_wall + 300)
    _drive(room, log, Command("pause", {}))
    fork = rebuild("f2.main", "kafka-defaults", room.seed, log, point(room))
    fork.apply(Command("config", {"set": {"linger.ms": 100}}))
    assert room.overrides == {}
    assert fork.overrides == {"linger.ms": 100}


def test_a_different_log_gives_a_different_state():
    # the comparison above could fail: a replay that misses a command is caught
    room = LabSession("r3.room", preset="kafka-defaults")
    log: list[Entry] = []
    room.advance(5.0, now=room.created_wall + 300)
    _drive(room, log, Command("fault", {"op": "stop_broker", "broker": 1}))
    room.advance(5.0, now=room.created_wall + 800)
    short = rebuild("f3.main", "kafka-defaults", room.seed, [], point(room))
    assert _snap(short) != _snap(room)
