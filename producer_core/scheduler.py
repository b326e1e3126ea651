"""The one clock and the one heap that move simulated time.

Every part of the engine and the mock cluster reads ``clock.now_ms`` and schedules work
with :meth:`Scheduler.call_at` / :meth:`Scheduler.call_later`.  Time is an integer number
of milliseconds; nothing here reads the wall clock.  Entries are ordered by
``(due_ms, priority, seq)``: ``seq`` is a counter, so two actions due at the same time with
the same priority always run in the order they were scheduled — which is what makes a seed
replay a run exactly.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any

# Lower runs first among actions due at the same millisecond.
PRIORITY_NETWORK = 0  # responses and broker-side work land before the producer looks again
PRIORITY_DEFAULT = 5
PRIORITY_SENDER = 8  # the sender's poll runs after everything else due at that instant


class VirtualClock:
    """Integer-millisecond simulated time. Only the scheduler moves it forward."""

    __slots__ = ("_now_ms",)

    def __init__(self, start_ms: int = 0) -> None:
        self._now_ms = int(start_ms)

    @property
    def now_ms(self) -> int:
        return self._now_ms

    def _advance_to(self, t_ms: int) -> None:
        if t_ms < self._now_ms:
            raise ValueError(f"time cannot go backwards: {t_ms} < {self._now_ms}")
        self._now_ms = t_ms


class Timer:
    """One scheduled action, and the handle ``call_at`` returns: ``cancel()`` makes it a
    no-op.  The heap orders ``(due_ms, priority, seq, timer)`` tuples; ``seq`` is unique, so
    the timer itself is never compared."""

    __slots__ = ("_scheduler", "action", "cancelled", "due_ms", "label", "priority", "seq")

    def __init__(self, due_ms: int, priority: int, seq: int, action: Callable[[], Any],
                 label: str = "", scheduler: Scheduler | None = None) -> None:
        self.due_ms = due_ms
        self.priority = priority
        self.seq = seq
        self.action = action
        self.cancelled = False
        self.label = label
        self._scheduler = scheduler

    def cancel(self) -> None:
        if not self.cancelled:
            self.cancelled = True
            # The entry stays in the heap until it is due or compacted away: let go of the
            # action now, or every cancelled timeout would keep what its closure holds
            # (a batch, a waiter and its blocked send) — and the cycles through it alive
            # until the cycle collector runs.
            self.action = None
            if self._scheduler is not None:
                self._scheduler._note_cancel()

    def __repr__(self) -> str:
        state = " cancelled" if self.cancelled else ""
        return f"<Timer {self.label or self.action!r} at {self.due_ms} ms{state}>"


_Entry = Timer  # the heap's entries are the timers themselves (one object per call_at)

# Compact the heap when this many cancelled entries (and more than half of it) pile up:
# request timeouts (30 s away) are cancelled on every response, so without compaction a
# busy lab's heap would hold tens of thousands of dead entries.
COMPACT_MIN = 256


class Scheduler:
    """A heap of ``(due_ms, priority, seq, action)``; ``step()`` runs the next one."""

    def __init__(self, clock: VirtualClock | None = None) -> None:
        self.clock = clock or VirtualClock()
        # Heap items are plain tuples (due_ms, priority, seq, entry): tuple comparison runs
        # in C, which matters when a run schedules millions of entries.
        self._heap: list[tuple[int, int, int, Timer]] = []
        self._seq = 0
        self._cancelled = 0  # cancelled entries still in the heap (approximate)
        self.steps = 0
        # >0 while an action runs: code called from a callback must not drive time itself.
        self.depth = 0

    @property
    def now_ms(self) -> int:
        return self.clock.now_ms

    def call_at(self, due_ms: int, action: Callable[[], Any], *,
                priority: int = PRIORITY_DEFAULT, label: str = "") -> Timer:
        now = self.clock._now_ms
        due_ms = int(due_ms)
        if due_ms < now:  # noqa: PLR1730 - max() is a slower call on the hottest path
            due_ms = now
        seq = self._seq = self._seq + 1
        timer = Timer(due_ms, priority, seq, action, label, self)
        heappush(self._heap, (due_ms, priority, seq, timer))
        return timer

    def _note_cancel(self) -> None:
        # Cancelled entries stay in the heap until popped; when they outnumber the live
        # ones, rebuild the heap without them (order is unchanged: keys are unique).
        self._cancelled += 1
        if self._cancelled > COMPACT_MIN and self._cancelled * 2 > len(self._heap):
            # in place: step()/run_until() may hold a reference to the list
            self._heap[:] = [item for item in self._heap if not item[3].cancelled]
            heapq.heapify(self._heap)
            self._cancelled = 0

    def call_later(self, delay_ms: int, action: Callable[[], Any], *,
                   priority: int = PRIORITY_DEFAULT, label: str = "") -> Timer:
        return self.call_at(self.clock.now_ms + max(0, int(delay_ms)), action,
                            priority=priority, label=label)

    def peek_ms(self) -> int | None:
        """Due time of the next live entry, or None when nothing is scheduled."""
        heap = self._heap
        while heap and heap[0][3].cancelled:
            heappop(heap)
            self._cancelled -= 1
        return heap[0][0] if heap else None

    def step(self) -> bool:
        """Run the next live entry (moving the clock to its due time). False if idle."""
        heap = self._heap
        while heap:
            entry = heappop(heap)[3]
            if entry.cancelled:
                self._cancelled -= 1
                continue
            self.clock._advance_to(entry.due_ms)
            self.steps += 1
            self.depth += 1
            try:
                entry.action()
            finally:
                self.depth -= 1
            return True
        return False

    def run_until(self, t_ms: int, stop: Callable[[], bool] | None = None) -> None:
        """Run every entry due at or before ``t_ms`` then leave the clock at ``t_ms``.

        With ``stop``, return as soon as it is true (checked after each entry); the clock
        then stays at the time of the last entry run.
        """
        t_ms = int(t_ms)
        if stop is None:
            self._run_due(t_ms)
        else:
            while True:
                if stop():
                    return
                nxt = self.peek_ms()
                if nxt is None or nxt > t_ms:
                    break
                self.step()
        if t_ms > self.clock.now_ms:
            self.clock._advance_to(t_ms)

    def _run_due(self, t_ms: int) -> None:
        """``step()`` in a loop for every entry due at or before ``t_ms`` (same order, same
        effects; fewer calls per entry — batch runs spend most of their time here)."""
        heap = self._heap
        clock = self.clock
        while heap:
            item = heap[0]
            entry = item[3]
            if entry.cancelled:
                heappop(heap)
                self._cancelled -= 1
                continue
            if item[0] > t_ms:
                break
            heappop(heap)
            clock._advance_to(item[0])
            self.steps += 1
            self.depth += 1
            try:
                entry.action()
            finally:
                self.depth -= 1

    def __len__(self) -> int:
        return sum(1 for e in self._heap if not e[3].cancelled)

    def discard_all(self) -> None:
        """Drop every scheduled entry (``Simulation.dispose``): nothing runs after this."""
        for item in self._heap:
            item[3].action = None
        self._heap.clear()
        self._cancelled = 0
