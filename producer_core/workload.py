"""Simulated application threads that call ``send()`` — the application's view of a producer.

A workload (docs/SEAMS.md §2) is N application threads producing to one topic at a rate.
Each thread is a scheduler process with its own microsecond "CPU clock": a ``send()`` costs
the modelled CPU time of ``timemodel.send_cpu_us`` (serializer, partitioner, append and —
with compression on — the codec, which in the Java client runs in the appending thread).
When the buffer pool is exhausted (or metadata is missing) a ``send()`` *blocks*: the thread
stops until the producer lets the call return, up to ``max.block.ms``.  How long each call
blocked is recorded — that is the incident as the application feels it (p50/p99/max block
time, blocked threads, failed sends, ``BufferExhaustedError`` counts).

Rates: ``rate`` is records per second over all threads (``None``: as fast as the threads'
CPU allows).  ``bursty`` sends at ``rate`` during ``on_ms`` windows and nothing during
``off_ms``.  Arrivals are open-loop (requests keep coming while a thread is blocked), but a
thread never tries to catch up more than ``MAX_BACKLOG_MS`` of missed arrivals: older ones
count as ``shed`` (an API would have timed them out).
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from random import Random
from typing import Any

from producer_core import datagen, timemodel
from producer_core.errors import KafkaError
from producer_core.scheduler import PRIORITY_DEFAULT

MAX_BACKLOG_MS = 1000
CHUNK = 256  # keys drawn at a time
_OUTCOME_KINDS = ("batch.completed", "batch.failed", "batch.expired")
PATTERNS = ("steady", "bursty")
KEY_MODES = ("none", "uniform", "zipf", "sequential")


class WorkloadError(ValueError):
    """A workload spec that cannot run; the message names the field, value and rule."""


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def parse_keys(spec: Any, where: str = "keys") -> tuple[str, int]:
    """``none`` | ``uniform:N`` | ``zipf:N`` | ``sequential`` → (mode, N)."""
    if not isinstance(spec, str):
        raise WorkloadError(f"{where}: must be a string such as 'uniform:100', got {spec!r}")
    mode, _, n = spec.partition(":")
    if mode not in KEY_MODES:
        raise WorkloadError(f"{where}: unknown key distribution {spec!r}; use none, "
                            f"uniform:N, zipf:N or sequential")
    if mode in ("uniform", "zipf"):
        if not n.isdigit() or int(n) < 1:
            raise WorkloadError(f"{where}: {mode} needs a key count, e.g. '{mode}:100', "
                                f"got {spec!r}")
        return mode, int(n)
    if n:
        raise WorkloadError(f"{where}: {mode} takes no count, got {spec!r}")
    return mode, 0


@dataclass
class WorkloadSpec:
    """One workload entry of a scenario (field names as in docs/SEAMS.md §2)."""

    topic: str
    threads: int = 1
    rate: float | None = None  # records/s over all threads; None = as fast as possible
    pattern: str = "steady"
    burst: dict = field(default_factory=lambda: {"on_ms": 200, "off_ms": 800})
    data: str = "json-orders"
    value_bytes: int = 100
    keys: str = "none"
    records: int | None = None  # total over all threads; None = until stop_ms / forever
    start_ms: int = 0
    stop_ms: int | None = None
    # True: each thread waits for a send's result before its next send, as code that calls
    # .get() on every future does (common mistake 2); the rate then caps at 1 / round trip.
    sync: bool = False
    # Count acknowledgements and delivery errors per record (a callback on every future).
    # Benchmarks that read the producer's own metrics switch it off to save the callback.
    track_outcomes: bool = True

    @classmethod
    def from_dict(cls, d: Any, where: str = "workload") -> WorkloadSpec:
        """Validate a dict (unknown fields and bad values raise ``WorkloadError``)."""
        if isinstance(d, WorkloadSpec):
            return d
        if not isinstance(d, dict):
            raise WorkloadError(f"{where}: must be an object, got {type(d).__name__}")
        known = {f for f in cls.__dataclass_fields__}
        for k in d:
            if k not in known:
                raise WorkloadError(f"{where}.{k}: unknown field; fields: {', '.join(sorted(known))}")
        if "topic" not in d:
            raise WorkloadError(f"{where}.topic: required")
        spec = cls(**{k: v for k, v in d.items()})
        spec.validate(where)
        return spec

    def validate(self, where: str = "workload") -> None:
        if not isinstance(self.topic, str) or not self.topic:
            raise WorkloadError(f"{where}.topic: must be a topic name, got {self.topic!r}")
        if not _int(self.threads) or not 1 <= self.threads <= 256:
            raise WorkloadError(f"{where}.threads: must be an integer in 1..256, got "
                                f"{self.threads!r}")
        if self.rate is not None and (not _num(self.rate) or self.rate <= 0):
            raise WorkloadError(f"{where}.rate: must be a positive number (records/s) or null "
                                f"for as fast as possible, got {self.rate!r}")
        if self.pattern not in PATTERNS:
            raise WorkloadError(f"{where}.pattern: must be one of {', '.join(PATTERNS)}, got "
                                f"{self.pattern!r}")
        if not isinstance(self.burst, dict):
            raise WorkloadError(f"{where}.burst: must be an object with on_ms and off_ms")
        for k in self.burst:
            if k not in ("on_ms", "off_ms"):
                raise WorkloadError(f"{where}.burst.{k}: unknown field; fields: on_ms, off_ms")
        for k in ("on_ms", "off_ms"):
            v = self.burst.get(k, 0)
            if not _int(v) or v < (1 if k == "on_ms" else 0):
                raise WorkloadError(f"{where}.burst.{k}: must be an integer >= "
                                    f"{1 if k == 'on_ms' else 0}, got {v!r}")
        if self.data not in datagen.KINDS:
            raise WorkloadError(f"{where}.data: must be one of {', '.join(datagen.KINDS)}, got "
                                f"{self.data!r}")
        if not _int(self.value_bytes) or not 0 <= self.value_bytes <= 16 * 1024 * 1024:
            raise WorkloadError(f"{where}.value_bytes: must be an integer in 0..16777216, got "
                                f"{self.value_bytes!r}")
        parse_keys(self.keys, f"{where}.keys")
        if self.records is not None and (not _int(self.records) or self.records < 0):
            raise WorkloadError(f"{where}.records: must be an integer >= 0 or null, got "
                                f"{self.records!r}")
        if not _int(self.start_ms) or self.start_ms < 0:
            raise WorkloadError(f"{where}.start_ms: must be an integer >= 0, got "
                                f"{self.start_ms!r}")
        if not isinstance(self.track_outcomes, bool):
            raise WorkloadError(f"{where}.track_outcomes: must be true or false, got "
                                f"{self.track_outcomes!r}")
        if not isinstance(self.sync, bool):
            raise WorkloadError(f"{where}.sync: must be true or false, got {self.sync!r}")
        if self.stop_ms is not None and (not _int(self.stop_ms) or self.stop_ms < self.start_ms):
            raise WorkloadError(f"{where}.stop_ms: must be an integer >= start_ms "
                                f"({self.start_ms}) or null, got {self.stop_ms!r}")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["burst"] = dict(self.burst)
        return d


class _KeyGen:
    __slots__ = ("_stream", "cdf", "keys", "mode", "rng", "seq")

    def __init__(self, spec: str, rng: Random) -> None:
        self.mode, n = parse_keys(spec)
        self.rng = rng
        self.seq = 0
        self._stream = None
        self.keys = [b"key-%d" % i for i in range(n)]
        self.cdf: list[float] = []
        if self.mode == "zipf":
            # Zipf with s = 1: key k is chosen with weight 1/k (a few hot keys).
            acc = 0.0
            for k in range(1, n + 1):
                acc += 1.0 / k
                self.cdf.append(acc)

    def next_fn(self):
        """The per-record key function: C-level, drawing keys in chunks of ``CHUNK`` —
        the very sequence ``next()`` gives, a Python call only once per chunk.  (This
        RNG draws nothing else once the value pool is built, so drawing ahead changes no
        key.)  Call it once per generator: the chunks it pre-drew belong to it."""
        if self.mode == "none":
            return itertools.repeat(None).__next__
        if self._stream is None:
            self._stream = itertools.chain.from_iterable(
                iter(self._chunk, None)).__next__
        return self._stream

    def _chunk(self) -> list:
        n = len(self.keys)
        if self.mode == "uniform":
            below, keys = self.rng._randbelow, self.keys  # = randrange(n), one call fewer
            return [keys[below(n)] for _ in range(CHUNK)]
        if self.mode == "zipf":
            rnd, cdf, keys, last = self.rng.random, self.cdf, self.keys, n - 1
            top = cdf[-1]
            out = []
            for _ in range(CHUNK):
                i = bisect.bisect_left(cdf, rnd() * top)
                out.append(keys[i if i < last else last])  # noqa: FURB136
            return out
        start = self.seq
        self.seq += CHUNK
        return [b"key-%d" % i for i in range(start + 1, start + CHUNK + 1)]

    def next(self) -> bytes | None:
        mode = self.mode
        if mode == "none":
            return None
        if mode == "uniform":
            return self.keys[self.rng.randrange(len(self.keys))]
        if mode == "zipf":
            i = bisect.bisect_left(self.cdf, self.rng.random() * self.cdf[-1])
            return self.keys[min(i, len(self.keys) - 1)]
        self.seq += 1
        return b"key-%d" % self.seq


class _AppThread:
    """One application thread: sends when due, pays CPU, blocks when ``send()`` blocks."""

    __slots__ = (
        "_returned",
        "_wake_ms",
        "blocked",
        "cpu_us",
        "finished",
        "index",
        "name",
        "next_due_us",
        "quota",
        "sent",
        "w",
        "waiting",
    )

    def __init__(self, workload: Workload, index: int, quota: int | None) -> None:
        self.w = workload
        self.index = index
        self.name = f"{workload.name}-t{index}"
        self.quota = quota
        self.sent = 0
        start_us = workload.spec.start_ms * 1000.0
        # Stagger threads over one interval so they do not all fire in the same microsecond.
        iv = workload.interval_us
        self.next_due_us = start_us + (iv * index / workload.spec.threads if iv else 0.0)
        self.cpu_us = start_us
        self.blocked = False
        self._returned: tuple | None = None
        self._wake_ms: int | None = None
        self.finished = quota == 0
        self.waiting = False  # sync mode: waiting for the last send's result

    def schedule(self, t_ms: int) -> None:
        """Run this thread at ``t_ms`` (replacing any earlier wake-up)."""
        t_ms = max(t_ms, self.w.sched.now_ms)
        self._wake_ms = t_ms
        self.w._wake(self, t_ms)

    def run(self) -> None:
        """Send every record due before the end of this millisecond."""
        self._wake_ms = self.w.sched.now_ms
        self.w._tick(self._wake_ms, (self,))

    def send_slow(self, value: bytes, key: bytes | None, callback: Any) -> tuple | None:
        """One ``send()`` through the general path (metadata wait, buffer-pool wait, large
        records, interceptors...).  Returns ``(future, blocked_ms)`` when the call returned
        at once, ``()`` when it raised (counted), None when the thread blocked."""
        w = self.w
        self._returned = None
        w._calling = self
        try:
            w.producer.send_async(w.spec.topic, value, key, thread=self.name,
                                  on_return=self._on_return, callback=callback)
        except KafkaError as e:  # an error Kafka throws at the call
            w._failed_at_call(e)
            return ()
        finally:
            w._calling = None
        ret = self._returned
        if ret is None:
            self.blocked = True
            w.blocked_threads += 1
        return ret

    def _wait_for_result(self, fut: Any) -> bool:
        """Sync mode: park the thread until ``fut`` completes (like ``future.get()``)."""
        if not self.w.spec.sync or fut is None or fut.done():
            return False
        self.waiting = True
        fut.add_callback(self._on_result)
        return True

    def _on_result(self, metadata: Any, exc: BaseException | None) -> None:
        self.waiting = False
        self.cpu_us = max(self.cpu_us, self.w.sched.now_ms * 1000.0)
        self.schedule(self.w.sched.now_ms)

    def _on_return(self, fut: Any, blocked_ms: int) -> None:
        if self.w._calling is self:
            self._returned = (fut, blocked_ms)
            return
        # Returned later (the thread had blocked): account and resume.
        self.blocked = False
        self.w.blocked_threads -= 1
        self.w._record_return(fut, blocked_ms)
        self.cpu_us = max(self.cpu_us, self.w.sched.now_ms * 1000.0)
        if self._wait_for_result(fut):
            return
        self.schedule(self.w.sched.now_ms)

    def finish(self) -> None:
        if not self.finished:
            self.finished = True
            self.w._thread_finished()


class Workload:
    """N application threads producing to one topic (``sim.add_workload(spec)``)."""

    def __init__(self, sim: Any, spec: dict | WorkloadSpec, *, name: str | None = None) -> None:
        self.spec = WorkloadSpec.from_dict(spec)
        topics = getattr(sim.cluster, "topics", None)
        if (callable(topics) and self.spec.topic not in topics()
                and not getattr(sim.cluster, "auto_create_topics", False)):
            # With auto-creation off Kafka would wait max.block.ms for metadata of an
            # unknown topic; a workload aimed at it is almost always a typo.  (With it on,
            # the default, the first metadata request creates the topic.)
            raise WorkloadError(f"workload.topic: unknown topic {self.spec.topic!r}; topics: "
                                f"{sorted(topics())}")
        self.sim = sim
        self.sched = sim.scheduler
        self.producer = sim.producer
        self.name = name or f"app-{self.spec.topic}"
        rng = sim.rng(f"workload:{self.name}")
        self.values = datagen.ValuePool(self.spec.data, rng, self.spec.value_bytes)
        self.keygen = _KeyGen(self.spec.keys, rng)
        self.codec = _codec_of(sim)
        self.paused = False
        self.interval_us = 0.0
        self._rate = self.spec.rate
        self._set_interval()
        self.send_calls = 0
        self.blocked_threads = 0
        self.returns = 0
        self.blocked_sends = 0
        self.block_hist: Counter[int] = Counter()
        self.block_ms_total = 0
        self.block_ms_max = 0
        self.failed_sends = 0
        self.buffer_exhausted = 0
        self.acked = 0
        self.delivery_failed = 0
        self.errors: Counter[str] = Counter()
        self.shed = 0
        self._finished_threads = 0
        self._calling: _AppThread | None = None
        self._buckets: dict[int, list[_AppThread]] = {}
        # Outcomes (acked, failed after send() returned) are counted per batch from the
        # engine's batch events — one event per batch, not a callback per record — while
        # this is the only workload on its topic; ``share_topic()`` switches to a callback
        # per record when another workload's records share the batches.
        self.per_record_outcomes = False
        self._unsubscribe_outcomes = (
            sim.events.subscribe(self._on_batch_outcome, _OUTCOME_KINDS)
            if self.spec.track_outcomes else None)
        n = self.spec.threads
        total = self.spec.records
        quotas = [None] * n if total is None else [total // n + (1 if i < total % n else 0)
                                                  for i in range(n)]
        self.threads = [_AppThread(self, i, quotas[i]) for i in range(n)]
        for t in self.threads:
            if t.finished:
                self._finished_threads += 1
            else:
                t.schedule(max(self.sched.now_ms, self.spec.start_ms))

    # ---- scheduling ----------------------------------------------------------------------

    def _wake(self, thread: _AppThread, t_ms: int) -> None:
        # Threads due in the same millisecond share one scheduler entry: a workload costs
        # the heap one entry per busy millisecond, not one per thread per record.
        bucket = self._buckets.get(t_ms)
        if bucket is None:
            bucket = self._buckets[t_ms] = []
            self.sched.call_at(t_ms, lambda: self._run_bucket(t_ms), priority=PRIORITY_DEFAULT)
        bucket.append(thread)

    def _run_bucket(self, t_ms: int) -> None:
        self._tick(t_ms, self._buckets.pop(t_ms, ()))

    def _tick(self, t_ms: int, threads: Any) -> None:
        """One workload tick: every record due in this millisecond, for every thread woken
        for it, in one loop (the per-record hot path: locals only).

        Records go through the producer's fast path (``append_plain``: the same append
        as a plain ``send()`` in batch mode); a record that needs more — a metadata
        wait, a buffer-pool wait (the thread then blocks, up to ``max.block.ms``), a
        large record, interceptors — takes the general ``send()``.  No callback is
        attached per record unless the outcome must be told per record
        (``per_record_outcomes``) or the thread waits for each result (``sync``).
        """
        if self.paused:
            return
        spec = self.spec
        producer = self.producer
        stop = spec.stop_ms
        horizon = (t_ms + 1) * 1000.0
        floor = horizon - 1000.0 - MAX_BACKLOG_MS * 1000.0
        append = producer.append_plain if producer.plain_ok else None
        topic = spec.topic
        track = spec.track_outcomes
        callback = self._on_complete if (track and self.per_record_outcomes) else None
        next_value = self.values.next
        next_key = self.keygen.next_fn()
        base_us = timemodel.RECORD_CPU_US
        byte_us = self._byte_ns / 1000.0
        iv = self.interval_us
        bursty = spec.pattern == "bursty"
        sync = spec.sync
        returns = 0
        sends = 0
        for th in threads:
            if th._wake_ms != t_ms:
                continue  # rescheduled elsewhere meanwhile
            th._wake_ms = None
            if th.finished or th.blocked or th.waiting:
                continue
            if stop is not None and t_ms >= stop:
                th.finish()
                continue
            quota = th.quota
            cpu = th.cpu_us
            due = th.next_due_us
            sent0 = sent = th.sent
            while True:
                if quota is not None and sent >= quota:
                    th.finish()
                    break
                if iv:
                    if due < floor:
                        skipped = int((floor - due) // iv) + 1
                        self.shed += skipped
                        due += skipped * iv
                    t = cpu if cpu > due else due  # noqa: FURB136 (hot path: no call)
                    if bursty:
                        t = self.burst_adjust(t)
                    if t >= horizon:
                        th.schedule(int(t // 1000.0))
                        break
                    due = t + iv
                else:
                    t = cpu
                    if t >= horizon:
                        th.schedule(int(t // 1000.0))
                        break
                value = next_value()
                key = next_key()
                # Modelled CPU inside send(): per record, plus per byte (copy, the codec).
                cpu = t + base_us + (len(value) + (len(key) if key else 0)) * byte_us
                sent += 1
                fut = append(topic, key, value) if append is not None else None
                if fut is not None:
                    returns += 1  # the common case: returned at once, record queued
                    if callback is not None:
                        fut.add_callback(callback)
                    if sync:
                        th.cpu_us, th.next_due_us, th.sent = cpu, due, sent
                        if th._wait_for_result(fut):
                            break
                    continue
                th.cpu_us, th.next_due_us, th.sent = cpu, due, sent
                ret = th.send_slow(value, key, callback)
                if ret is None:
                    break  # blocked: _on_return resumes the thread
                if not ret:
                    continue  # raised at the call (counted)
                fut, blocked_ms = ret
                if blocked_ms or (track and fut.done()):
                    self._record_return(fut, blocked_ms)
                else:
                    returns += 1
                if sync:
                    th.cpu_us = cpu
                    if th._wait_for_result(fut):
                        break
            th.cpu_us = cpu
            th.next_due_us = due
            th.sent = sent
            sends += sent - sent0
        self.returns += returns
        self.send_calls += sends

    # ---- rate --------------------------------------------------------------------------

    def _set_interval(self) -> None:
        r = self._rate
        self.interval_us = 0.0 if r is None else 1e6 * self.spec.threads / r

    @property
    def rate(self) -> float | None:
        return self._rate

    def set_rate(self, rate: float | None) -> None:
        """Change the target rate live (records/s over all threads; None = flat out)."""
        if rate is not None and (not _num(rate) or rate <= 0):
            raise WorkloadError(f"rate: must be a positive number or None, got {rate!r}")
        self._rate = rate
        self._set_interval()
        now_us = self.sched.now_ms * 1000.0
        for t in self.threads:
            # Start the new cadence now; do not replay arrivals the old rate implied.
            t.next_due_us = max(now_us, t.cpu_us)
            if not t.blocked and not t.finished:
                t.schedule(self.sched.now_ms)

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False
        now_us = self.sched.now_ms * 1000.0
        for t in self.threads:
            t.next_due_us = max(t.next_due_us, now_us)
            if not t.blocked and not t.finished:
                t.schedule(self.sched.now_ms)

    def burst_adjust(self, t_us: float) -> float:
        """Move ``t_us`` out of an ``off`` window of a bursty pattern."""
        if self.spec.pattern != "bursty":
            return t_us
        on = self.spec.burst.get("on_ms", 200) * 1000.0
        off = self.spec.burst.get("off_ms", 0) * 1000.0
        if not off:
            return t_us
        start = self.spec.start_ms * 1000.0
        phase = (t_us - start) % (on + off)
        if phase < on:
            return t_us
        return t_us + (on + off - phase)

    def cost_us(self, value: bytes | None, key: bytes | None) -> float:
        n = (len(value) if value else 0) + (len(key) if key else 0)
        return timemodel.RECORD_CPU_US + n * self._byte_ns / 1000.0

    @property
    def codec(self) -> str:
        return self._codec

    @codec.setter
    def codec(self, name: str) -> None:
        self._codec = name
        self._byte_ns = timemodel.BYTE_CPU_NS + timemodel.CODEC_CPU_NS_PER_BYTE.get(name, 0.0)

    # ---- accounting --------------------------------------------------------------------

    def _record_return(self, fut: Any, blocked_ms: int) -> None:
        self.returns += 1
        blocked_ms = int(blocked_ms or 0)
        if blocked_ms:
            self.blocked_sends += 1
            self.block_hist[blocked_ms] += 1
            self.block_ms_total += blocked_ms
            self.block_ms_max = max(self.block_ms_max, blocked_ms)
        if fut is not None and fut.done():
            exc = fut.exception()
            if exc is not None:
                self._count_failure(exc)
                self.failed_sends += 1

    def _count_failure(self, exc: BaseException) -> None:
        name = type(exc).__name__
        self.errors[name] += 1
        if name == "BufferExhaustedError":
            self.buffer_exhausted += 1

    def _failed_at_call(self, exc: Exception) -> None:
        self.returns += 1
        self.failed_sends += 1
        self._count_failure(exc)

    def _on_complete(self, metadata: Any, exc: BaseException | None) -> None:
        if exc is None:
            self.acked += 1
        elif type(exc).__name__ != "BufferExhaustedError":
            # Failures after send() returned (delivery timeout, fatal broker errors).
            self.delivery_failed += 1
            self.errors[type(exc).__name__] += 1

    def _on_batch_outcome(self, event: Any) -> None:
        d = event.data
        if d["topic"] != self.spec.topic:
            return
        if event.kind == "batch.completed":
            self.acked += d["records"]
            return
        name = d.get("error_type") or "KafkaError"
        if name != "BufferExhaustedError":
            self.delivery_failed += d["records"]
            self.errors[name] += d["records"]

    def share_topic(self) -> None:
        """Another workload sends to this topic: count outcomes per record from now on."""
        if self._unsubscribe_outcomes is not None:
            self._unsubscribe_outcomes()
            self._unsubscribe_outcomes = None
        self.per_record_outcomes = True

    def close(self) -> None:
        """Stop listening to the engine (the simulation is being thrown away)."""
        if self._unsubscribe_outcomes is not None:
            self._unsubscribe_outcomes()
            self._unsubscribe_outcomes = None

    def _thread_finished(self) -> None:
        self._finished_threads += 1

    @property
    def done(self) -> bool:
        """Every thread reached its record quota or ``stop_ms``."""
        return self._finished_threads >= len(self.threads)

    def block_percentile(self, q: float) -> float:
        """The ``q``-quantile (0..1) of per-call block time in ms (0 for unblocked calls)."""
        total = self.returns
        if not total:
            return 0.0
        zero = total - self.blocked_sends
        rank = q * (total - 1)
        if rank < zero:
            return 0.0
        seen = zero
        for ms in sorted(self.block_hist):
            seen += self.block_hist[ms]
            if seen > rank:
                return float(ms)
        return float(self.block_ms_max)

    def stats(self) -> dict:
        """The ``app`` section of the snapshot (docs/SEAMS.md §1)."""
        n = self.returns
        return {
            "threads": len(self.threads),
            "blocked_threads": self.blocked_threads,
            "send_calls": self.send_calls,
            "sends_returned": n,
            "blocked_sends": self.blocked_sends,
            "send_block_ms_avg": round(self.block_ms_total / n, 3) if n else 0.0,
            "send_block_ms_p50": self.block_percentile(0.50),
            "send_block_ms_p99": self.block_percentile(0.99),
            "send_block_ms_max": self.block_ms_max,
            "failed_sends": self.failed_sends,
            "buffer_exhausted": self.buffer_exhausted,
            "delivery_failed": self.delivery_failed,
            "acked": self.acked,
            "errors": dict(sorted(self.errors.items())),
            "shed": self.shed,
            "rate_target": self._rate,
            "done": self.done,
        }


def merge_stats(stats: list[dict]) -> dict:
    """Combine several workloads' ``stats()`` into one ``app`` section."""
    if not stats:
        return {"threads": 0, "blocked_threads": 0, "send_calls": 0, "send_block_ms_avg": 0.0,
                "send_block_ms_p99": 0.0, "send_block_ms_max": 0, "failed_sends": 0,
                "rate_target": None}
    if len(stats) == 1:
        return dict(stats[0])
    out: dict[str, Any] = {}
    for key in ("threads", "blocked_threads", "send_calls", "sends_returned", "blocked_sends",
                "failed_sends", "buffer_exhausted", "delivery_failed", "acked", "shed"):
        out[key] = sum(s.get(key, 0) for s in stats)
    n = out["sends_returned"]
    out["send_block_ms_avg"] = round(sum(s["send_block_ms_avg"] * s["sends_returned"]
                                         for s in stats) / n, 3) if n else 0.0
    out["send_block_ms_p50"] = max(s["send_block_ms_p50"] for s in stats)
    out["send_block_ms_p99"] = max(s["send_block_ms_p99"] for s in stats)
    out["send_block_ms_max"] = max(s["send_block_ms_max"] for s in stats)
    errors: Counter[str] = Counter()
    for s in stats:
        errors.update(s.get("errors", {}))
    out["errors"] = dict(sorted(errors.items()))
    rates = [s["rate_target"] for s in stats]
    out["rate_target"] = None if any(r is None for r in rates) else sum(rates)
    out["done"] = all(s.get("done") for s in stats)
    return out


def _codec_of(sim: Any) -> str:
    cfg = getattr(sim.producer, "config", None) or getattr(sim, "config", None)
    get = getattr(cfg, "get", None)
    return str(get("compression.type")) if callable(get) else "none"
