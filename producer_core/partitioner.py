"""How a record finds its partition (Kafka's ``KafkaProducer.partition`` and
``BuiltInPartitioner``).

In order:

1. an explicit partition on the record wins;
2. a custom ``partitioner.class``, if configured, decides;
3. a record with a key (unless ``partitioner.ignore.keys``) goes to
   ``(murmur2(key) & 0x7fffffff) % partitions`` — the same partition as the Java client;
4. anything else uses the *uniform sticky* partitioner (KIP-794): stay on one partition
   until ``batch.size`` bytes were produced to it, then pick another at random — with
   adaptive partitioning, weighted towards partitions whose queues are short.

Randomness comes from the ``random.Random`` the simulation hands in, so a seed replays
the same partition choices.
"""

from __future__ import annotations

import struct
from bisect import bisect_right
from collections.abc import Callable
from functools import lru_cache
from itertools import accumulate
from random import Random
from typing import Any, Protocol, runtime_checkable

from producer_core.errors import ConfigError, PartitionOutOfRangeError

_M = 0x5BD1E995
_SEED = 0x9747B28C
_MASK32 = 0xFFFFFFFF


@lru_cache(maxsize=1 << 16)
def _murmur2_unsigned(data: bytes) -> int:
    length = len(data)
    h = (_SEED ^ length) & _MASK32
    n4 = length >> 2
    if n4:
        for k in struct.unpack_from(f"<{n4}I", data):
            k = (k * _M) & _MASK32
            k ^= k >> 24
            k = (k * _M) & _MASK32
            h = ((h * _M) & _MASK32) ^ k
    tail = length & 3
    if tail:
        base = length & ~3
        if tail == 3:
            h ^= data[base + 2] << 16
        if tail >= 2:
            h ^= data[base + 1] << 8
        h ^= data[base]
        h = (h * _M) & _MASK32
    h ^= h >> 13
    h = (h * _M) & _MASK32
    h ^= h >> 15
    return h


def murmur2(data: bytes | bytearray | memoryview) -> int:
    """Kafka's ``Utils.murmur2``: the signed 32-bit MurmurHash2 of ``data`` (seed
    0x9747b28c), bit-for-bit what the Java client computes."""
    h = _murmur2_unsigned(bytes(data))
    return h - 0x100000000 if h & 0x80000000 else h


def to_positive(number: int) -> int:
    """Kafka's ``Utils.toPositive``: clear the sign bit (not ``abs``: abs(MIN_INT) < 0)."""
    return number & 0x7FFFFFFF


def partition_for_key(key_bytes: bytes, num_partitions: int) -> int:
    """The partition Kafka picks for a serialized key."""
    if num_partitions <= 0:
        raise ValueError(f"num_partitions must be positive, got {num_partitions}")
    return (_murmur2_unsigned(bytes(key_bytes)) & 0x7FFFFFFF) % num_partitions


# ---- the built-in uniform sticky partitioner (KIP-794) ---------------------------------

class StickyPartitionInfo:
    """The partition currently stuck to and the bytes produced to it since.  A new object
    is made at every switch (even to the same partition), so a caller that waited (e.g. on
    the buffer pool) can tell with :meth:`BuiltInPartitioner.is_partition_changed` that
    someone else switched meanwhile."""

    __slots__ = ("partition", "produced_bytes")

    def __init__(self, partition: int) -> None:
        self.partition = partition
        self.produced_bytes = 0

    def __repr__(self) -> str:
        return f"StickyPartitionInfo(partition={self.partition}, produced={self.produced_bytes})"


class BuiltInPartitioner:
    """Kafka's ``BuiltInPartitioner`` for one topic.

    The workflow (as in ``RecordAccumulator.append``): ``peek_current_partition`` to
    learn where an unkeyed record goes; append it; ``update_partition_info`` with the
    bytes appended, which switches partition once ``sticky_batch_size`` bytes were
    produced — or only at twice that when ``enable_switch`` is false (the accumulator
    passes false while the partition's last batch is not full, so linger-heavy producers
    do not leave fractional batches behind).
    """

    def __init__(self, topic: str, sticky_batch_size: int, rng: Random) -> None:
        if isinstance(sticky_batch_size, bool) or not isinstance(sticky_batch_size, int) \
                or sticky_batch_size < 1:
            raise ValueError(f"sticky_batch_size must be >= 1 but got {sticky_batch_size}")
        if not isinstance(rng, Random):
            raise TypeError("rng must be a random.Random owned by the simulation")
        self.topic = topic
        self.sticky_batch_size = sticky_batch_size
        self._rng = rng
        self._info: StickyPartitionInfo | None = None
        # (cumulative frequency table, partition ids, logical length) or None
        self._load_stats: tuple[list[int], list[int], int] | None = None
        # The inputs _load_stats was last built from: the accumulator calls
        # update_partition_load_stats on every sender poll, mostly with the same queues.
        self._load_inputs: tuple[list[int], list[int], int] | None = None

    # -- choosing ----------------------------------------------------------------------

    def _random(self) -> int:
        # Utils.toPositive(ThreadLocalRandom.nextInt()): 31 random bits.
        return self._rng.getrandbits(32) & 0x7FFFFFFF

    def next_partition(self, num_partitions: int,
                       available_partitions: list[int] | None = None) -> int:
        """Pick a partition: weighted by the load stats when there are any, else uniformly
        among available partitions (all partitions if none is available)."""
        r = self._random()
        stats = self._load_stats
        if stats is None:
            if available_partitions:
                return available_partitions[r % len(available_partitions)]
            if num_partitions <= 0:
                raise ValueError(f"topic {self.topic} has no partitions")
            return r % num_partitions
        cft, ids, length = stats
        weighted = r % cft[length - 1]
        # the first CFT entry strictly greater than the draw
        return ids[bisect_right(cft, weighted, 0, length)]

    def peek_current_partition_info(self, num_partitions: int,
                                    available_partitions: list[int] | None = None
                                    ) -> StickyPartitionInfo:
        if self._info is None:
            self._info = StickyPartitionInfo(
                self.next_partition(num_partitions, available_partitions))
        return self._info

    def peek_current_partition(self, num_partitions: int,
                               available_partitions: list[int] | None = None) -> int:
        """The sticky partition, choosing one first if there is none yet."""
        return self.peek_current_partition_info(num_partitions, available_partitions).partition

    def is_partition_changed(self, info: StickyPartitionInfo | int | None) -> bool:
        """True when the sticky partition moved on since ``info`` was peeked."""
        if info is None:
            return False
        if isinstance(info, StickyPartitionInfo):
            return self._info is not info
        return self._info is None or self._info.partition != info

    def update_partition_info(self, partition: StickyPartitionInfo | int | None,
                              appended_bytes: int, num_partitions: int,
                              enable_switch: bool = True,
                              available_partitions: list[int] | None = None) -> bool:
        """Count ``appended_bytes`` against the sticky partition and switch when enough
        were produced (``>= sticky_batch_size`` with switching enabled, or ``>= 2 ×`` it
        regardless).  Records that did not go to the sticky partition (``partition`` None
        or not the current one) change nothing.  Returns True if it switched."""
        info = self._info
        if partition is None or info is None:
            return False
        if isinstance(partition, StickyPartitionInfo):
            if partition is not info:
                return False
        elif partition != info.partition:
            return False
        info.produced_bytes += appended_bytes
        produced = info.produced_bytes
        if (produced >= self.sticky_batch_size and enable_switch) or \
                produced >= 2 * self.sticky_batch_size:
            self._info = StickyPartitionInfo(
                self.next_partition(num_partitions, available_partitions))
            return True
        return False

    # -- adaptive weighting ------------------------------------------------------------

    def update_partition_load_stats(self, queue_sizes: list[int] | None,
                                    partition_ids: list[int] | None, length: int) -> None:
        """Rebuild the weights from the partitions' queue lengths (in batches).

        Kafka's rule: no stats (uniform choice) when ``queue_sizes`` is None, when fewer
        than 2 partitions exist or none is available, or when every partition is
        available and all queues are equal.  Otherwise each of the first ``length``
        partitions gets weight ``max_size + 1 - queue_size`` and the weights are folded
        into a cumulative frequency table, so short queues attract more new batches.
        """
        if queue_sizes is None:
            self._load_stats = self._load_inputs = None
            return
        last = self._load_inputs
        if last is not None and last[2] == length and last[0] == queue_sizes \
                and last[1] == partition_ids:
            return  # the same inputs give the same stats (a pure function of them)
        if partition_ids is None or len(partition_ids) != len(queue_sizes):
            raise ValueError("partition_ids must be given with the same length as queue_sizes")
        if not 0 <= length <= len(queue_sizes):
            raise ValueError(f"length {length} is outside 0..{len(queue_sizes)}")
        self._load_inputs = None
        if length < 1 or len(queue_sizes) < 2:
            self._load_stats = None
            return
        # (Kafka's loop, with builtins: runs on every sender poll.)
        sizes = queue_sizes[:length]
        max_size = max(sizes)
        if length == len(queue_sizes) and min(sizes) == max_size:  # all queues equal
            self._load_stats = None
            self._load_inputs = (list(queue_sizes), list(partition_ids), length)
            return
        max_plus_one = max_size + 1
        cft = list(accumulate([max_plus_one - size for size in sizes]))
        self._load_stats = (cft, list(partition_ids[:length]), length)
        self._load_inputs = (list(queue_sizes), list(partition_ids), length)

    @property
    def load_stats(self) -> tuple[list[int], list[int], int] | None:
        """``(cumulative frequency table, partition ids, length)`` or None (uniform)."""
        if self._load_stats is None:
            return None
        cft, ids, length = self._load_stats
        return list(cft), list(ids), length

    def load_stats_range_end(self) -> int:
        if self._load_stats is None:
            raise ValueError("no load stats: partitions are chosen uniformly")
        cft, _, length = self._load_stats
        return cft[length - 1]

    @property
    def current(self) -> StickyPartitionInfo | None:
        return self._info


# ---- custom partitioners -----------------------------------------------------------------

@runtime_checkable
class Partitioner(Protocol):
    """A custom ``partitioner.class`` (Kafka's ``Partitioner`` interface)."""

    def partition(self, topic: str, key: Any, key_bytes: bytes | None, value: Any,
                  value_bytes: bytes | None, num_partitions: int) -> int: ...

    def close(self) -> None: ...


class RoundRobinPartitioner:
    """Kafka's ``RoundRobinPartitioner``: each record to the next partition, keys ignored,
    a counter per topic."""

    def __init__(self) -> None:
        self._counters: dict[str, int] = {}

    def partition(self, topic: str, key: Any, key_bytes: bytes | None, value: Any,
                  value_bytes: bytes | None, num_partitions: int) -> int:
        n = self._counters.get(topic, 0)
        self._counters[topic] = n + 1
        return to_positive(n) % num_partitions

    def close(self) -> None:
        self._counters.clear()


class FunctionPartitioner:
    """Adapts a plain function ``f(topic, key, key_bytes, value, value_bytes, n) -> int``."""

    def __init__(self, fn: Callable[..., int]) -> None:
        self.fn = fn

    def partition(self, topic: str, key: Any, key_bytes: bytes | None, value: Any,
                  value_bytes: bytes | None, num_partitions: int) -> int:
        return self.fn(topic, key, key_bytes, value, value_bytes, num_partitions)

    def close(self) -> None:
        pass

    def __repr__(self) -> str:
        return f"FunctionPartitioner({getattr(self.fn, '__qualname__', self.fn)!r})"


#: Kafka class names we provide.
KAFKA_PARTITIONERS: dict[str, type] = {
    "org.apache.kafka.clients.producer.RoundRobinPartitioner": RoundRobinPartitioner,
    "RoundRobinPartitioner": RoundRobinPartitioner,
}
#: Kafka class names that no longer exist in 4.x, with what to do instead.
REMOVED_PARTITIONERS: dict[str, str] = {
    name: f"{name.rsplit('.', 1)[-1]} was removed in Kafka 4.0 (KIP-794); leave "
          "partitioner.class unset to get the built-in uniform sticky partitioner"
    for name in ("org.apache.kafka.clients.producer.internals.DefaultPartitioner",
                 "org.apache.kafka.clients.producer.UniformStickyPartitioner")
}


def load_partitioner(spec: Any) -> Partitioner | None:
    """Turn a ``partitioner.class`` value into a partitioner object.

    Accepts None (built-in), a Kafka class name we provide, a dotted path
    (``package.module.Class``), a class (instantiated without arguments), an instance with
    ``partition()``, or a plain function.  Anything else is a :class:`ConfigError`.
    """
    if spec is None:
        return None
    original = spec
    if isinstance(spec, str):
        if spec in KAFKA_PARTITIONERS:
            return KAFKA_PARTITIONERS[spec]()
        if spec in REMOVED_PARTITIONERS:
            raise ConfigError("partitioner.class", spec, REMOVED_PARTITIONERS[spec])
        # Text resolves through the allow-list only (issue 8): nothing is imported.
        from producer_core import plugins

        try:
            spec = plugins.resolve("partitioner", spec.strip())
        except LookupError as exc:
            raise ConfigError("partitioner.class", original,
                              f"Class {original} cannot be found: {exc}") from None
    if isinstance(spec, type):
        if not callable(getattr(spec, "partition", None)):
            raise ConfigError("partitioner.class", original,
                              f"{spec.__qualname__} has no partition() method")
        try:
            spec = spec()
        except Exception as exc:  # noqa: BLE001 - reported as a config error
            raise ConfigError("partitioner.class", original,
                              f"could not instantiate {spec.__qualname__}: {exc}") from None
    if callable(getattr(spec, "partition", None)):
        return spec
    if callable(spec):
        return FunctionPartitioner(spec)
    raise ConfigError("partitioner.class", original,
                      "Expected a partitioner class, instance, function or dotted path")


def check_custom_partition(partition: Any, num_partitions: int, topic: str) -> int:
    """Validate what a custom partitioner returned (Kafka rejects negative numbers; an
    index past the topic's partitions is equally unusable)."""
    if isinstance(partition, bool) or not isinstance(partition, int):
        raise PartitionOutOfRangeError(
            f"The partitioner returned {partition!r} for topic {topic}; it must return an int")
    if not 0 <= partition < num_partitions:
        raise PartitionOutOfRangeError(partition, num_partitions, topic)
    return partition


__all__ = [
    "KAFKA_PARTITIONERS",
    "REMOVED_PARTITIONERS",
    "BuiltInPartitioner",
    "FunctionPartitioner",
    "Partitioner",
    "RoundRobinPartitioner",
    "StickyPartitionInfo",
    "check_custom_partition",
    "load_partitioner",
    "murmur2",
    "partition_for_key",
    "to_positive",
]
