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

  The price: garbage in cycles (a request's, an answered error's traceback) waits until
  100,000 objects more were allocated than freed, which a process at rest never reaches
  (``bench fuzz``: 75 MiB more at rest after it), and what a stopped lab left in cycles
  had mostly been promoted to the old generation, collected only after ~10 million more.
  The lab registry's reaper collects instead (``LabRegistry._reap_forever``): the young
  generations every 5 s they have grown, everything after labs stopped, so what a process
  returns to at rest is what it had before.
"""

from __future__ import annotations

import gc

GEN0_THRESHOLD = 100_000
GROWN = 5_000  # the young generation's growth worth a collection at rest


def tune() -> None:
    """Freeze what the process has loaded and widen the young generation (see above)."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)


def collect_young_if_grown(min_objects: int = GROWN) -> int:
    """Collect the two young generations if ``min_objects`` more objects were allocated
    than freed since the last collection (tens of milliseconds at most: they hold at most
    ~``GEN0_THRESHOLD`` objects plus what survived one collection); returns the objects
    found unreachable (0 when not collected)."""
    if gc.get_count()[0] < min_objects:
        return 0
    return gc.collect(1)


def collect_all() -> int:
    """A full collection (50-150 ms on a busy server: its caller chooses when)."""
    return gc.collect()
