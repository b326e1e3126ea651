"""Fair shares of one process: sockets and commands per browser session and per client address.

One learner must not be able to take the whole server by opening more tabs or sockets: the
message budget is shared by all sockets of a session (8 sockets give the same commands/s as
one), and another, larger budget is shared by every session behind one client address (a
classroom behind one NAT address still fits).  Expensive commands cost more of the budget:
a ``step`` of N events costs N/50 tokens, and a restart (``reset``, ``preset``, ``workload``:
a new simulation is built) has its own, slower bucket per session.

The tables are per process (several daphne processes each keep their own) and bounded: an
entry with no socket whose buckets are full again is indistinguishable from a new one and is
dropped.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings

REBUILDS = frozenset({"reset", "preset", "workload"})
STEP_EVENTS_PER_TOKEN = 50


class TokenBucket:
    """``rate`` tokens per second on average, bursts up to ``burst``."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens = burst
        self.stamp = time.monotonic()

    def _refill(self) -> None:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def take(self, cost: float = 1.0) -> bool:
        self._refill()
        if self.tokens >= cost:
            self.tokens -= cost
            return True
        return False

    def full(self) -> bool:
        self._refill()
        return self.tokens >= self.burst


class QuotaError(Exception):
    """A socket refused by a fair-share cap; the message names the cap and what to do."""


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


@dataclass
class _Share:
    sockets: int = 0
    commands: TokenBucket | None = None
    rebuilds: TokenBucket | None = None

    def idle(self) -> bool:
        return self.sockets == 0 and all(
            b is None or b.full() for b in (self.commands, self.rebuilds))


class Quotas:
    """Sockets and command budgets per session and per client address (one per process)."""

    def __init__(self) -> None:
        self.sessions: dict[str, _Share] = {}
        self.addresses: dict[str, _Share] = {}

    # ---- limits (settings, read each time so tests may change them) ----------------------

    @property
    def session_rate(self) -> float:
        return _setting("LAB_WS_RATE", 20)

    @property
    def address_rate(self) -> float:
        return _setting("LAB_IP_RATE", 200)

    @property
    def rebuild_rate(self) -> float:
        return _setting("LAB_REBUILD_RATE", 0.5)

    @property
    def max_session_sockets(self) -> int:
        return int(_setting("LAB_MAX_SOCKETS_PER_SESSION", 16))

    @property
    def max_address_sockets(self) -> int:
        return int(_setting("LAB_MAX_SOCKETS_PER_IP", 256))

    def _share(self, table: dict[str, _Share], key: str, rate: float,
               rebuild_rate: float | None = None) -> _Share:
        share = table.get(key)
        if share is None:
            if len(table) > 256:
                self._prune(table)
            share = table[key] = _Share(commands=TokenBucket(rate, 2 * rate))
            if rebuild_rate is not None:
                share.rebuilds = TokenBucket(rebuild_rate, max(3.0, 2 * rebuild_rate))
        return share

    @staticmethod
    def _prune(table: dict[str, _Share]) -> None:
        for key in [k for k, s in table.items() if s.idle()]:
            del table[key]

    # ---- sockets --------------------------------------------------------------------------

    def open_socket(self, session_key: str, address: str) -> None:
        """Count a new socket, or raise QuotaError naming the cap it would pass."""
        mine = self._share(self.sessions, session_key, self.session_rate, self.rebuild_rate)
        theirs = self._share(self.addresses, address, self.address_rate)
        if mine.sockets >= self.max_session_sockets:
            raise QuotaError(
                f"This browser already has {mine.sockets} live lab connections open (tabs or "
                f"embedded labs), the most one browser may have; close a few tabs with labs "
                f"and this one reconnects by itself.")
        if theirs.sockets >= self.max_address_sockets:
            raise QuotaError(
                f"{theirs.sockets} live lab connections are already open from your network "
                f"address, the most one address may have on this server; close some lab tabs "
                f"(or ask the instructor to raise LAB_MAX_SOCKETS_PER_IP).")
        mine.sockets += 1
        theirs.sockets += 1

    def close_socket(self, session_key: str, address: str) -> None:
        for table, key in ((self.sessions, session_key), (self.addresses, address)):
            share = table.get(key)
            if share is not None:
                share.sockets = max(0, share.sockets - 1)
                if share.idle():
                    del table[key]

    # ---- commands -------------------------------------------------------------------------

    def take(self, session_key: str, address: str, kind: str | None = None,
             args: dict | None = None) -> str | None:
        """Charge one message to its session's and address's budgets; None when allowed,
        else the sentence to send back with ``rate_limited``."""
        cost = 1.0
        if kind == "step":
            count = (args or {}).get("count", 1)
            cost = max(1.0, float(count) / STEP_EVENTS_PER_TOKEN)
        mine = self._share(self.sessions, session_key, self.session_rate, self.rebuild_rate)
        theirs = self._share(self.addresses, address, self.address_rate)
        if not mine.commands.take(cost):
            return (f"too many messages from this browser: at most {self.session_rate:g} per "
                    f"second over all its lab tabs (a step of N events counts N/"
                    f"{STEP_EVENTS_PER_TOKEN}); this one was ignored")
        if not theirs.commands.take(cost):
            return (f"too many messages from your network address: at most "
                    f"{self.address_rate:g} per second; this one was ignored")
        if kind in REBUILDS and mine.rebuilds is not None and not mine.rebuilds.take():
            every = 1.0 / self.rebuild_rate if self.rebuild_rate > 0 else float("inf")
            return (f"a {kind} restarts the lab, which this server allows about once every "
                    f"{every:g} s per browser (3 in a row); this one was ignored — wait a "
                    f"moment")
        return None

    def reset(self) -> None:
        """Forget every share (tests)."""
        self.sessions.clear()
        self.addresses.clear()


quotas = Quotas()
