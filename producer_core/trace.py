"""A run told as text: one fixed-column line per event (TigerBeetle's VOPR style).

Opt in with ``sim.enable_trace(limit)``; read with ``sim.trace_lines()``.  The trace keeps
the newest ``limit`` lines (a ring), so a long run costs bounded memory; the same seed
and config always produce the same lines, which is what a failing test or a learner's
"why did that happen?" reads::

        5 batch.created      batch_id=1 topic=orders partition=3 capacity=16384
       10 batch.closed       batch_id=1 topic=orders partition=3 reason=linger ...
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable

from producer_core.events import Event, EventBus


class Trace:
    """A ring of one-line events subscribed to an :class:`EventBus`."""

    def __init__(self, bus: EventBus, limit: int = 10_000,
                 kinds: Iterable[str] | None = None) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"trace limit must be a positive int, got {limit!r}")
        self.limit = limit
        self._lines: deque[str] = deque(maxlen=limit)
        self.count = 0
        self._unsubscribe: Callable[[], None] | None = bus.subscribe(
            self._on_event, None if kinds is None else list(kinds))

    def _on_event(self, event: Event) -> None:
        self.count += 1
        self._lines.append(event.line())

    def lines(self) -> list[str]:
        """The newest lines, oldest first."""
        return list(self._lines)

    def text(self) -> str:
        return "\n".join(self._lines)

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
