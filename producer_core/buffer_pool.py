"""The producer's memory: ``buffer.memory`` bytes shared by every batch (Kafka's ``BufferPool``).

We account for bytes rather than hand out real buffers, but the rules are Kafka's:

* Buffers of exactly ``batch.size`` bytes (the *poolable* size) go back to a free list
  when released and are reused; any other size is returned to the non-pooled budget.
* An allocation that cannot be met waits.  Waiters are served first-in first-out: the
  oldest waiter collects memory as it is released (possibly in several pieces), and only
  when it is satisfied does the next one get anything.
* A waiter that is not satisfied within its deadline (``max.block.ms``) fails with
  ``BufferExhaustedError`` naming the requested, total and available bytes, and the
  memory it had collected goes back to the pool.
* A request larger than the whole pool can never be met: it fails at once.

Blocking is a simulated wait: :meth:`BufferPool.allocate_or_wait` either succeeds at once
or registers a waiter whose ``on_done`` runs later in simulated time.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from producer_core.errors import BufferExhaustedError


class _Waiter:
    __slots__ = (
        "accumulated",
        "deadline",
        "done",
        "got_pooled",
        "mark_ms",
        "on_done",
        "since_ms",
        "size",
        "timer",
    )

    def __init__(self, size: int, since_ms: int,
                 on_done: Callable[[bool, BaseException | None], None]) -> None:
        self.size = size
        self.accumulated = 0
        self.got_pooled = False
        self.since_ms = since_ms
        self.mark_ms = since_ms  # the start of the wait not yet recorded (see _record_wait)
        self.on_done = on_done
        self.timer = None
        self.deadline = 0
        self.done = False


class BufferPool:
    """``buffer.memory`` bytes; a free list of ``batch.size`` buffers; FIFO waiters."""

    def __init__(self, total_bytes: int, poolable_size: int, scheduler: Any = None,
                 events: Any = None) -> None:
        if total_bytes < 0:
            # Kafka accepts buffer.memory 0: every send then fails as too large.
            raise ValueError(f"buffer pool total must be >= 0, got {total_bytes}")
        if poolable_size <= 0:
            raise ValueError(f"poolable size must be positive, got {poolable_size}")
        self.total_memory = total_bytes
        self.poolable_size = poolable_size
        self.free_count = 0  # buffers of poolable_size on the free list
        self.non_pooled_available = total_bytes
        self._waiters: deque[_Waiter] = deque()
        self._scheduler = scheduler
        self._events = events
        # metrics (Kafka: bufferpool-wait-time-ns-total, buffer-exhausted-total).  As in
        # Kafka's BufferPool.allocate, a wait is recorded when the waiting thread wakes up
        # (memory handed to it, the deadline, close), in pieces: ``wait_time_ms_total``
        # lags an ongoing wait, which :meth:`blocked_ms_total` adds.
        self.wait_time_ms_total = 0
        #: Called with (waited ms, now) for every recorded piece (the producer's metrics).
        self.on_wait_time: Callable[[int, int], None] | None = None
        self.exhausted_total = 0
        self.allocations = 0
        self.non_pooled_in_use = 0  # bytes held by batches of a size other than batch.size

    # -- queries ------------------------------------------------------------------------

    def available_memory(self) -> int:
        """Free bytes: the non-pooled budget plus the free list."""
        return self.non_pooled_available + self.free_count * self.poolable_size

    def unallocated_memory(self) -> int:
        return self.non_pooled_available

    def queued(self) -> int:
        """Threads waiting for memory (Kafka's ``waiting-threads``)."""
        return len(self._waiters)

    def blocked_ms_total(self, now_ms: int) -> int:
        """Time every thread spent blocked here so far, ongoing waits included (what the
        lab's pool panel shows; Kafka's ``bufferpool-wait-time-ns-total`` counts a wait
        only once the thread wakes up)."""
        return self.wait_time_ms_total + sum(now_ms - w.mark_ms for w in self._waiters)

    def longest_wait_ms(self, now_ms: int) -> int:
        """How long the oldest waiting thread has been blocked (0: nobody waits)."""
        return now_ms - self._waiters[0].since_ms if self._waiters else 0

    @property
    def free_list_bytes(self) -> int:
        return self.free_count * self.poolable_size

    def used_memory(self) -> int:
        return self.total_memory - self.available_memory()

    # -- allocate and free --------------------------------------------------------------

    def try_allocate(self, size: int) -> bool:
        """Take ``size`` bytes now if that is possible without waiting.

        As in Kafka, a poolable-size request is served from the free list first; other
        requests release free-list buffers into the non-pooled budget as needed.  While
        others wait, newcomers find the memory already collected by the oldest waiter.
        """
        if size > self.total_memory:
            raise ValueError(
                f"attempt to allocate {size} bytes, but there is a hard limit of "
                f"{self.total_memory} on memory allocations (buffer.memory)")
        if size <= 0:
            raise ValueError(f"allocation size must be positive, got {size}")
        if self._waiters:
            return False
        if size == self.poolable_size and self.free_count:
            self.free_count -= 1
            self._allocated(size)
            return True
        if self.non_pooled_available + self.free_count * self.poolable_size >= size:
            self._free_up(size)
            self.non_pooled_available -= size
            self._allocated(size)
            return True
        return False

    def allocate_or_wait(self, size: int, max_time_to_block_ms: int,
                         on_done: Callable[[bool, BaseException | None], None]) -> bool:
        """Allocate now (returns True), or wait up to ``max_time_to_block_ms``.

        When waiting (returns False), ``on_done(True, None)`` runs once the memory is
        granted, or ``on_done(False, BufferExhaustedError)`` at the deadline.
        """
        if self.try_allocate(size):
            return True
        now = self._scheduler.now_ms
        w = _Waiter(size, now, on_done)
        self._waiters.append(w)
        if self._events is not None:
            self._events.publish("pool.wait", requested=size,
                                 available=self.available_memory(), waiters=len(self._waiters))
        w.deadline = now + max(0, max_time_to_block_ms)
        w.timer = self._scheduler.call_at(w.deadline, lambda: self._timeout(w),
                                          label="pool.timeout")
        # Memory may be free but held back for an earlier waiter; collect what we can.
        self._serve_waiters()
        return False

    def deallocate(self, size: int) -> None:
        """Return a buffer: poolable sizes to the free list, others to the budget.

        The oldest waiter is then served.
        """
        if size <= 0:
            return
        if size == self.poolable_size:
            self.free_count += 1
        else:
            self.non_pooled_available += size
            self.non_pooled_in_use -= size
        available = self.non_pooled_available + self.free_count * self.poolable_size
        if available > self.total_memory:
            raise RuntimeError(f"buffer pool over-freed: {available} > {self.total_memory}")
        events = self._events
        # (EventBus.wants inlined: per batch, and usually nobody listens)
        if events is not None and (events._wanted_all or events._wanted.get("pool.free")):
            events.publish("pool.free", size=size, available=available)
        if self._waiters:
            self._serve_waiters()

    # -- internals ----------------------------------------------------------------------

    def _allocated(self, size: int) -> None:
        self.allocations += 1
        if size != self.poolable_size:
            self.non_pooled_in_use += size
        events = self._events
        if events is not None and (events._wanted_all or events._wanted.get("pool.allocate")):
            events.publish("pool.allocate", size=size, available=self.available_memory())

    def _free_up(self, size: int) -> None:
        # Release free-list buffers into the non-pooled budget until `size` fits.
        while self.free_count and self.non_pooled_available < size:
            self.free_count -= 1
            self.non_pooled_available += self.poolable_size

    def _serve_waiters(self) -> None:
        while self._waiters:
            w = self._waiters[0]
            got = 0
            if (w.accumulated == 0 and w.size == self.poolable_size and self.free_count):
                self.free_count -= 1
                w.accumulated = w.size
                w.got_pooled = True
            else:
                need = w.size - w.accumulated
                self._free_up(need)
                got = min(need, self.non_pooled_available)
                self.non_pooled_available -= got
                w.accumulated += got
            if w.accumulated < w.size:
                if got:
                    # Kafka's waiter wakes (moreMemory signalled), takes what there is,
                    # records the time it waited and waits again.
                    self._record_wait(w, self._scheduler.now_ms)
                return
            self._waiters.popleft()
            self._finish(w, True, None)

    def _timeout(self, w: _Waiter) -> None:
        if w.done:
            return
        try:
            self._waiters.remove(w)
        except ValueError:
            return
        # Give back what this waiter collected, then let the next one try.
        if w.accumulated:
            if w.got_pooled:
                self.free_count += 1
            else:
                self.non_pooled_available += w.accumulated
            w.accumulated = 0
        self.exhausted_total += 1
        err = BufferExhaustedError(w.size, self.total_memory, self.available_memory(),
                                   w.deadline - w.since_ms, self.poolable_size)
        if self._events is not None:
            self._events.publish("pool.exhausted", requested=w.size,
                                 available=self.available_memory(), total=self.total_memory)
        self._finish(w, False, err)
        if self._waiters:
            self._serve_waiters()

    def _finish(self, w: _Waiter, ok: bool, err: BaseException | None) -> None:
        w.done = True
        if w.timer is not None:
            w.timer.cancel()
        self._record_wait(w, self._scheduler.now_ms)
        if ok:
            self._allocated(w.size)
        # waiter -> timer -> timeout closure -> waiter: cut it, so a finished wait (and the
        # blocked send its callback holds) is freed at once, not by the cycle collector
        on_done, w.on_done, w.timer = w.on_done, None, None
        on_done(ok, err)

    def _record_wait(self, w: _Waiter, now: int) -> None:
        waited = now - w.mark_ms
        w.mark_ms = now
        self.wait_time_ms_total += waited
        if self.on_wait_time is not None:
            self.on_wait_time(waited, now)

    def close(self) -> None:
        """Kafka's ``BufferPool.close``: every waiting thread fails ("Producer closed while
        allocating memory"), giving back what it had collected."""
        from producer_core.errors import KafkaError

        while self._waiters:
            w = self._waiters.popleft()
            if w.accumulated:
                if w.got_pooled:
                    self.free_count += 1
                else:
                    self.non_pooled_available += w.accumulated
                w.accumulated = 0
            self._finish(w, False, KafkaError("Producer closed while allocating memory"))

    def snapshot(self) -> dict:
        """SEAMS §1 ``pool`` (without the app-level fields the simulation adds)."""
        avail = self.available_memory()
        return {
            "total": self.total_memory,
            "available": avail,
            "free_list_count": self.free_count,
            "free_list_bytes": self.free_count * self.poolable_size,
            "non_pooled_bytes": self.non_pooled_in_use,
            "used": self.total_memory - avail,
            "waiters": len(self._waiters),
            # ongoing waits included: 8 threads blocked for 20 s read 160 s here at once
            "blocked_ms_total": (self.wait_time_ms_total if self._scheduler is None
                                 else self.blocked_ms_total(self._scheduler.now_ms)),
            "longest_wait_ms": (0 if self._scheduler is None
                                else self.longest_wait_ms(self._scheduler.now_ms)),
            "exhausted_total": self.exhausted_total,
        }
