"""Invariants every producer run must keep, checked after the run.

Used by the property tests (``tests/producer_core/test_properties.py``) and by
``python -m producer_core.check --seeds N``.  The checks:

1. every future returned by ``send()`` completes, and its callbacks run exactly once;
2. with idempotence: no record is lost, duplicated or reordered in the partition logs —
   every acknowledged record is stored exactly once at the offset it was told, no record
   appears twice, and records of one partition are stored in the order they were
   appended;
3. buffer-pool accounting returns to ``buffer.memory`` once the producer is closed;
4. no uncompressed multi-record batch exceeds ``batch.size`` (unless its first record
   alone needed a larger buffer, as in Kafka);
5. in-flight requests per broker never exceed ``max.in.flight.requests.per.connection``;
6. no record completes later than ``delivery.timeout.ms + request.timeout.ms`` after
   ``send()`` returned.

:func:`random_scenario` draws a small random run (config, cluster, application threads,
fault script) from a seed; :func:`check_seed` runs it and returns the violations
(an empty list means clean).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from random import Random
from typing import Any

from producer_core.errors import KafkaError
from producer_core.protocol import TopicPartition
from producer_core.records import decode_batch, estimate_batch_size_upper_bound


@dataclass(slots=True)
class Tracked:
    """One record the application sent, and what became of it."""

    seq: int
    topic: str
    key: bytes | None
    value: bytes | None
    returned_ms: int
    partition: int = -1
    completions: int = 0
    completed_ms: int = -1
    offset: int = -1
    error: str | None = None
    future: Any = None


@dataclass
class RunMonitor:
    """Watches every future a simulation's producers hand out (``sim.send_observers``)."""

    sim: Any
    records: list[Tracked] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sim.send_observers.append(self._observe)

    def _observe(self, fut: Any, kb: bytes | None, vb: bytes | None) -> None:
        rec = Tracked(len(self.records), fut.topic, kb, vb, self.sim.now_ms,
                      partition=fut.partition, future=fut)
        self.records.append(rec)

        def done(md: Any, exc: BaseException | None) -> None:
            rec.completions += 1
            rec.completed_ms = self.sim.now_ms
            rec.partition = md.partition if md is not None else rec.partition
            if exc is None:
                rec.offset = md.offset
            else:
                rec.error = type(exc).__name__

        fut.add_callback(done)

    # -- the checks ---------------------------------------------------------------------

    def check(self) -> list[str]:
        """All violations found (empty: the run kept every invariant)."""
        v: list[str] = []
        producers = [*getattr(self.sim, "retired_producers", []), self.sim.producer]
        v += self._futures()
        v += self._timing(producers)
        for p in producers:
            v += self._pool(p)
            v += self._in_flight(p)
        v += self._batches(producers)
        if all(p.sender.idem is not None for p in producers):
            v += self._logs()
        return v

    def _futures(self) -> list[str]:
        out = []
        for r in self.records:
            if not r.future.done():
                out.append(f"record #{r.seq} to {r.topic}: future never completed")
            elif r.completions != 1:
                out.append(f"record #{r.seq} to {r.topic}: callbacks ran {r.completions} times")
        return out

    def _timing(self, producers: list) -> list[str]:
        cfg = producers[-1].config
        limit = cfg.delivery_timeout_ms + cfg.request_timeout_ms
        out = []
        for r in self.records:
            if r.completed_ms >= 0 and r.completed_ms - r.returned_ms > limit:
                out.append(f"record #{r.seq} completed {r.completed_ms - r.returned_ms} ms after "
                           f"send() returned (> delivery.timeout.ms + request.timeout.ms = "
                           f"{limit})")
        return out

    @staticmethod
    def _pool(p: Any) -> list[str]:
        if p.sender.running or p.client.has_in_flight("produce"):
            return []  # still working: memory may legitimately be in use
        pool = p.pool
        if pool.available_memory() != pool.total_memory or pool.queued():
            return [(f"{p.client_id}: buffer pool holds {pool.available_memory()} of "
                     f"{pool.total_memory} bytes after close ({pool.queued()} waiters)")]
        return []

    @staticmethod
    def _in_flight(p: Any) -> list[str]:
        seen, limit = p.client.max_in_flight_seen, p.client.max_in_flight
        if seen > limit:
            return [f"{p.client_id}: {seen} requests in flight to one broker (limit {limit})"]
        return []

    def _batches(self, producers: list) -> list[str]:
        out = []
        cluster = self.sim.cluster
        batch_size = min(p.config.batch_size for p in producers)
        for topic, n in cluster.topics().items():
            for part in range(n):
                for data in cluster.log(topic, part):
                    b = decode_batch(data)
                    if b.compression != "none" or b.records_count < 2:
                        continue
                    first = b.records[0]
                    if estimate_batch_size_upper_bound(first.key, first.value,
                                                       first.headers) > batch_size:
                        continue  # an oversized first record got a buffer of its own size
                    if len(data) > batch_size:
                        out.append(f"{topic}-{part}: uncompressed batch of {b.records_count} "
                                   f"records is {len(data)} bytes > batch.size {batch_size}")
        return out

    def _logs(self) -> list[str]:
        """Idempotence: exactly once and in order, per partition."""
        out = []
        cluster = self.sim.cluster
        stored: dict[TopicPartition, dict[bytes, list[int]]] = {}
        for topic, n in cluster.topics().items():
            for part in range(n):
                tp = TopicPartition(topic, part)
                where: dict[bytes, list[int]] = {}
                for data in cluster.log(topic, part):
                    for rec in decode_batch(data).records:
                        where.setdefault(rec.value, []).append(rec.offset)
                stored[tp] = where
                for value, offs in where.items():
                    if len(offs) > 1:
                        out.append(f"{tp}: record {value[:24]!r} stored {len(offs)} times "
                                   f"(offsets {offs[:5]})")
        last: dict[TopicPartition, tuple[int, int]] = {}
        for r in self.records:  # in append order
            if r.partition < 0 or r.value is None:
                continue
            tp = TopicPartition(r.topic, r.partition)
            offs = stored.get(tp, {}).get(r.value)
            if r.completions == 1 and r.error is None and r.offset >= 0:
                if not offs:
                    out.append(f"{tp}: acknowledged record #{r.seq} (offset {r.offset}) is "
                               "missing from the log")
                    continue
                if offs[0] != r.offset:
                    out.append(f"{tp}: record #{r.seq} acknowledged at offset {r.offset} but "
                               f"stored at {offs[0]}")
            if offs:
                prev = last.get(tp)
                if prev is not None and offs[0] < prev[1]:
                    out.append(f"{tp}: record #{r.seq} stored at offset {offs[0]} before "
                               f"record #{prev[0]} (offset {prev[1]}) appended earlier")
                last[tp] = (r.seq, offs[0])
        return out


# ---- random runs ---------------------------------------------------------------------------

ERRORS = ("NOT_LEADER_OR_FOLLOWER", "NOT_ENOUGH_REPLICAS", "REQUEST_TIMED_OUT",
          "MESSAGE_TOO_LARGE", "LEADER_NOT_AVAILABLE", "NETWORK_EXCEPTION",
          "NOT_ENOUGH_REPLICAS_AFTER_APPEND", "KAFKA_STORAGE_ERROR")


def random_scenario(seed: int) -> dict:
    """A small random run: producer config, cluster, app threads and a fault script."""
    r = Random(f"invariants:{seed}")
    brokers = r.randint(1, 4)
    rf = r.randint(1, brokers)
    linger = r.choice([0, 0, 1, 5, 20])
    request_timeout = r.choice([300, 1000, 3000])
    config: dict[str, Any] = {
        "batch.size": r.choice([256, 1024, 4096, 16384]),
        "linger.ms": linger,
        "compression.type": r.choice(["none", "none", "gzip", "lz4", "zstd", "snappy"]),
        "request.timeout.ms": request_timeout,
        "delivery.timeout.ms": linger + request_timeout + r.choice([0, 500, 3000]),
        "retry.backoff.ms": r.choice([5, 50, 100]),
        "retry.backoff.max.ms": r.choice([100, 1000]),
        "max.in.flight.requests.per.connection": r.randint(1, 5),
        "buffer.memory": r.choice([32 * 1024, 256 * 1024, 32 * 1024 * 1024]),
        "max.block.ms": r.choice([50, 500, 2000]),
    }
    mode = r.random()
    if mode < 0.15:
        config["acks"] = r.choice(["1", "0"])  # idempotence switches off (default)
    elif mode < 0.25:
        config["enable.idempotence"] = False
        config["retries"] = r.choice([0, 2, 2147483647])
    topics = {"t0": r.randint(1, 6)}
    if r.random() < 0.3:
        topics["t1"] = r.randint(1, 3)
    faults = []
    for _ in range(r.choice([0, 1, 2, 2, 3, 4])):
        at = r.randint(0, 600)
        op = r.choice(["stop_broker", "cut_network", "fail_next", "elect_leader",
                       "slow_broker", "stale_metadata"])
        b = r.randint(1, brokers)
        if op == "stop_broker":
            faults.append({"at_ms": at, "op": "stop_broker", "broker": b})
            faults.append({"at_ms": at + r.randint(50, 2500), "op": "start_broker",
                           "broker": b})
        elif op == "cut_network":
            faults.append({"at_ms": at, "op": "cut_network", "broker": b})
            faults.append({"at_ms": at + r.randint(50, 2500), "op": "restore_network",
                           "broker": b})
        elif op == "fail_next":
            faults.append({"at_ms": at, "op": "fail_next", "broker": b,
                           "count": r.randint(1, 5), "error": r.choice(ERRORS)})
        elif op == "elect_leader":
            t = r.choice(sorted(topics))
            faults.append({"at_ms": at, "op": "elect_leader", "topic": t,
                           "partition": r.randrange(topics[t])})
        elif op == "slow_broker":
            faults.append({"at_ms": at, "op": "slow_broker", "broker": b,
                           "extra_ms": r.choice([5, 50, 400])})
        else:
            faults.append({"at_ms": at, "op": "stale_metadata", "broker": b,
                           "duration_ms": r.randint(100, 2000)})
    app = {"threads": r.randint(1, 4), "records": r.randint(20, 400),
           "interval_ms": r.choice([0, 1, 2, 5, 10]), "value_bytes": r.choice([10, 100, 700, 3000]),
           "keys": r.choice([0, 0, 3, 50]), "explicit_partition": r.random() < 0.1,
           "headers": r.random() < 0.2, "topics": sorted(topics)}
    return {"seed": seed, "config": config,
            "cluster": {"brokers": brokers, "topics": topics, "replication_factor": rf,
                        "min_insync_replicas": r.randint(1, rf),
                        "election_delay_ms": r.choice([50, 500, 2000])},
            "faults": faults, "app": app}


class _AppThreads:
    """Application threads calling ``send_async`` with unique values (for log checks)."""

    def __init__(self, sim: Any, spec: dict, rng: Random) -> None:
        self.sim = sim
        self.spec = spec
        self.rng = rng
        self.left = [spec["records"] // spec["threads"] + (1 if i < spec["records"] %
                     spec["threads"] else 0) for i in range(spec["threads"])]
        self.counter = 0
        for i in range(spec["threads"]):
            sim.scheduler.call_at(0, lambda i=i: self._next(i))

    def _next(self, i: int) -> None:
        if self.left[i] <= 0 or self.sim.producer.closed:
            return
        self.left[i] -= 1
        self.counter += 1
        spec, r = self.spec, self.rng
        value = b"%d:%d|" % (i, self.counter) + b"v" * r.randint(0, spec["value_bytes"])
        key = None if not spec["keys"] else b"k%d" % r.randrange(spec["keys"])
        topic = r.choice(spec["topics"])
        partition = None
        if spec["explicit_partition"] and r.random() < 0.5:
            partition = r.randrange(self.sim.cluster.topics()[topic])
        headers = [("h", b"1")] if spec["headers"] and r.random() < 0.5 else None
        try:
            self.sim.producer.send_async(topic, value, key, headers=headers,
                                         partition=partition,
                                         on_return=lambda fut, blocked: self._after(i))
        except KafkaError:  # e.g. the producer closed: this thread's run ends
            self.left[i] = 0

    def _after(self, i: int) -> None:
        self.sim.scheduler.call_later(self.spec["interval_ms"], lambda: self._next(i))

    @property
    def done(self) -> bool:
        return all(n <= 0 for n in self.left)


def run_scenario(sc: dict, max_ms: int = 60_000) -> tuple[Any, RunMonitor]:
    """Build and run one :func:`random_scenario` dict; returns (simulation, monitor)."""
    from producer_core.simulation import Simulation

    c = sc["cluster"]
    sim = Simulation(config=sc["config"], brokers=c["brokers"], topics=c["topics"],
                     replication_factor=c["replication_factor"], seed=sc["seed"],
                     min_insync_replicas=c["min_insync_replicas"],
                     election_delay_ms=c["election_delay_ms"])
    mon = RunMonitor(sim)
    app = _AppThreads(sim, sc["app"], sim.rng("app"))
    if sc["faults"]:
        sim.schedule_faults(sc["faults"])
    sim.scheduler.run_until(max_ms, stop=lambda: app.done and not sim.producer.blocked_sends)
    sim.producer.close()
    return sim, mon


def check_seed(seed: int) -> list[str]:
    """Run :func:`random_scenario` for ``seed``; the violations (empty list: clean)."""
    _sim, mon = run_scenario(random_scenario(seed))
    return mon.check()
