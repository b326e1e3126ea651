"""How a long-running process of ours sets Python's cyclic garbage collector.

Two settings, for daphne and the worker (``tune``):

* **Freeze what was loaded.**  What a process loads to start (Django, the apps, the
  courseware: ~90,000 tracked objects) lives as long as the process; ``gc.freeze()`` moves
  it out of the collector's generations, so a full collection scans only what came after
  (a room's presenter, 2 processes, 100 followers: slowest commands p99 from 131-182 ms
  to 80-115 ms, ``python -m bench.room_bench``).
* **A young generation of ``GEN0_THRESHOLD`` objects** instead of CPython's 700.  Every
  record a lab appends holds a ``FutureRecordMetadata`` (a tracked object, as in Kafka
  every ``send()`` returns a future) until its batch is answered: tens of milliseconds,
  seconds when the pool is full.  With a young generation of 700, a lab at 100,000
  records/s ran ~170 collections a second; the futures alive at each were promoted, and
  the promotions set off a full collection every second or so, 50–150 ms each with the
  event loop held (every lab's frames and every command's ``ack`` waited).  The count that
  triggers a collection is allocations *minus* deallocations, so records that come and go
  never reach 100,000; only growth (or garbage cycles, which the engine no longer makes,
  docs/SEAMS.md "Releasing a run's memory") does.  Measured on ``mistake-batch-config-after``
  alone at 1× (``python -m bench classroom --only 3`` shows the same in daphne):
  process CPU 75 % → 55 % of a core, collector time 1,190 → 64 ms in 11 s, the longest
  event-loop stall 92 → 27 ms.
"""

from __future__ import annotations

import gc

GEN0_THRESHOLD = 100_000


def tune() -> None:
    """Freeze what the process has loaded and widen the young generation (see above)."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)
