"""``Simulation.snapshot()``: the JSON-safe state a lab frame carries (docs/SEAMS.md §1).

Bounded whatever the run's length: at most 8 batches per partition queue (then
``more``), the 200 most recent batches in the timeline, the newest arrival buckets and a
ring of at most 100 notable events.  Cheap enough for 30 calls a second: nothing here
walks every record — arrivals are kept run-length encoded on each batch, and the
timeline's buckets are an aggregate (``ArrivalRing``) that reads only the runs newer
than its last call.

Extensions to the SEAMS schema (additive): ``close_reason`` may also be ``piggyback``
(drained because another partition made the same broker ready — Kafka drains every
partition of a ready broker) or ``retry-backoff``; ``inflight[].state`` (connection state)
and ``requests[].kind``; ``producer`` (producer id/epoch, closed flag, ratio estimates).
"""

from __future__ import annotations

import itertools
from collections import deque
from typing import Any

from producer_core.events import Event

QUEUE_LIMIT = 8
TIMELINE_BATCHES = 200
ARRIVAL_BUCKETS = 400
EVENT_RING = 100

# Events worth a line in the lab's timeline (none of them happens once per record).
NOTABLE_KINDS = (
    "broker.stopped", "broker.started", "broker.slowed", "network.cut", "network.restored",
    "leader.elected", "fault.injected", "batch.retry", "batch.expired", "batch.failed",
    "batch.split", "pool.exhausted", "send.failed", "request.failed", "metadata.update",
    "producer.init", "producer.reconfigured", "producer.epoch_bumped", "config.unused",
    "topic.created",
)


# One sentence per notable kind, filled from the event's fields.
_BATCH = "batch {batch_id} ({topic}-{partition})"
_DESCRIPTIONS = {
    "broker.stopped": "broker {broker} stopped",
    "broker.started": "broker {broker} started",
    "broker.slowed": "broker {broker} slowed by {extra_ms} ms",
    "network.cut": "network to broker {broker} cut",
    "network.restored": "network to broker {broker} restored",
    "leader.elected": "{topic}-{partition}: leader is now {leader} (epoch {epoch})",
    "batch.retry": _BATCH + " retry {attempt} after {error}, backoff {backoff_ms} ms",
    "batch.expired": _BATCH + " expired: {error}",
    "batch.failed": _BATCH + " failed: {error}",
    "pool.exhausted": "buffer pool exhausted: {requested} bytes requested, "
                      "{available} of {total} available",
    "send.failed": "send to {topic} failed: {error}",
    "request.failed": "request {request_id} to broker {node} failed: {error}",
    "metadata.update": "metadata updated (version {version})",
    "producer.init": "producer id {producer_id} epoch {epoch}",
    "producer.epoch_bumped": "producer id {producer_id}: epoch bumped locally to {epoch} "
                             "({reason})",
    "config.unused": "{message}",
    "topic.created": "topic {topic} auto-created with {partitions} partition(s)",
}


def describe(event: Event) -> str:
    """A short human sentence for a notable event."""
    d = event.data
    k = event.kind
    if k == "batch.split":
        return f"batch {d['batch_id']} split into {len(d['into'])} batches"
    template = _DESCRIPTIONS.get(k)
    if template is not None:
        try:
            return template.format(**d)
        except KeyError:
            pass  # a publisher without the documented fields: fall back to key=value
    fields = " ".join(f"{key}={value}" for key, value in d.items())
    return f"{k} {fields}".strip()


class EventRing:
    """The newest notable events, as SEAMS §1 ``timeline.events`` entries."""

    def __init__(self, bus: Any, limit: int = EVENT_RING) -> None:
        self._ring: deque[dict] = deque(maxlen=limit)
        self._unsubscribe = bus.subscribe(self._on_event, NOTABLE_KINDS)

    def _on_event(self, event: Event) -> None:
        self._ring.append({"t": event.t_ms, "kind": event.kind, "text": describe(event)})

    def items(self) -> list[dict]:
        return list(self._ring)

    def close(self) -> None:
        self._unsubscribe()


def batch_entry(b: Any, now_ms: int) -> dict:
    """One batch for the timeline (SEAMS §1 ``timeline.batches``)."""
    res = b.result
    return {
        "id": b.id, "topic": b.topic, "partition": b.partition,
        "records": b.records_count,
        "bytes": 61 + b.uncompressed_bytes,
        "compressed_bytes": (61 + b.compressed_bytes) if b.compressed_bytes >= 0 else None,
        "created_ms": b.created_ms,
        "closed_ms": b.closed_ms if b.closed_ms >= 0 else None,
        "close_reason": b.close_reason,
        "sent_ms": b.sent_ms if b.sent_ms >= 0 else None,
        "acked_ms": b.acked_ms if b.acked_ms >= 0 else None,
        "attempts": b.send_count,
        "outcome": b.outcome,
        "error": b.error_name,
        "base_offset": res.base_offset if (res.completed and res.base_offset >= 0) else None,
        "split_from": b.split_from,
    }


def queue_entry(b: Any, now_ms: int) -> dict:
    return {"id": b.id, "records": b.records_count, "bytes": b.size_in_bytes,
            "capacity": b.capacity, "state": b.state.value, "age_ms": now_ms - b.created_ms,
            "attempts": b.attempts, "close_reason": b.close_reason}


SMALL_QUEUE = 16  # queues up to this long are summed directly


class QueueTotals:
    """Queued records and bytes per partition, kept incrementally across snapshots.

    A partition's queue is FIFO: batches leave at the head (drained) and join at the
    tail (new).  Between two calls only those ends are read — plus the first and last two
    batches seen, which may still change (records appended, a retry's encoded size) — so a backlog of thousands of batches (a slow
    broker at a high rate) costs what the batches that moved cost, not the backlog.
    Anything else (a retry or split put back at the head, an expiry from the middle)
    is detected and the queue is summed again.  ``visited`` counts batches read.
    """

    def __init__(self) -> None:
        self._cache: dict[Any, tuple] = {}
        self.visited = 0

    def totals(self, tp: Any, dq: Any) -> tuple[int, int]:
        n = len(dq)
        if n <= SMALL_QUEUE:
            self._cache.pop(tp, None)
            self.visited += n
            return (sum(b.records_count for b in dq), sum(b.size_in_bytes for b in dq))
        c = self._cache.get(tp)
        if c is not None and c[0] is dq:
            _dq, order, index, base, recs, sizes, tot_r, tot_b = c
            head = dq[0]
            seq = index.get(id(head))
            pos = -1 if seq is None else seq - base
            kept = len(order) - pos if 0 <= pos < len(order) and order[pos] is head else -1
            if 2 <= kept <= n and dq[kept - 1] is order[-1]:
                if pos:
                    for b in order[:pos]:  # drained since the last call
                        del index[id(b)]
                    tot_r -= sum(recs[:pos])
                    tot_b -= sum(sizes[:pos])
                    del order[:pos], recs[:pos], sizes[:pos]
                    base += pos
                # the newest may still take records; a retried batch put back at the
                # head has its encoded size now
                for i in {0, 1, kept - 2, kept - 1}:
                    b = order[i]
                    r, z = b.records_count, b.size_in_bytes
                    tot_r += r - recs[i]
                    tot_b += z - sizes[i]
                    recs[i], sizes[i] = r, z
                added = 0
                for b in itertools.islice(dq, kept, None):
                    index[id(b)] = base + len(order)
                    order.append(b)
                    r, z = b.records_count, b.size_in_bytes
                    recs.append(r)
                    sizes.append(z)
                    tot_r += r
                    tot_b += z
                    added += 1
                self.visited += pos + 4 + added
                self._cache[tp] = (dq, order, index, base, recs, sizes, tot_r, tot_b)
                return tot_r, tot_b
        order = list(dq)
        recs = [b.records_count for b in order]
        sizes = [b.size_in_bytes for b in order]
        self.visited += n
        self._cache[tp] = (dq, order, {id(b): i for i, b in enumerate(order)}, 0, recs, sizes,
                           sum(recs), sum(sizes))
        return sum(recs), sum(sizes)


def partitions_section(producer: Any, cluster_topics: dict[str, int], now_ms: int,
                       totals: QueueTotals | None = None) -> list:
    acc = producer.accumulator
    md = producer.metadata
    from producer_core.protocol import TopicPartition

    names = sorted(set(cluster_topics) | {tp.topic for tp, _ in acc.partitions()})
    out = []
    for topic in names:
        n = cluster_topics.get(topic)
        if n is None:
            n = md.partition_count(topic) or 0
        known = {tp.partition: dq for tp, dq in acc.partitions() if tp.topic == topic} \
            if n == 0 else None
        parts = range(n) if n else sorted(known or {})
        for p in parts:
            tp = TopicPartition(topic, p)
            dq = acc._deque_or_none(tp) or ()
            if totals is not None:
                queued_records, queued_bytes = totals.totals(tp, dq)
            else:
                queued_records = sum(b.records_count for b in dq)
                queued_bytes = sum(b.size_in_bytes for b in dq)
            out.append({
                "topic": topic, "partition": p, "leader": md.leader_for(tp),
                "muted": tp in acc.muted,
                "queued_bytes": queued_bytes,
                "queued_records": queued_records,
                "queue": [queue_entry(b, now_ms) for b in itertools.islice(dq, QUEUE_LIMIT)],
                "more": max(0, len(dq) - QUEUE_LIMIT),
            })
    return out


class ArrivalRing:
    """The timeline's arrival buckets, kept by the engine as an aggregate.

    A bucket is ``{"t", "topic", "partition", "n"}``: ``n`` records appended to that
    partition in millisecond ``t``.  Arrivals are stamped with the clock at append, so a
    bucket is final once the clock has moved past its millisecond: final buckets are
    collected once (only the arrival runs newer than the last call are read from the
    batches) and kept in a ring, newest last, bounded by ``limit`` and ``window_ms``.
    ``items()`` returns the ring plus the buckets of the current millisecond.  The work
    per call grows with the buckets added since the last call — at most one per
    partition per millisecond — never with the number of records.
    """

    def __init__(self, window_ms: int = 2000, limit: int = ARRIVAL_BUCKETS) -> None:
        self.window_ms = window_ms
        self._final: deque[dict] = deque(maxlen=limit)
        self._upto = -1  # every bucket before this millisecond is in _final
        self.work = 0  # arrival runs read so far (a cost counter for tests and benches)

    def _collect(self, batches: Any, lo: int, hi: int) -> dict[tuple[int, str, int], int]:
        """Arrival counts per (t, topic, partition) for ``lo <= t < hi``."""
        out: dict[tuple[int, str, int], int] = {}
        get = out.get
        work = 0
        for b in batches:
            if b.last_append_ms < lo:
                continue
            ts = b.arr_t
            i = len(ts) - 1
            if i < 0:
                continue
            starts = b.arr_i
            end = b.records_count
            topic, partition = b.topic, b.partition
            while i >= 0:
                t = ts[i]
                if t < lo:
                    break
                work += 1
                if t < hi:
                    key = (t, topic, partition)
                    out[key] = get(key, 0) + end - starts[i]
                end = starts[i]
                i -= 1
        self.work += work
        return out

    def items(self, batches: Any, now_ms: int) -> list[dict]:
        """The buckets of the last ``window_ms``: final ones, then the current ms."""
        final = self._final
        if now_ms > self._upto:
            lo = self._upto if self._upto >= 0 else now_ms - self.window_ms
            new = self._collect(batches, lo, now_ms)
            for (t, topic, partition), n in sorted(new.items()):
                final.append({"t": t, "topic": topic, "partition": partition, "n": n})
            self._upto = now_ms
        horizon = now_ms - self.window_ms
        while final and final[0]["t"] < horizon:
            final.popleft()
        current = self._collect(batches, now_ms, now_ms + 1)
        out = list(final)
        for (t, topic, partition), n in sorted(current.items()):
            out.append({"t": t, "topic": topic, "partition": partition, "n": n})
        return out[-ARRIVAL_BUCKETS:]
