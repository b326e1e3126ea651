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
from dataclasses import dataclass, field
from typing import Any, Callable

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


@dataclass(order=True)
class _Entry:
    due_ms: int
    priority: int
    seq: int
    action: Callable[[], Any] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)
    label: str = field(default="", compare=False)


class Timer:
    """Handle returned by ``call_at``; ``cancel()`` makes the entry a no-op."""

    __slots__ = ("_entry", "_scheduler")

    def __init__(self, entry: _Entry, scheduler: "Scheduler | None" = None) -> None:
        self._entry = entry
        self._scheduler = scheduler

    @property
    def due_ms(self) -> int:
        return self._entry.due_ms

    @property
    def cancelled(self) -> bool:
        return self._entry.cancelled

    def cancel(self) -> None:
        if not self._entry.cancelled:
            self._entry.cancelled = True
            if self._scheduler is not None:
                self._scheduler._note_cancel()


class Scheduler:
    """A heap of ``(due_ms, priority, seq, action)``; ``step()`` runs the next one."""

    def __init__(self, clock: VirtualClock | None = None) -> None:
        self.clock = clock or VirtualClock()
        # Heap items are plain tuples (due_ms, priority, seq, entry): tuple comparison runs
        # in C, which matters when a run schedules millions of entries.
        self._heap: list[tuple[int, int, int, _Entry]] = []
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
        due_ms = max(int(due_ms), self.clock.now_ms)
        self._seq += 1
        entry = _Entry(due_ms, priority, self._seq, action, False, label)
        heapq.heappush(self._heap, (due_ms, priority, self._seq, entry))
        return Timer(entry, self)

    def _note_cancel(self) -> None:
        # Cancelled entries stay in the heap until popped; when they outnumber the live
        # ones, rebuild the heap without them (order is unchanged: keys are unique).
        self._cancelled += 1
        if self._cancelled > 1024 and self._cancelled * 2 > len(self._heap):
            self._heap = [item for item in self._heap if not item[3].cancelled]
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
            heapq.heappop(heap)
            self._cancelled -= 1
        return heap[0][0] if heap else None

    def step(self) -> bool:
        """Run the next live entry (moving the clock to its due time). False if idle."""
        heap = self._heap
        while heap:
            entry = heapq.heappop(heap)[3]
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
        while True:
            if stop is not None and stop():
                return
            nxt = self.peek_ms()
            if nxt is None or nxt > t_ms:
                break
            self.step()
        if t_ms > self.clock.now_ms:
            self.clock._advance_to(t_ms)

    def __len__(self) -> int:
        return sum(1 for e in self._heap if not e[3].cancelled)
