"""Wall-clock pacing for a live lab: which virtual instant the simulation should have reached.

The engine never reads the wall clock; the lab does, here, and nowhere else.  A ``Pacer``
maps elapsed wall time to a virtual-time target at a speed factor (1×, or slow motion such
as 0.01× so a 5 ms linger takes half a second to watch).  When the engine cannot keep up,
the lab does not build an ever-growing debt that it would later try to repay in one long
burst: past ``max_lag_ms`` of wall time behind, the pacer forgives the debt and the lab
reports the speed it really achieved ("running at 0.6×").
"""

from __future__ import annotations

import time


def wall_ms() -> float:
    """Monotonic wall time in milliseconds (the one clock the live lab reads)."""
    return time.monotonic() * 1000.0


class Pacer:
    """Virtual-time target = anchor + (wall − wall anchor) × speed, with forgiven lag."""

    def __init__(self, speed: float = 1.0, *, max_lag_ms: float = 250.0) -> None:
        self.speed = float(speed)
        self.max_lag_ms = max_lag_ms
        self._wall0 = wall_ms()
        self._virt0 = 0.0
        # Effective speed: virtual ms achieved per wall ms, smoothed over about a second.
        self.effective_speed = float(speed)
        self._last_wall = self._wall0
        self._last_virt = 0.0
        self.behind = False

    def anchor(self, virtual_ms: float, now: float | None = None) -> None:
        """Restart pacing from ``virtual_ms`` at the current wall time (resume, speed, reset)."""
        now = wall_ms() if now is None else now
        self._wall0 = now
        self._virt0 = float(virtual_ms)
        self._last_wall = now
        self._last_virt = float(virtual_ms)
        self.behind = False
        self.effective_speed = self.speed

    def set_speed(self, speed: float, virtual_ms: float, now: float | None = None) -> None:
        self.speed = float(speed)
        self.anchor(virtual_ms, now)

    def target(self, now: float | None = None) -> float:
        """The virtual instant the simulation should reach by wall time ``now``."""
        now = wall_ms() if now is None else now
        return self._virt0 + (now - self._wall0) * self.speed

    def observe(self, virtual_ms: float, now: float | None = None) -> None:
        """Record where the simulation got to; forgive a lag longer than ``max_lag_ms``."""
        now = wall_ms() if now is None else now
        dt = now - self._last_wall
        if dt >= 50.0:
            rate = (virtual_ms - self._last_virt) / dt
            alpha = min(1.0, dt / 1000.0)
            self.effective_speed += alpha * (rate - self.effective_speed)
            self._last_wall = now
            self._last_virt = virtual_ms
        lag_wall_ms = (self.target(now) - virtual_ms) / self.speed if self.speed > 0 else 0.0
        self.behind = lag_wall_ms > self.max_lag_ms / 2
        if lag_wall_ms > self.max_lag_ms:
            # Forgive the debt: keep going from here at the chosen speed.
            self._wall0 = now
            self._virt0 = float(virtual_ms)
